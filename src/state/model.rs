//! What the fold produces: promotions with their gates, approvals and
//! readiness; environments with what runs where and the last known good.

use std::collections::BTreeMap;
use std::sync::Arc;

use litemap::LiteMap;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::reasons::{Blocker, Refusal, StaleReason};
use super::rejudge::{DisputedGate, Rejudgement};
use super::saved_map::SavedMap;
use crate::digest::Digest;
use crate::statement::{Decision, GateResult, PromotionRequest};

/// The whole derived state at one moment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct State {
    /// Promotions by id (the entry id of the request).
    pub promotions: SavedMap<Promotion>,
    /// Promotion ids in log order.
    pub promotion_order: Vec<Digest>,
    /// Environment name → service name → what runs there.
    pub environments: BTreeMap<String, BTreeMap<String, ServiceState>>,
    /// Every counted decision, by entry id.
    pub decisions: SavedMap<DecisionRecord>,
    /// Ids of the counted decisions about each promotion, in log order.
    pub decisions_by_promotion: BTreeMap<Digest, Vec<Digest>>,
    /// Accepted and proposed rollbacks, by the id of their first decision.
    pub rollbacks: BTreeMap<Digest, RollbackRecord>,
    /// Entries the fold did not count, and why. Not persisted: the
    /// client's cache never holds a fold that refused an entry.
    #[serde(skip)]
    pub ignored: Vec<IgnoredEntry>,
    /// Deployments that were recorded but were not allowed when reported
    /// (an audit finding: they never count as a successful run).
    pub unapproved: Vec<UnapprovedDeployment>,
    /// Gate results whose signed verdict their own evidence contradicts,
    /// as re-judged by this client (an audit finding naming the signer).
    /// Empty unless readiness was given re-judgements; never saved (each
    /// evaluation derives it anew).
    #[serde(skip)]
    pub disputed: Vec<DisputedGate>,
    /// How many entries were folded.
    pub size: u64,
}

impl State {
    /// Promotions in log order.
    pub fn promotions_in_order(&self) -> impl Iterator<Item = &Promotion> {
        self.promotion_order
            .iter()
            .filter_map(|id| self.promotions.get(id))
    }

    pub fn service(&self, environment: &str, service: &str) -> Option<&ServiceState> {
        self.environments.get(environment)?.get(service)
    }
}

/// An entry left out of the state, with the reason a person can act on.
#[derive(Debug, Clone, PartialEq)]
pub struct IgnoredEntry {
    pub index: u64,
    pub id: Digest,
    pub signer: String,
    pub reason: Refusal,
}

/// A `deployed` report for a promotion that was not ready at the report's
/// signed time: a fact the log records, and an audit finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnapprovedDeployment {
    /// The deployment entry's id.
    pub deployment: Digest,
    pub index: u64,
    pub promotion: Digest,
    pub environment: String,
    pub service: String,
    pub signer: String,
    pub at: OffsetDateTime,
    /// Why the promotion was not ready at `at`.
    pub reasons: Vec<String>,
}

/// Where a promotion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PromotionStatus {
    /// Blocked; `blockers` says why.
    Waiting,
    /// Every rule of §3.4 holds now.
    Ready,
    /// A reject stands.
    Rejected,
    Deployed,
    DeployFailed,
    /// A newer promotion of the same service to the same environment has
    /// been deployed since: this one must not be deployed any more.
    Superseded,
}

impl PromotionStatus {
    pub const fn label(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Ready => "ready",
            Self::Rejected => "rejected",
            Self::Deployed => "deployed",
            Self::DeployFailed => "deploy failed",
            Self::Superseded => "superseded",
        }
    }
}

