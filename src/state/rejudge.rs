//! What a client found when it re-ran the evaluation of gate results from
//! their content-addressed evidence (issue 9 §3): an input to readiness, so
//! the fold stays pure. The client (`client::evidence`) fetches the blobs
//! and runs the versioned evaluator; readiness only reads the outcome.
//!
//! A gate result that is absent from [`Rejudgements`] was not re-judged
//! (the store's own fold, a manual gate): its stated verdict stands.

use std::collections::BTreeMap;

use crate::digest::Digest;
use crate::statement::GateStatus;

/// Re-judgements by the entry id of the gate result they judge.
pub type Rejudgements = BTreeMap<Digest, Rejudgement>;

/// The outcome of re-running one gate result's evaluation (serialised for
/// the client's kept judgements, `client::evidence::judged`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Rejudgement {
    /// The evidence gives the stated verdict.
    Agrees,
    /// The evidence gives another verdict than the signed one.
    Disputed {
        stated: GateStatus,
        computed: GateStatus,
        /// The evaluator that computed it (`tollgate-evidence/N`).
        evaluator: String,
        /// The computed verdict's summary.
        summary: String,
    },
    /// The store does not hold evidence the gate result cites.
    EvidenceMissing { digests: Vec<Digest> },
    /// The evaluation could not be re-run here (store unreachable and the
    /// blob not cached, an evaluator this client does not have).
    NotRejudged { problem: String },
}

impl Rejudgement {
    /// Whether the stated verdict may be trusted.
    pub fn agrees(&self) -> bool {
        matches!(self, Self::Agrees)
    }
}

/// A gate result whose signed verdict its own evidence contradicts: an
/// audit finding naming the key that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputedGate {
    /// The gate result's entry id and log index.
    pub entry: Digest,
    pub index: u64,
    pub promotion: Digest,
    pub gate: String,
    /// Who signed the gate result (a CI key).
    pub signer: String,
    pub stated: GateStatus,
    pub computed: GateStatus,
    pub evaluator: String,
    pub summary: String,
}

/// A gate status in lower case, as the CLI and the policy spell it.
pub const fn status_word(status: GateStatus) -> &'static str {
    match status {
        GateStatus::Pass => "pass",
        GateStatus::Fail => "fail",
        GateStatus::Warn => "warn",
        GateStatus::Error => "error",
    }
}
