//! The policy document: who the operators are, which roles they hold, what
//! each environment requires before a promotion, how gates are judged, and who
//! may sign the next version of the policy (see `DESIGN.md` §3.3).
//!
//! [`Policy::parse`] reads the TOML strictly and reports every problem it can
//! find at once, each with file, line and column ([`PolicyErrors`]). A
//! [`Policy`] that exists is valid: cross references resolve, thresholds are
//! reachable by distinct keys, and `after` forms no cycle. Its [`digest`] is
//! taken over the exact document bytes, because that is what decisions bind.
//! Successor versions are accepted only through [`rotation`].
//!
//! [`digest`]: Policy::digest

mod error;
pub mod gates;
mod messages;
mod read;
pub mod rotation;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::keys::PublicKey;

pub(crate) use error::line_column;
pub use error::{PolicyError, PolicyErrors};
pub use rotation::{RotationError, verify_chain, verify_successor};

/// The starter policy written by `tollgate init`; documented line by line.
pub const EXAMPLE_POLICY: &str = include_str!("example.toml");

/// Largest policy document accepted, in bytes. Policies are read before
/// anyone is trusted, so the size is bounded like every other input.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// Statement kinds whose signers `[signers]` configures.
pub const SIGNER_KINDS: [&str; 4] = ["promotion-request", "gate-result", "snapshot", "deployment"];

/// A validated policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub version: u64,
    pub origin: String,
    pub admins: AdminRule,
    pub operators: BTreeMap<String, Operator>,
    pub roles: BTreeMap<String, Vec<String>>,
    /// Statement kind → roles allowed to sign it, defaults filled in.
    pub signers: BTreeMap<String, Vec<String>>,
    pub environments: BTreeMap<String, Environment>,
    pub gates: BTreeMap<String, Gate>,
    document: String,
    digest: Digest,
}

/// Who must sign the next version of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRule {
    pub role: String,
    pub threshold: u32,
}

/// A person or machine with a key; the name is what screens show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub name: String,
    pub key: PublicKey,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    pub name: String,
    /// The environment a promotion must have reached first.
    pub after: Option<String>,
    pub gates: Vec<String>,
    pub approvals: Vec<ApprovalRequirement>,
    pub approval_ttl: Option<Duration>,
    pub freeze: Vec<FreezeWindow>,
    pub rollback: Option<RollbackRule>,
}

/// `count` distinct people holding `role` must approve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequirement {
    pub role: String,
    pub count: u32,
}

/// No promotion into the environment from `from` (inclusive) to `to`
/// (exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreezeWindow {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
    pub reason: String,
}

impl FreezeWindow {
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.from <= at && at < self.to
    }
}

/// `count` distinct people holding any of `roles` may roll back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackRule {
    pub roles: Vec<String>,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub name: String,
    pub kind: GateKind,
    pub remediation: Option<String>,
    pub waivable_by: Option<WaiverRule>,
    /// Kind-specific settings (thresholds, allow lists); the gate evaluator
    /// of each kind owns their meaning.
    pub settings: toml::Table,
}

/// How a gate's evidence is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateKind {
    Junit,
    Sarif,
    Sbom,
    Provenance,
    Vex,
    Perf,
    Drift,
    Manual,
}

impl Gate {
    /// The typed settings of this gate. A validated policy has already
    /// checked them, so this fails only for a hand-built [`Gate`].
    pub fn typed_settings(&self) -> Result<gates::GateSettings, String> {
        gates::GateSettings::from_table(self.kind, &self.settings)
    }
}

impl GateKind {
    pub const ALL: [GateKind; 8] = [
        GateKind::Junit,
        GateKind::Sarif,
        GateKind::Sbom,
        GateKind::Provenance,
        GateKind::Vex,
        GateKind::Perf,
        GateKind::Drift,
        GateKind::Manual,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            GateKind::Junit => "junit",
            GateKind::Sarif => "sarif",
            GateKind::Sbom => "sbom",
            GateKind::Provenance => "provenance",
            GateKind::Vex => "vex",
            GateKind::Perf => "perf",
            GateKind::Drift => "drift",
            GateKind::Manual => "manual",
        }
    }
}