/// One promotion and everything the log says about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    pub id: Digest,
    pub index: u64,
    pub requested_by: String,
    pub artifact: Digest,
    /// Shared: a copy of the state (each evaluation starts from one) shares
    /// what the log says and never changes.
    pub request: Arc<PromotionRequest>,
    /// Every gate the target environment requires, by name (a sorted
    /// vector: a promotion has a handful, and the fold keeps one map per
    /// promotion).
    pub gates: LiteMap<String, GateState>,
    pub approvals: Vec<ApprovalView>,
    /// Rejections that have not been revoked.
    pub rejections: Vec<DecisionRef>,
    pub deployment: Option<DeploymentRecord>,
    pub status: PromotionStatus,
    /// Why it is not ready (empty when ready or finished).
    pub blockers: Vec<Blocker>,
}

/// A pointer to a decision in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRef {
    pub id: Digest,
    pub index: u64,
    pub signer: String,
    pub role: String,
    pub rationale: String,
}

/// A gate of a promotion: its latest result and its waivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateState {
    pub name: String,
    /// Shared, as [`Promotion::request`]: a recorded result never changes
    /// (a newer one replaces it).
    pub latest: Option<Arc<GateRecord>>,
    pub waivers: Vec<WaiverView>,
    pub verdict: GateVerdict,
    /// What this client found when it re-ran the latest result's
    /// evaluation; `None` when it was not re-judged.
    #[serde(skip)]
    pub rejudged: Option<Rejudgement>,
}

/// A gate result in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRecord {
    pub id: Digest,
    pub index: u64,
    pub signer: String,
    pub result: GateResult,
}

/// What a gate means for readiness now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GateVerdict {
    Passed,
    Waived { until: OffsetDateTime },
    Failed,
    Missing,
}

/// A waiver decision and whether it counts now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverView {
    pub decision: DecisionRef,
    pub until: OffsetDateTime,
    pub standing: Standing,
}

/// An approval decision and whether it counts now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub decision: DecisionRef,
    pub issued_at: OffsetDateTime,
    /// The earlier of the decision's own expiry and the environment's `approval_ttl`.
    pub expires_at: OffsetDateTime,
    pub standing: Standing,
}

/// Whether a decision counts, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Standing {
    Counted,
    Expired {
        at: OffsetDateTime,
    },
    Stale(StaleReason),
    Revoked {
        by: String,
    },
    /// Valid, but this person already counts toward another requirement, or
    /// the requirement it claims is already met.
    NotNeeded,
}

/// A decision accepted into the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub id: Digest,
    pub index: u64,
    pub signer: String,
    pub artifact: Digest,
    pub decision: Decision,
    pub revoked_by: Option<String>,
}

impl DecisionRecord {
    pub fn to_ref(&self) -> DecisionRef {
        DecisionRef {
            id: self.id,
            index: self.index,
            signer: self.signer.clone(),
            role: self.decision.role.clone(),
            rationale: self.decision.rationale.clone(),
        }
    }
}

/// The outcome of a deployment of a promotion or rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub id: Digest,
    pub index: u64,
    pub succeeded: bool,
    pub at: OffsetDateTime,
}

/// How an artifact came to run somewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Via {
    Promotion(Digest),
    Rollback(Digest),
}

/// One successful deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Running {
    pub artifact: Digest,
    pub version: Option<String>,
    pub via: Via,
    pub at: OffsetDateTime,
    pub index: u64,
    /// False for a deployment of a promotion that was not ready when it was
    /// reported: it runs, but it never counts as a successful run of the
    /// artifact (next environment, last known good, rollback target).
    pub approved: bool,
}

/// One service in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServiceState {
    pub running: Option<Running>,
    /// Successful deployments, oldest first. Append with
    /// [`Self::record_run`], which keeps `approved_runs` in step.
    pub history: Vec<Running>,
    /// The artifacts of `history` that ran through an approved deployment
    /// (so [`Self::has_run`] does not walk the history: readiness asks it
    /// once per promotion).
    pub approved_runs: std::collections::BTreeSet<Digest>,
    /// Artifacts an accepted rollback moved away from: never "known good".
    pub rolled_back_from: Vec<Digest>,
    /// The latest snapshot's entry id.
    pub snapshot: Option<Digest>,
    /// The newest promotion deployed here successfully, by its request's
    /// log index: `(request index, promotion id)`. Older promotions of the
    /// service to this environment are superseded.
    pub newest_promotion: Option<(u64, Digest)>,
}

