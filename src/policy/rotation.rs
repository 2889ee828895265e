//! Policy rotation: accepting version N+1 only when a threshold of distinct
//! `admins` keys of version N signed it *and* a threshold of N+1's own
//! `admins` did (TUF root rotation: the new root must be signed by the old
//! root's threshold and its own, see `DESIGN.md` §3.1 and audit-anchors §3),
//! and replaying a chain of such rotations from a pinned first version.

use crate::envelope::{Envelope, EnvelopeError};
use crate::statement::{Predicate, Statement, StatementError};

use super::messages as msg;
use super::{Policy, PolicyErrors};

/// Why a signed policy was not accepted as the successor.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RotationError {
    /// Too few distinct admin keys of `version` (the policy in force, or
    /// the new one) signed.
    #[error("{}", msg::rotation_below_threshold(*valid, *needed, role, *version))]
    BelowThreshold {
        valid: usize,
        needed: u32,
        role: String,
        version: u64,
    },
    #[error("{}", msg::rotation_envelope(&.0.to_string()))]
    Envelope(EnvelopeError),
    /// Covers a document whose digest differs from the predicate's
    /// `document_digest` or from the subject: `Statement::parse_verified`
    /// refuses those.
    #[error("{}", msg::rotation_statement(&.0.to_string()))]
    Statement(StatementError),
    #[error("{}", msg::rotation_not_policy(kind))]
    NotPolicy { kind: &'static str },
    #[error("{}", msg::rotation_version_disagrees(*predicate, *document))]
    VersionDisagrees { predicate: u64, document: u64 },
    #[error("{}", msg::rotation_invalid_document(&.0.to_string()))]
    InvalidDocument(PolicyErrors),
    #[error("{}", msg::rotation_skipped(*current, *next))]
    SkippedVersion { current: u64, next: u64 },
    #[error("{}", msg::rotation_same_version(*current))]
    SameVersion { current: u64 },
    #[error("{}", msg::rotation_rollback(*current, *next))]
    Rollback { current: u64, next: u64 },
    #[error("{}", msg::rotation_origin_changed(current, next))]
    OriginChanged { current: String, next: String },
    #[error("{}", msg::rotation_chain(*index, *version, &source.to_string()))]
    Chain {
        index: usize,
        version: u64,
        source: Box<RotationError>,
    },
}

/// Accepts `envelope` as the successor of `current`, or says why not.
///
/// The envelope must carry signatures by a threshold of `current`'s admin
/// keys and by a threshold of the new version's own admin keys (TUF root
/// rotation), so a new policy cannot name admins who never signed for it.
/// Only the keys of an admin role are tried; a signature by any other key is
/// ignored rather than refused, and one key signing twice counts once, so
/// each threshold is a count of distinct admin keys.
pub fn verify_successor(current: &Policy, envelope: &Envelope) -> Result<Policy, RotationError> {
    let payload = admin_signed(current, envelope)?;
    let statement = Statement::parse_verified(payload).map_err(RotationError::Statement)?;
    let Predicate::Policy(predicate) = statement.predicate else {
        return Err(RotationError::NotPolicy {
            kind: statement.predicate.kind().name(),
        });
    };

    let file = format!("policy-v{}.toml", predicate.version);
    let next = Policy::parse(&predicate.document, &file).map_err(RotationError::InvalidDocument)?;
    if next.version != predicate.version {
        return Err(RotationError::VersionDisagrees {
            predicate: predicate.version,
            document: next.version,
        });
    }
    let (now, next_version) = (current.version, next.version);
    if next_version == now {
        return Err(RotationError::SameVersion { current: now });
    }
    if next_version < now {
        return Err(RotationError::Rollback {
            current: now,
            next: next_version,
        });
    }
    if Some(next_version) != now.checked_add(1) {
        return Err(RotationError::SkippedVersion {
            current: now,
            next: next_version,
        });
    }
    if next.origin != current.origin {
        return Err(RotationError::OriginChanged {
            current: current.origin.clone(),
            next: next.origin,
        });
    }
    admin_signed(&next, envelope)?;
    Ok(next)
}

/// The envelope's payload when a threshold of distinct keys of `policy`'s
/// admin role signed it.
fn admin_signed<'e>(policy: &Policy, envelope: &'e Envelope) -> Result<&'e [u8], RotationError> {
    let admins = policy.members(&policy.admins.role);
    let candidates: Vec<_> = admins.iter().map(|o| o.key.verifying_key()).collect();
    let needed = policy.admins.threshold;
    let below = |valid: usize| RotationError::BelowThreshold {
        valid,
        needed,
        role: policy.admins.role.clone(),
        version: policy.version,
    };
    let verified = match envelope.verify(&candidates) {
        Ok(verified) => verified,
        Err(EnvelopeError::NoValidSignature) => return Err(below(0)),
        Err(other) => return Err(RotationError::Envelope(other)),
    };
    let valid = verified.signers.len();
    if u32::try_from(valid).is_ok_and(|v| v < needed) {
        return Err(below(valid));
    }
    Ok(verified.payload)
}

/// Replays rotations from a pinned `genesis`, each envelope checked against
/// the policy before it; returns the policy in force at the end.
pub fn verify_chain(genesis: &Policy, envelopes: &[Envelope]) -> Result<Policy, RotationError> {
    let mut current = genesis.clone();
    for (index, envelope) in envelopes.iter().enumerate() {
        current = verify_successor(&current, envelope).map_err(|e| RotationError::Chain {
            index,
            version: current.version,
            source: Box::new(e),
        })?;
    }
    Ok(current)
}