impl fmt::Display for GateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not one of [`GateKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown gate kind `{0}`")]
pub struct UnknownGateKind(pub String);

impl FromStr for GateKind {
    type Err = UnknownGateKind;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        GateKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| UnknownGateKind(text.to_owned()))
    }
}

/// A failed gate may be waived by `count` people of `role`, for at most
/// `max_ttl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverRule {
    pub role: String,
    pub count: u32,
    pub max_ttl: Duration,
}

impl Policy {
    /// Parses and validates a policy document; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Policy, PolicyErrors> {
        validate::parse(text, file)
    }

    /// Parses a policy only if its digest is the pinned one; a mismatch is
    /// refused before the document is read.
    pub fn pinned(text: &str, file: &str, expected: Digest) -> Result<Policy, PolicyErrors> {
        let actual = Digest::of(text.as_bytes());
        if actual != expected {
            return Err(PolicyErrors(vec![PolicyError {
                file: file.to_owned(),
                line: 1,
                column: 1,
                message: messages::digest_mismatch(&actual.to_string(), &expected.to_string()),
            }]));
        }
        Self::parse(text, file)
    }

    /// `Digest::of` the exact document bytes; what decisions bind.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    pub fn document(&self) -> &str {
        &self.document
    }

    pub fn operator(&self, name: &str) -> Option<&Operator> {
        self.operators.get(name)
    }

    /// Keys are unique across operators (a validated policy refuses a shared
    /// key), so at most one operator matches.
    pub fn operator_for_key(&self, key: &PublicKey) -> Option<&Operator> {
        self.operators.values().find(|o| o.key == *key)
    }

    pub fn has_role(&self, operator: &str, role: &str) -> bool {
        self.roles
            .get(role)
            .is_some_and(|members| members.iter().any(|m| m == operator))
    }

    /// Roles held by `operator`, in name order.
    pub fn roles_of(&self, operator: &str) -> Vec<&str> {
        self.roles
            .iter()
            .filter(|(_, members)| members.iter().any(|m| m == operator))
            .map(|(role, _)| role.as_str())
            .collect()
    }

    /// Operators holding `role`, in the order the role lists them.
    pub fn members(&self, role: &str) -> Vec<&Operator> {
        self.roles
            .get(role)
            .map(|names| names.iter().filter_map(|n| self.operators.get(n)).collect())
            .unwrap_or_default()
    }

    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.get(name)
    }

    pub fn gate(&self, name: &str) -> Option<&Gate> {
        self.gates.get(name)
    }

    /// Whether `operator` holds a role allowed to sign statements of
    /// `statement_kind` (`promotion-request`, `gate-result`, `snapshot`,
    /// `deployment`). Unknown kinds are never signable.
    pub fn may_sign(&self, statement_kind: &str, operator: &str) -> bool {
        self.signers
            .get(statement_kind)
            .is_some_and(|roles| roles.iter().any(|r| self.has_role(operator, r)))
    }

    /// Environments in promotion order: each after the one it names in
    /// `after`; environments at the same depth are in name order.
    pub fn environment_order(&self) -> Vec<&str> {
        let mut order: Vec<&str> = Vec::with_capacity(self.environments.len());
        let mut frontier: Vec<&str> = self
            .environments
            .values()
            .filter(|e| e.after.is_none())
            .map(|e| e.name.as_str())
            .collect();
        while !frontier.is_empty() {
            order.extend(frontier.iter().copied());
            frontier = self
                .environments
                .values()
                .filter(|e| e.after.as_deref().is_some_and(|a| frontier.contains(&a)))
                .map(|e| e.name.as_str())
                .collect();
        }
        order
    }
}

/// Reads `path` and parses it, naming the file as given in errors.
pub fn check_file(path: &Path) -> Result<Policy, PolicyErrors> {
    use std::io::Read as _;

    let file = path.display().to_string();
    let fail = |message: String| {
        PolicyErrors(vec![PolicyError {
            file: file.clone(),
            line: 1,
            column: 1,
            message,
        }])
    };
    // Read one byte past the limit so an oversized file is reported as
    // such without being read whole.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_POLICY_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(messages::unreadable_file(&e.to_string())))?;
    if bytes.len() > MAX_POLICY_BYTES {
        return Err(fail(messages::too_large(bytes.len(), MAX_POLICY_BYTES)));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        fail(messages::unreadable_file(&format!(
            "it is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )))
    })?;
    Policy::parse(&text, &file)
}

#[cfg(test)]
mod rotation_tests;
#[cfg(test)]
mod tests;