impl ServiceState {
    /// The most recent successful deployment of another artifact that was
    /// never rolled back from: what a rollback should propose.
    pub fn last_known_good(&self) -> Option<&Running> {
        let current = self.running.as_ref().map(|r| r.artifact);
        self.history.iter().rev().find(|r| {
            r.approved
                && Some(r.artifact) != current
                && !self.rolled_back_from.contains(&r.artifact)
        })
    }

    /// A copy for display: the newest `keep` runs of the history, and the
    /// last known good when it is older, so [`Self::last_known_good`] and
    /// the newest `keep` runs read the same; no approved runs (only
    /// readiness asks [`Self::has_run`]). A service deployed a hundred
    /// thousand times is not copied a hundred thousand runs long.
    #[must_use]
    pub fn trimmed(&self, keep: usize) -> Self {
        let from = self.history.len().saturating_sub(keep);
        let good = self.last_known_good().filter(|r| {
            self.history[..from]
                .iter()
                .rev()
                .any(|older| std::ptr::eq(older, *r))
        });
        Self {
            running: self.running.clone(),
            history: good
                .into_iter()
                .chain(&self.history[from..])
                .cloned()
                .collect(),
            approved_runs: std::collections::BTreeSet::new(),
            rolled_back_from: self.rolled_back_from.clone(),
            snapshot: self.snapshot,
            newest_promotion: self.newest_promotion,
        }
    }

    /// Whether `artifact` ran here through an approved deployment.
    pub fn has_run(&self, artifact: &Digest) -> bool {
        self.approved_runs.contains(artifact)
    }

    /// Records a successful deployment.
    pub fn record_run(&mut self, running: Running) {
        if running.approved {
            self.approved_runs.insert(running.artifact);
        }
        self.history.push(running);
    }
}

/// A rollback: proposed until enough distinct people signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRecord {
    pub id: Digest,
    pub environment: String,
    pub service: String,
    pub from: Digest,
    pub to: Digest,
    pub decisions: Vec<DecisionRef>,
    pub accepted: bool,
    pub deployment: Option<DeploymentRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(artifact: &[u8], index: u64, approved: bool) -> Running {
        Running {
            artifact: Digest::of(artifact),
            version: Some(String::from_utf8_lossy(artifact).into_owned()),
            via: Via::Promotion(Digest::of(&index.to_be_bytes())),
            at: time::macros::datetime!(2026-11-27 09:00 UTC)
                + time::Duration::minutes(index.cast_signed()),
            index,
            approved,
        }
    }

    #[test]
    fn a_trimmed_service_keeps_its_newest_runs_and_its_last_known_good() {
        // v1 is the last known good; thirty runs of v2 (the one running),
        // unapproved ones of v3 and a rolled-back v4 came after it.
        let mut service = ServiceState::default();
        service.record_run(run(b"v0", 0, true));
        service.record_run(run(b"v1", 1, true));
        for i in 2..32 {
            service.record_run(run(b"v2", i, true));
        }
        service.record_run(run(b"v3", 32, false));
        service.record_run(run(b"v4", 33, true));
        service.rolled_back_from.push(Digest::of(b"v4"));
        service.record_run(run(b"v2", 34, true));
        service.running = Some(run(b"v2", 34, true));
        let trimmed = service.trimmed(10);
        assert_eq!(trimmed.last_known_good(), service.last_known_good());
        assert_eq!(
            trimmed.last_known_good().map(|r| r.artifact),
            Some(Digest::of(b"v1"))
        );
        let newest =
            |s: &ServiceState| s.history.iter().rev().take(10).cloned().collect::<Vec<_>>();
        assert_eq!(newest(&trimmed), newest(&service));
        assert_eq!(trimmed.history.len(), 11);
        // Short histories are kept whole.
        let short = ServiceState::default();
        assert_eq!(short.trimmed(10), short);
    }
}
