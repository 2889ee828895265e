//! in-toto Statement v1 and tollgate's predicates (DESIGN.md §3.1).
//!
//! A statement is parsed only from payload bytes that an envelope has already
//! verified ([`Statement::parse_verified`]). The statement layer ignores
//! unknown fields, as in-toto requires; tollgate's own predicates are parsed
//! strictly (unknown or duplicate fields refused) from the *same* bytes, then
//! `_type`, `predicateType` and `subject` are checked against the predicate.

mod describe;
mod predicates;

pub use predicates::{
    Binding, Decision, DecisionAction, Deployment, DeploymentStatus, DeploymentTarget, EvidenceRef,
    GateResult, GateStatus, Measurement, ObservedCheckpoint, PolicyPredicate, PromotionRequest,
    RootHash, Snapshot, SourceRef,
};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::digest::Digest;

/// The in-toto Statement v1 type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// Versioned predicate type URIs, defined once here.
pub mod predicate_type {
    pub const PROMOTION_REQUEST: &str = "https://tollgate.dev/promotion-request/v1";
    pub const GATE_RESULT: &str = "https://tollgate.dev/gate-result/v1";
    pub const SNAPSHOT: &str = "https://tollgate.dev/snapshot/v1";
    pub const DECISION: &str = "https://tollgate.dev/decision/v1";
    pub const DEPLOYMENT: &str = "https://tollgate.dev/deployment/v1";
    pub const POLICY: &str = "https://tollgate.dev/policy/v1";
}

/// Why verified payload bytes are not an acceptable statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("payload is not an in-toto statement: {0}")]
    Malformed(String),
    #[error("`_type` is `{0}`; expected `{STATEMENT_TYPE}`")]
    WrongType(String),
    #[error("predicate type `{0}` is not one tollgate accepts")]
    UnknownPredicateType(String),
    #[error("predicate of type `{kind}` is invalid: {problem}")]
    BadPredicate { kind: &'static str, problem: String },
    #[error("statement has no subject; it must name the artifact by sha256 digest")]
    NoSubject,
    #[error("subject `{0}` must carry exactly one digest, `sha256`, as 64 lowercase hex")]
    BadSubjectDigest(String),
    #[error("{0}")]
    SubjectMismatch(String),
    #[error("field `{field}` is invalid: {problem}")]
    BadField {
        field: &'static str,
        problem: String,
    },
}

/// One subject: a name and the sha256 digest it is matched by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub name: String,
    pub digest: Digest,
}

/// The kinds of statement, in the words the policy's `[signers]` table and
/// people use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StatementKind {
    PromotionRequest,
    GateResult,
    Snapshot,
    Decision,
    Deployment,
    Policy,
}

impl StatementKind {
    pub const fn name(self) -> &'static str {
        match self {
            Self::PromotionRequest => "promotion-request",
            Self::GateResult => "gate-result",
            Self::Snapshot => "snapshot",
            Self::Decision => "decision",
            Self::Deployment => "deployment",
            Self::Policy => "policy",
        }
    }

    pub const fn predicate_type(self) -> &'static str {
        match self {
            Self::PromotionRequest => predicate_type::PROMOTION_REQUEST,
            Self::GateResult => predicate_type::GATE_RESULT,
            Self::Snapshot => predicate_type::SNAPSHOT,
            Self::Decision => predicate_type::DECISION,
            Self::Deployment => predicate_type::DEPLOYMENT,
            Self::Policy => predicate_type::POLICY,
        }
    }

    fn from_predicate_type(uri: &str) -> Option<Self> {
        [
            Self::PromotionRequest,
            Self::GateResult,
            Self::Snapshot,
            Self::Decision,
            Self::Deployment,
            Self::Policy,
        ]
        .into_iter()
        .find(|k| k.predicate_type() == uri)
    }
}

/// The typed predicate of a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    PromotionRequest(PromotionRequest),
    GateResult(GateResult),
    Snapshot(Snapshot),
    Decision(Decision),
    Deployment(Deployment),
    Policy(PolicyPredicate),
}

impl Predicate {
    pub const fn kind(&self) -> StatementKind {
        match self {
            Self::PromotionRequest(_) => StatementKind::PromotionRequest,
            Self::GateResult(_) => StatementKind::GateResult,
            Self::Snapshot(_) => StatementKind::Snapshot,
            Self::Decision(_) => StatementKind::Decision,
            Self::Deployment(_) => StatementKind::Deployment,
            Self::Policy(_) => StatementKind::Policy,
        }
    }
}

/// An in-toto Statement v1 carrying one of tollgate's predicates.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub subject: Vec<Subject>,
    pub predicate: Predicate,
}

#[derive(Deserialize)]
struct WireStatementIn<'a> {
    #[serde(rename = "_type", borrow)]
    type_: std::borrow::Cow<'a, str>,
    subject: Vec<WireSubject>,
    #[serde(rename = "predicateType", borrow)]
    predicate_type: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    predicate: &'a RawValue,
}

#[derive(Serialize)]
struct WireStatementOut<'a, P: Serialize> {
    #[serde(rename = "_type")]
    type_: &'static str,
    subject: Vec<WireSubject>,
    #[serde(rename = "predicateType")]
    predicate_type: &'static str,
    predicate: &'a P,
}

#[derive(Serialize, Deserialize)]
struct WireSubject {
    name: String,
    digest: std::collections::BTreeMap<String, String>,
}

fn parse_predicate<'a, T: Deserialize<'a>>(
    raw: &'a RawValue,
    kind: StatementKind,
) -> Result<T, StatementError> {
    serde_json::from_str(raw.get()).map_err(|e| StatementError::BadPredicate {
        kind: kind.name(),
        problem: e.to_string(),
    })
}

