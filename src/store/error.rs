//! Every user-facing string of the store core: why a submission or an
//! upload was refused ([`Refused`]: message, HTTP status, stable code and
//! remediation) and why the store cannot run ([`DatabaseError`]).

use std::path::PathBuf;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::digest::Digest;
use crate::envelope::EnvelopeError;
use crate::ledger::CheckpointError;
use crate::policy::RotationError;
use crate::state::Refusal;
use crate::statement::StatementError;

fn when(t: &OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// Why the store did not accept a submission or an evidence upload. Bad
/// input is always a 4xx; only [`Refused::Unavailable`] is a 5xx.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    #[error("the {what} is {size} bytes; the limit is {limit} bytes")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("the entry is not a DSSE envelope tollgate accepts: {0}")]
    Malformed(EnvelopeError),
    #[error(
        "the entry's signature by {signer} does not verify: the envelope was altered or signed over different bytes"
    )]
    BadSignature { signer: String },
    #[error(
        "no key in the policy in force signed this entry (key id hints: {hints}); the signer is unknown to this store"
    )]
    UnknownSigner { hints: String },
    #[error("the signed statement is not one tollgate accepts: {0}")]
    InvalidStatement(StatementError),
    #[error("{0}")]
    Forbidden(Refusal),
    #[error("{0}")]
    Invalid(Refusal),
    #[error(
        "the statement's `{field}` is {} but the store's clock says {}; the difference is more than the allowed {max_secs}s",
        when(at),
        when(now)
    )]
    ClockSkew {
        field: &'static str,
        at: OffsetDateTime,
        now: OffsetDateTime,
        max_secs: u64,
    },
    #[error("the policy change is refused: {0}")]
    PolicyRotation(RotationError),
    #[error("the body's digest is {actual}, not the {claimed} it was uploaded as")]
    DigestMismatch { claimed: Digest, actual: Digest },
    #[error(
        "media type `{0}` is not acceptable: use 1 to 255 printable ASCII characters, like `application/sarif+json`"
    )]
    BadMediaType(String),
    #[error("the store cannot accept this now: {0}")]
    Unavailable(String),
    /// Witnesses: the entry is committed but its checkpoint lacks the
    /// witness quorum, so no receipt is given yet (see `store::witnesses`).
    #[error(
        "the entry is recorded at index {index}, but its checkpoint is not cosigned by enough witnesses yet: {why}"
    )]
    NotCosigned { index: u64, why: String },
}

/// Refusals the policy makes about who may do what (403), as opposed to what
/// is invalid about the entry itself (422).
fn is_authorisation(refusal: &Refusal) -> bool {
    matches!(
        refusal,
        Refusal::NotAuthorisedToSign { .. }
            | Refusal::RoleNotHeld { .. }
            | Refusal::RoleNotAccepted { .. }
            | Refusal::SelfApproval { .. }
            | Refusal::SelfWaiver { .. }
            | Refusal::NotYourDecision { .. }
            | Refusal::RollbackNotAllowed(_)
    )
}

impl Refused {
    /// A fold refusal, classified as authorisation (403) or validation (422).
    pub fn from_refusal(refusal: Refusal) -> Self {
        if is_authorisation(&refusal) {
            Self::Forbidden(refusal)
        } else {
            Self::Invalid(refusal)
        }
    }

    pub(super) fn unavailable_commit() -> Self {
        Self::Unavailable(
            "the database did not confirm the write, so the entry was not accepted".into(),
        )
    }

    pub(super) fn shutting_down() -> Self {
        Self::Unavailable("the store is shutting down".into())
    }

