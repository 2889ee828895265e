//! The predicate bodies. Each is parsed with unknown and duplicate fields
//! refused, and carries a `check` for the rules serde cannot express.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use super::StatementError;
use crate::digest::Digest;
use crate::encoding;

fn bad(field: &'static str, problem: impl Into<String>) -> StatementError {
    StatementError::BadField {
        field,
        problem: problem.into(),
    }
}

/// Names of services, environments, gates and roles: 1–128 printable
/// characters without whitespace, so they show unambiguously on a screen.
fn check_name(field: &'static str, value: &str) -> Result<(), StatementError> {
    if value.is_empty() || value.len() > 128 {
        return Err(bad(field, "must be 1 to 128 characters"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(
            field,
            format!("`{value}` contains whitespace or control characters"),
        ));
    }
    Ok(())
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), StatementError> {
    if value.len() > max {
        return Err(bad(
            field,
            format!("is {} bytes; at most {max} are accepted", value.len()),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(bad(field, "contains control characters"));
    }
    Ok(())
}

fn check_nonce(value: &str) -> Result<(), StatementError> {
    if value.len() < 16 || value.len() > 64 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad("nonce", "must be 16 to 64 ASCII letters or digits"));
    }
    Ok(())
}

/// A Merkle root as it appears in checkpoints: standard base64 of 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RootHash(pub [u8; 32]);

impl Serialize for RootHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encoding::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for RootHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = encoding::decode_standard(&text).map_err(serde::de::Error::custom)?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| serde::de::Error::custom("a root hash is 32 bytes"))?;
        Ok(Self(bytes))
    }
}

/// Where a release was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    pub repo: String,
    pub commit: String,
}

/// CI or a release manager asks to move an artifact into an environment.
/// The promotion's id is the entry id of this statement's envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionRequest {
    pub service: String,
    pub version: String,
    /// `None` when the target environment is the first in the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub to: String,
    pub source: SourceRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_notes: Option<Digest>,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    pub nonce: String,
}

impl PromotionRequest {
    pub(super) fn check(&self) -> Result<(), StatementError> {
        check_name("service", &self.service)?;
        check_name("version", &self.version)?;
        if let Some(from) = &self.from {
            check_name("from", from)?;
            if from == &self.to {
                return Err(bad("to", "must differ from `from`"));
            }
        }
        check_name("to", &self.to)?;
        check_text("source.repo", &self.source.repo, 512)?;
        check_text("source.commit", &self.source.commit, 128)?;
        check_nonce(&self.nonce)
    }
}

/// A gate's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateStatus {
    Pass,
    Fail,
    Warn,
    Error,
}

/// One measured value and the threshold it was held to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    pub name: String,
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A document a gate result rests on, stored in the evidence store by digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRef {
    pub kind: String,
    pub media_type: String,
    pub digest: Digest,
}

/// The result of one gate for one promotion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateResult {
    pub promotion: Digest,
    pub gate: String,
    pub status: GateStatus,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measurements: Vec<Measurement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub produced_at: OffsetDateTime,
    /// The evaluator (`crate::evidence::EVALUATOR_VERSION`) that computed
    /// the status from the evidence; absent for a status a person stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluator: Option<String>,
}

impl GateResult {
    pub(super) fn check(&self) -> Result<(), StatementError> {
        check_name("gate", &self.gate)?;
        check_text("summary", &self.summary, 4096)?;
        if let Some(r) = &self.remediation {
            check_text("remediation", r, 4096)?;
        }
        if let Some(e) = &self.evaluator {
            check_name("evaluator", e)?;
        }
        for m in &self.measurements {
            check_name("measurements[].name", &m.name)?;
            if !m.value.is_finite() || m.threshold.is_some_and(|t| !t.is_finite()) {
                return Err(bad("measurements[]", "values must be finite numbers"));
            }
        }
        for e in &self.evidence {
            check_name("evidence[].kind", &e.kind)?;
            check_name("evidence[].media_type", &e.media_type)?;
        }
        Ok(())
    }
}

/// What an environment looked like at one moment, for drift detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub environment: String,
    pub service: String,
    #[serde(with = "time::serde::rfc3339")]
    pub captured_at: OffsetDateTime,
    pub artifact: Digest,
    #[serde(default)]
    pub config: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub flags: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub dependencies: BTreeMap<String, String>,
    /// Container images by name, each pinned by digest. Absent in
    /// snapshots that name none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<String, Digest>,
    /// `hmac-sha256:<key id>:<hex>` per secret name; never the secret.
    #[serde(default)]
    pub secret_fingerprints: BTreeMap<String, String>,
}