impl Statement {
    pub fn new(subject: Vec<Subject>, predicate: Predicate) -> Self {
        Self { subject, predicate }
    }

    /// A statement about one artifact.
    pub fn about(name: &str, digest: Digest, predicate: Predicate) -> Self {
        Self::new(
            vec![Subject {
                name: name.to_owned(),
                digest,
            }],
            predicate,
        )
    }

    /// The policy statement for a policy document (`version` as written in it).
    pub fn policy(version: u64, document: &str) -> Self {
        let document_digest = Digest::of(document.as_bytes());
        Self::about(
            "policy.toml",
            document_digest,
            Predicate::Policy(PolicyPredicate {
                version,
                document_digest,
                document: document.to_owned(),
            }),
        )
    }

    pub fn kind(&self) -> StatementKind {
        self.predicate.kind()
    }

    /// The first subject's digest: the artifact this statement is about.
    pub fn artifact(&self) -> Option<Digest> {
        self.subject.first().map(|s| s.digest)
    }

    /// Parses payload bytes that an envelope has verified. Never call this on
    /// bytes that have not been verified: that is the cosign false-positive
    /// class (CVE-2022-35929).
    pub fn parse_verified(payload: &[u8]) -> Result<Self, StatementError> {
        let wire: WireStatementIn<'_> = serde_json::from_slice(payload)
            .map_err(|e| StatementError::Malformed(e.to_string()))?;
        if wire.type_ != STATEMENT_TYPE {
            return Err(StatementError::WrongType(wire.type_.into_owned()));
        }
        let kind = StatementKind::from_predicate_type(&wire.predicate_type)
            .ok_or_else(|| StatementError::UnknownPredicateType(wire.predicate_type.to_string()))?;
        if wire.subject.is_empty() {
            return Err(StatementError::NoSubject);
        }
        let subject = wire
            .subject
            .into_iter()
            .map(|s| {
                let sha = match (s.digest.len(), s.digest.get("sha256")) {
                    (1, Some(hex)) => Digest::from_hex(hex).ok(),
                    _ => None,
                };
                sha.map(|digest| Subject {
                    name: s.name.clone(),
                    digest,
                })
                .ok_or(StatementError::BadSubjectDigest(s.name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let raw = wire.predicate;
        let predicate = match kind {
            StatementKind::PromotionRequest => {
                Predicate::PromotionRequest(parse_predicate(raw, kind)?)
            }
            StatementKind::GateResult => Predicate::GateResult(parse_predicate(raw, kind)?),
            StatementKind::Snapshot => Predicate::Snapshot(parse_predicate(raw, kind)?),
            StatementKind::Decision => Predicate::Decision(parse_predicate(raw, kind)?),
            StatementKind::Deployment => Predicate::Deployment(parse_predicate(raw, kind)?),
            StatementKind::Policy => Predicate::Policy(parse_predicate(raw, kind)?),
        };
        let statement = Self { subject, predicate };
        statement.check()?;
        Ok(statement)
    }

    /// Field rules that serde cannot express, and agreement between the
    /// subject and the predicate.
    fn check(&self) -> Result<(), StatementError> {
        match &self.predicate {
            Predicate::PromotionRequest(p) => p.check(),
            Predicate::GateResult(p) => p.check(),
            Predicate::Snapshot(p) => {
                p.check()?;
                self.require_subject(p.artifact, "snapshot `artifact`")
            }
            Predicate::Decision(p) => {
                p.check()?;
                if let DecisionAction::Rollback { to, .. } = &p.action {
                    self.require_subject(*to, "rollback `to`")?;
                }
                Ok(())
            }
            Predicate::Deployment(p) => p.check(),
            Predicate::Policy(p) => {
                if Digest::of(p.document.as_bytes()) != p.document_digest {
                    return Err(StatementError::SubjectMismatch(
                        "policy `document_digest` is not the sha256 of `document`".into(),
                    ));
                }
                self.require_subject(p.document_digest, "policy `document_digest`")
            }
        }
    }

    fn require_subject(&self, digest: Digest, what: &str) -> Result<(), StatementError> {
        if self.subject.iter().any(|s| s.digest == digest) {
            Ok(())
        } else {
            Err(StatementError::SubjectMismatch(format!(
                "{what} {digest} is not among the statement's subjects"
            )))
        }
    }

    /// The payload bytes to sign (compact JSON; signed once, never re-serialised).
    pub fn to_payload(&self) -> Vec<u8> {
        let subject = self
            .subject
            .iter()
            .map(|s| WireSubject {
                name: s.name.clone(),
                digest: std::iter::once(("sha256".to_owned(), s.digest.to_hex())).collect(),
            })
            .collect::<Vec<_>>();
        let predicate_type = self.kind().predicate_type();
        match &self.predicate {
            Predicate::PromotionRequest(p) => serialize(subject, predicate_type, p),
            Predicate::GateResult(p) => serialize(subject, predicate_type, p),
            Predicate::Snapshot(p) => serialize(subject, predicate_type, p),
            Predicate::Decision(p) => serialize(subject, predicate_type, p),
            Predicate::Deployment(p) => serialize(subject, predicate_type, p),
            Predicate::Policy(p) => serialize(subject, predicate_type, p),
        }
    }
}

fn serialize<P: Serialize>(
    subject: Vec<WireSubject>,
    predicate_type: &'static str,
    predicate: &P,
) -> Vec<u8> {
    let wire = WireStatementOut {
        type_: STATEMENT_TYPE,
        subject,
        predicate_type,
        predicate,
    };
    // Our predicate types serialise infallibly (no non-string map keys, no
    // non-finite floats: those are refused when a value is built).
    serde_json::to_vec(&wire).unwrap_or_default()
}

/// A random 128-bit nonce as 32 lowercase hex characters.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests;
