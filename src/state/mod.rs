//! The state of every promotion as a deterministic fold over the verified
//! log (DESIGN.md §3.4): `fold(policy, entries, now)`.
//!
//! The store uses [`Folder::apply`] to refuse invalid entries before they are
//! committed; clients use [`fold`] to compute readiness themselves, so a
//! compromised store cannot show a fake approval. Nothing here does I/O.

mod changes;
mod entry;
mod fold;
mod model;
mod readiness;
mod reasons;
mod rejudge;
pub mod saved_map;
mod summary;

pub use changes::Changes;
pub use entry::{EntryError, KeyRing, VerifiedEntry};
pub use fold::{FoldRestored, FoldSaved, Folder, check_observed_root, gate_results_digest};
pub use model::{
    ApprovalView, DecisionRecord, DecisionRef, DeploymentRecord, GateRecord, GateState,
    GateVerdict, IgnoredEntry, Promotion, PromotionStatus, RollbackRecord, Running, ServiceState,
    Standing, State, UnapprovedDeployment, Via, WaiverView,
};
pub use readiness::{
    evaluate, evaluate_judged, evaluate_since, judge_one, summarize, summarize_since,
};
pub use reasons::{Blocker, Refusal, StaleReason};
pub use rejudge::{DisputedGate, Rejudgement, Rejudgements, status_word};
pub use saved_map::{SavedBytes, SavedMap};
pub use summary::{Names, Summaries, Summary};

use time::OffsetDateTime;

use crate::policy::Policy;

/// Folds verified entries (in log order) under `policy` and evaluates
/// readiness at `now`. Entries the rules refuse are listed in
/// [`State::ignored`] with their reason; they never count.
pub fn fold(policy: &Policy, entries: &[VerifiedEntry], now: OffsetDateTime) -> State {
    let mut folder = Folder::new(std::sync::Arc::new(policy.clone()));
    folder.apply_all(entries);
    folder.state_at(now)
}