impl Snapshot {
    pub(super) fn check(&self) -> Result<(), StatementError> {
        check_name("environment", &self.environment)?;
        check_name("service", &self.service)?;
        for name in self.images.keys() {
            check_name("images", name)?;
        }
        for (name, fingerprint) in &self.secret_fingerprints {
            let mut parts = fingerprint.splitn(3, ':');
            let ok = parts.next() == Some("hmac-sha256")
                && parts.next().is_some_and(|k| !k.is_empty())
                && parts.next().is_some_and(|h| {
                    h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                });
            if !ok {
                return Err(bad(
                    "secret_fingerprints",
                    format!("`{name}` must be `hmac-sha256:<key id>:<64 hex>`, never a secret"),
                ));
            }
        }
        Ok(())
    }
}

/// The log state an operator saw when deciding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: RootHash,
}

/// What a decision was made against; a change to any of these makes an
/// approval stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    pub policy: Digest,
    /// Digest over the ids of the gate results current when deciding.
    pub gate_results: Digest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Digest>,
}

/// What a decision does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionAction {
    Approve {
        promotion: Digest,
    },
    Reject {
        promotion: Digest,
    },
    /// Withdraws an earlier decision, named by its entry id.
    Revoke {
        decision: Digest,
    },
    Waive {
        promotion: Digest,
        gate: String,
        until: OffsetDateTime,
    },
    Rollback {
        environment: String,
        service: String,
        from: Digest,
        to: Digest,
    },
}

impl DecisionAction {
    pub const fn kind_name(&self) -> &'static str {
        match self {
            Self::Approve { .. } => "approve",
            Self::Reject { .. } => "reject",
            Self::Revoke { .. } => "revoke",
            Self::Waive { .. } => "waive",
            Self::Rollback { .. } => "rollback",
        }
    }

    /// The promotion this decision is about, if it is about one.
    pub const fn promotion(&self) -> Option<&Digest> {
        match self {
            Self::Approve { promotion }
            | Self::Reject { promotion }
            | Self::Waive { promotion, .. } => Some(promotion),
            Self::Revoke { .. } | Self::Rollback { .. } => None,
        }
    }
}

/// A signed decision by an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireDecision", into = "WireDecision")]
pub struct Decision {
    pub action: DecisionAction,
    /// The role the signer acts in; it must be one of theirs.
    pub role: String,
    pub rationale: String,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub nonce: String,
    pub bound: Binding,
    pub observed: ObservedCheckpoint,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDecision {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    promotion: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revokes: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gate: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    until: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_digest: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_digest: Option<Digest>,
    role: String,
    rationale: String,
    #[serde(with = "time::serde::rfc3339")]
    issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    nonce: String,
    bound: Binding,
    observed_checkpoint: ObservedCheckpoint,
}

impl TryFrom<WireDecision> for Decision {
    type Error = String;