    /// The HTTP status the API answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::Malformed(_) | Self::BadMediaType(_) => 400,
            Self::UnknownSigner { .. }
            | Self::Forbidden(_)
            | Self::PolicyRotation(RotationError::BelowThreshold { .. }) => 403,
            Self::BadSignature { .. }
            | Self::InvalidStatement(_)
            | Self::Invalid(_)
            | Self::ClockSkew { .. }
            | Self::PolicyRotation(_)
            | Self::DigestMismatch { .. } => 422,
            Self::Unavailable(_) | Self::NotCosigned { .. } => 503,
        }
    }

    /// The stable, snake_case error code of API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Malformed(EnvelopeError::DuplicateKeyId { .. }) => "duplicate_keyid",
            Self::Malformed(_) => "malformed_entry",
            Self::BadSignature { .. } => "bad_signature",
            Self::UnknownSigner { .. } => "unknown_signer",
            Self::InvalidStatement(_) => "invalid_statement",
            Self::Forbidden(_) => "forbidden",
            Self::Invalid(_) => "invalid_entry",
            Self::ClockSkew { .. } => "clock_skew",
            Self::PolicyRotation(_) => "policy_rotation",
            Self::DigestMismatch { .. } => "digest_mismatch",
            Self::BadMediaType(_) => "bad_media_type",
            Self::Unavailable(_) => "unavailable",
            Self::NotCosigned { .. } => "witnesses_unavailable",
        }
    }

    /// What the submitter can do about it.
    pub fn remediation(&self) -> String {
        match self {
            Self::TooLarge { what, limit, .. } => format!(
                "Send a smaller {what} (at most {limit} bytes); put large documents in evidence blobs and reference them by digest."
            ),
            Self::Malformed(EnvelopeError::DuplicateKeyId { .. }) => "Keep one signature per key: each signer signs once (`tollgate policy sign` refuses a second signature by the same key).".into(),
            Self::Malformed(_) => "Send the envelope exactly as `tollgate` signs it: DSSE JSON with standard base64 and padding, no unknown fields.".into(),
            Self::BadSignature { .. } => "Sign the statement again with your key and submit the new envelope unchanged.".into(),
            Self::UnknownSigner { .. } => "Sign with a key listed in the policy in force (`tollgate key show` prints yours), or ask a policy admin to add it.".into(),
            Self::InvalidStatement(_) => "Create the statement with `tollgate` so it is a valid in-toto Statement v1 with a tollgate predicate.".into(),
            Self::Forbidden(refusal) => match refusal {
                Refusal::SelfApproval { .. } => "Ask another person holding the role to approve; nobody approves their own request.".into(),
                Refusal::SelfWaiver { .. } => "Ask another person holding the waiving role; nobody waives a gate on their own request.".into(),
                Refusal::NotYourDecision { .. } => "Ask the person who signed the decision, or a policy admin, to revoke it.".into(),
                Refusal::RollbackNotAllowed(_) => "Roll back by promoting a known-good release instead, or ask a policy admin to add a rollback rule.".into(),
                _ => "Sign with a role the policy in force gives you for this action (`tollgate status` shows your roles).".into(),
            },
            Self::Invalid(refusal) => match refusal {
                Refusal::ReplayedNonce { .. } => "Sign a fresh decision; every decision carries a new nonce.".into(),
                Refusal::StaleBinding { .. } => "Refresh, review what changed, and sign a fresh decision bound to the current policy, gate results and snapshot.".into(),
                Refusal::UnknownPromotion(_) => "Request the promotion first, or check the promotion id (`tollgate status`).".into(),
                _ => "Refresh your view of the log and correct the statement; the message says what does not fit.".into(),
            },
            Self::ClockSkew { .. } => "Check the clock of the machine that signed (use NTP) and sign again with the current time.".into(),
            Self::PolicyRotation(RotationError::BelowThreshold { role, needed, .. }) => format!(
                "Collect signatures from {needed} distinct members of `{role}` of the policy in force (`tollgate policy sign`), then submit again."
            ),
            Self::PolicyRotation(_) => "Submit the next policy version (exactly one above the one in force, same origin), signed by the admins of the version in force.".into(),
            Self::DigestMismatch { .. } => "Upload the exact bytes the digest was computed over (`sha256sum` the file).".into(),
            Self::BadMediaType(_) => "Send a media type such as `application/json` or `application/sarif+json`.".into(),
            Self::Unavailable(_) => "Try again shortly; nothing was recorded. Submitting the same entry again is safe.".into(),
            Self::NotCosigned { .. } => "Submit the same entry again shortly: it is not lost and will not be duplicated, and you get its cosigned receipt once the witnesses answer. If this persists, the store's operator should check that the [[witnesses]] in serve.toml are running and reachable.".into(),
        }
    }
}

/// Why the store cannot open or serve from its database.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("cannot connect to the database {database}: {source}")]
    Connect {
        database: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot create the directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "schema `{0}` is not a plain lowercase SQL name ([a-z_][a-z0-9_]*, at most 63 characters)"
    )]
    BadSchema(String),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database failed to {action}: {source}")]
    Database {
        action: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("value {0} is too large for the database")]
    OutOfRange(u64),
    #[error(
        "the database holds the negative value {0} where a size or index belongs; it was modified by hand"
    )]
    NegativeValue(i64),
    #[error("configuration: {0}")]
    Config(String),
    #[error(
        "this database belongs to a log whose {what} is {stored}, but the store was started with {configured}; start it with the original {what}, or use a new database"
    )]
    Pinned {
        what: &'static str,
        stored: String,
        configured: String,
    },
    #[error(
        "log entry {index} in the database is damaged or was modified: {problem}; refusing to start"
    )]
    CorruptEntry { index: u64, problem: String },
    #[error(
        "the log in the database has a gap: entry {expected} is missing (found {found} next); refusing to start"
    )]
    Gap { expected: u64, found: u64 },
    #[error(
        "the stored checkpoint for size {size} has root {stored}, but the stored entries hash to {computed}: the log was modified behind the store's back; refusing to start"
    )]
    CheckpointMismatch {
        size: u64,
        stored: String,
        computed: String,
    },
    #[error(
        "the stored checkpoint for size {size} does not verify under this store's log key: {source}; refusing to start"
    )]
    CheckpointUnverifiable {
        size: u64,
        #[source]
        source: CheckpointError,
    },
    #[error(
        "a checkpoint for size {checkpoint} was signed, but the database holds only {entries} entries: entries were deleted; refusing to start"
    )]
    EntriesMissing { entries: u64, checkpoint: u64 },
    #[error("cannot sign a checkpoint: {0}")]
    Sign(#[from] CheckpointError),
    #[error(
        "this store instance holds {served} entries but the database has committed {committed}, and catching up failed; retry shortly"
    )]
    Behind { served: u64, committed: u64 },
    #[error("the store is closed")]
    Closed,
}