    fn try_from(w: WireDecision) -> Result<Self, String> {
        let extra = |allowed: &[&str]| -> Result<(), String> {
            let present = [
                ("promotion", w.promotion.is_some()),
                ("revokes", w.revokes.is_some()),
                ("environment", w.environment.is_some()),
                ("service", w.service.is_some()),
                ("gate", w.gate.is_some()),
                ("until", w.until.is_some()),
                ("from_digest", w.from_digest.is_some()),
                ("to_digest", w.to_digest.is_some()),
            ];
            match present
                .iter()
                .find(|(name, set)| *set && !allowed.contains(name))
            {
                Some((name, _)) => Err(format!("a `{}` decision has no `{name}` field", w.kind)),
                None => Ok(()),
            }
        };
        let need = |name: &str| format!("a `{}` decision needs `{name}`", w.kind);
        let action = match w.kind.as_str() {
            "approve" | "reject" => {
                extra(&["promotion"])?;
                let promotion = w.promotion.ok_or_else(|| need("promotion"))?;
                if w.kind == "approve" {
                    DecisionAction::Approve { promotion }
                } else {
                    DecisionAction::Reject { promotion }
                }
            }
            "revoke" => {
                extra(&["revokes"])?;
                DecisionAction::Revoke {
                    decision: w.revokes.ok_or_else(|| need("revokes"))?,
                }
            }
            "waive" => {
                extra(&["promotion", "gate", "until"])?;
                DecisionAction::Waive {
                    promotion: w.promotion.ok_or_else(|| need("promotion"))?,
                    gate: w.gate.clone().ok_or_else(|| need("gate"))?,
                    until: w.until.ok_or_else(|| need("until"))?,
                }
            }
            "rollback" => {
                extra(&["environment", "service", "from_digest", "to_digest"])?;
                DecisionAction::Rollback {
                    environment: w.environment.clone().ok_or_else(|| need("environment"))?,
                    service: w.service.clone().ok_or_else(|| need("service"))?,
                    from: w.from_digest.ok_or_else(|| need("from_digest"))?,
                    to: w.to_digest.ok_or_else(|| need("to_digest"))?,
                }
            }
            other => {
                return Err(format!(
                    "unknown decision kind `{other}`; expected approve, reject, revoke, waive or rollback"
                ));
            }
        };
        Ok(Self {
            action,
            role: w.role,
            rationale: w.rationale,
            issued_at: w.issued_at,
            expires_at: w.expires_at,
            nonce: w.nonce,
            bound: w.bound,
            observed: w.observed_checkpoint,
        })
    }
}

impl From<Decision> for WireDecision {
    fn from(d: Decision) -> Self {
        let mut w = Self {
            kind: d.action.kind_name().to_owned(),
            promotion: None,
            revokes: None,
            environment: None,
            service: None,
            gate: None,
            until: None,
            from_digest: None,
            to_digest: None,
            role: d.role,
            rationale: d.rationale,
            issued_at: d.issued_at,
            expires_at: d.expires_at,
            nonce: d.nonce,
            bound: d.bound,
            observed_checkpoint: d.observed,
        };
        match d.action {
            DecisionAction::Approve { promotion } | DecisionAction::Reject { promotion } => {
                w.promotion = Some(promotion);
            }
            DecisionAction::Revoke { decision } => w.revokes = Some(decision),
            DecisionAction::Waive {
                promotion,
                gate,
                until,
            } => {
                w.promotion = Some(promotion);
                w.gate = Some(gate);
                w.until = Some(until);
            }
            DecisionAction::Rollback {
                environment,
                service,
                from,
                to,
            } => {
                w.environment = Some(environment);
                w.service = Some(service);
                w.from_digest = Some(from);
                w.to_digest = Some(to);
            }
        }
        w
    }
}

impl Decision {
    pub(super) fn check(&self) -> Result<(), StatementError> {
        check_name("role", &self.role)?;
        check_text("rationale", &self.rationale, 4096)?;
        if self.rationale.trim().is_empty() {
            return Err(bad(
                "rationale",
                "must say why; an empty rationale is not accepted",
            ));
        }
        check_nonce(&self.nonce)?;
        if self.expires_at <= self.issued_at {
            return Err(bad("expires_at", "must be after `issued_at`"));
        }
        match &self.action {
            DecisionAction::Waive { gate, until, .. } => {
                check_name("gate", gate)?;
                if *until <= self.issued_at {
                    return Err(bad("until", "must be after `issued_at`"));
                }
            }
            DecisionAction::Rollback {
                environment,
                service,
                from,
                to,
            } => {
                check_name("environment", environment)?;
                check_name("service", service)?;
                if from == to {
                    return Err(bad(
                        "to_digest",
                        "a rollback must change the running artifact",
                    ));
                }
            }
            DecisionAction::Approve { .. }
            | DecisionAction::Reject { .. }
            | DecisionAction::Revoke { .. } => {}
        }
        Ok(())
    }
}

/// How a deployment went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentStatus {
    Succeeded,
    Failed,
}

/// What was deployed: a promotion or a rollback decision, by entry id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum DeploymentTarget {
    Promotion(Digest),
    Rollback(Digest),
}

/// A deployment result reported by the deployer or CI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    pub target: DeploymentTarget,
    pub environment: String,
    pub service: String,
    pub status: DeploymentStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl Deployment {
    pub(super) fn check(&self) -> Result<(), StatementError> {
        check_name("environment", &self.environment)?;
        check_name("service", &self.service)
    }
}

/// A policy version, signed by the admins threshold of the version before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyPredicate {
    pub version: u64,
    pub document_digest: Digest,
    pub document: String,
}
