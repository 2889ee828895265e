//! The view model: what the verified log says, arranged for the views. Pure:
//! built from a [`State`] and the verified entries, never from the store's
//! own derived views.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::index::LogIndex;
use crate::client::sync::VerifiedLog;
use crate::digest::Digest;
use crate::drift;
use crate::policy::Policy;
use crate::policy::gates::DriftSettings;
use crate::state::{
    Changes, Promotion, PromotionStatus, Rejudgements, Running, SavedMap, ServiceState, Standing,
    State,
};
use crate::statement::Snapshot;

/// Approvals closer than this to expiry are "expiring soon" in the inbox.
pub const EXPIRING_SOON: Duration = Duration::hours(4);
/// Promotions deployed within this window are "recently promoted".
pub const RECENT: Duration = Duration::hours(24);

/// The verified checkpoint the data was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointInfo {
    pub origin: String,
    pub size: u64,
    pub root: String,
}

/// Everything the views show, from one verified sync.
#[derive(Debug, Clone)]
pub struct Data {
    pub state: State,
    pub policy: Arc<Policy>,
    pub checkpoint: Option<CheckpointInfo>,
    /// The verified log itself (shared, never copied): the fold for
    /// preparing actions.
    pub log: Arc<VerifiedLog>,
    /// Its entries as rows, for the audit view, timelines and the drift tab.
    pub index: LogIndex,
    /// My operator name under the policy in force, when my key is in it.
    pub me: Option<String>,
    /// The drift of each (service, reference environment, target
    /// environment) a promotion crosses, computed once per sync.
    pub drift: Arc<BTreeMap<DriftKey, DriftPane>>,
    /// The evidence pane's models, by gate result entry id (filled by the
    /// client task after it fetched and re-judged the evidence).
    pub evidence: super::evidence::Evidence,
}

/// The judgements of a view model, kept by the client task to judge the
/// next sync's against ([`Data::from_indexed_since`]): they share the
/// view model's promotions and panes.
#[derive(Debug, Clone)]
pub struct Judged {
    pub promotions: SavedMap<Promotion>,
    /// When they were judged.
    pub at: OffsetDateTime,
    /// Entries of the log they judge.
    pub size: u64,
    /// The digest of the policy they were judged under.
    pub policy: Digest,
    pub rejudged: Rejudgements,
    pub drift: Arc<BTreeMap<DriftKey, DriftPane>>,
    pub evidence: super::evidence::Evidence,
}

/// `(service, reference environment or none, target environment)`.
pub type DriftKey = (String, Option<String>, String);

/// The Drift tab's content for one promotion route: the rows of the
/// structured diff (after the drift gate's ignore rules) and the unified
/// text, both computed from the snapshots in the verified log.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftPane {
    pub service: String,
    pub from_env: Option<String>,
    pub to_env: String,
    /// Environments with no snapshot of the service yet.
    pub missing: Vec<String>,
    pub ignored: Vec<String>,
    pub rows: Vec<drift::Row>,
    pub text: String,
}

impl DriftPane {
    /// The key of `promotion`'s route under `policy`.
    pub fn key(policy: &Policy, promotion: &Promotion) -> DriftKey {
        Self::key_with(
            drift::lookup::gate_settings(policy, &promotion.request.to).as_ref(),
            promotion,
        )
    }

    fn key_with(settings: Option<&DriftSettings>, promotion: &Promotion) -> DriftKey {
        (
            promotion.request.service.clone(),
            drift::lookup::reference(settings, promotion),
            promotion.request.to.clone(),
        )
    }

    fn compute(
        key: &DriftKey,
        policy: &Policy,
        snapshots: &BTreeMap<(String, String), &Snapshot>,
    ) -> Self {
        let (service, from, to) = key;
        let get = |env: &str| snapshots.get(&(env.to_owned(), service.clone())).copied();
        let ignored = drift::lookup::gate_settings(policy, to)
            .map(|s| s.ignore)
            .unwrap_or_default();
        let reference = from.as_deref().and_then(get);
        let target = get(to);
        let mut missing = Vec::new();
        if let Some(f) = from
            && reference.is_none()
        {
            missing.push(f.clone());
        }
        if target.is_none() {
            missing.push(to.clone());
        }
        let (rows, text) = match (reference, target) {
            (Some(a), Some(b)) => {
                let c = drift::compare(a, b, &ignored);
                let text = c.unified();
                (c.rows, text)
            }
            _ => (Vec::new(), String::new()),
        };
        Self {
            service: service.clone(),
            from_env: from.clone(),
            to_env: to.clone(),
            missing,
            ignored,
            rows,
            text,
        }
    }
}

/// [`drift_panes`] over `previous`, the panes of an earlier state of the
/// same log under the same policy: the routes of the `changes`d promotions
/// are added, and the panes of every route through a changed service
/// computed again.
fn drift_panes_since(
    previous: &BTreeMap<DriftKey, DriftPane>,
    state: &State,
    index: &LogIndex,
    policy: &Policy,
    changes: &Changes,
) -> BTreeMap<DriftKey, DriftPane> {
    let touched = |(service, from, to): &DriftKey| {
        changes.services.iter().any(|(env, s)| {
            s == service && (env == to || from.as_ref().is_some_and(|from| from == env))
        })
    };
    let snapshots = index.latest_snapshots(state);
    let mut out: BTreeMap<DriftKey, DriftPane> = previous
        .iter()
        .filter(|(key, _)| !touched(key))
        .map(|(key, pane)| (key.clone(), pane.clone()))
        .collect();
    let keys = changes
        .promotions
        .iter()
        .filter_map(|id| state.promotions.get(id))
        .map(|p| DriftPane::key(policy, p))
        .chain(previous.keys().filter(|key| touched(key)).cloned());
    for key in keys {
        if let std::collections::btree_map::Entry::Vacant(slot) = out.entry(key) {
            let pane = DriftPane::compute(slot.key(), policy, &snapshots);
            slot.insert(pane);
        }
    }
    out
}

/// Every route a promotion crosses, with its drift.
fn drift_panes(state: &State, index: &LogIndex, policy: &Policy) -> BTreeMap<DriftKey, DriftPane> {
    let snapshots = index.latest_snapshots(state);
    // Settings are read once per environment, not once per promotion.
    let mut settings: BTreeMap<&str, Option<DriftSettings>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for p in state.promotions.values() {
        let to = p.request.to.as_str();
        let gate = settings
            .entry(to)
            .or_insert_with(|| drift::lookup::gate_settings(policy, to));
        let key = DriftPane::key_with(gate.as_ref(), p);
        if let std::collections::btree_map::Entry::Vacant(slot) = out.entry(key) {
            let pane = DriftPane::compute(slot.key(), policy, &snapshots);
            slot.insert(pane);
        }
    }
    out
}

impl Data {
    /// The view model of a verified log at `now` (its entries indexed here;
    /// the client task keeps an index across syncs: [`Self::from_indexed`]).
    pub fn from_log(log: Arc<VerifiedLog>, now: OffsetDateTime) -> Self {
        let index = LogIndex::of(&log.entries).unwrap_or_default();
        Self::from_indexed(log, index, now)
    }

    /// The view model of a verified log whose entries `index` holds.
    pub fn from_indexed(log: Arc<VerifiedLog>, index: LogIndex, now: OffsetDateTime) -> Self {
        let state = log.state_at(now);
        let drift = drift_panes(&state, &index, log.policy());
        Self::of(log, index, state, drift)
    }

    /// The view model of `log` (whose entries `index` holds), judging
    /// again only what the entries since `judged` changed (`changes`, with
    /// the promotions whose re-judgements changed): see
    /// [`crate::state::evaluate_since`]. The evidence models are the
    /// caller's to update, as with [`Self::from_indexed`].
    pub fn from_indexed_since(
        log: Arc<VerifiedLog>,
        index: LogIndex,
        now: OffsetDateTime,
        judged: &Judged,
        changes: &Changes,
    ) -> Self {
        // The screen prepares actions on this fold: everything decoded
        // here, so nothing it reads there reads the cache's file (a cache
        // loaded anew holds its values saved; this costs one pass when
        // they are decoded already).
        log.folder.decode_all();
        let state = log.folder.state_judged_since(
            &judged.promotions,
            judged.at,
            now,
            &log.rejudged,
            changes,
        );
        let drift = drift_panes_since(&judged.drift, &state, &index, log.policy(), changes);
        Self::of(log, index, state, drift)
    }

    /// The view model of `log` judged into `state`, with its drift panes
    /// (no evidence models yet, no operator).
    fn of(
        log: Arc<VerifiedLog>,
        index: LogIndex,
        state: State,
        drift: BTreeMap<DriftKey, DriftPane>,
    ) -> Self {
        let checkpoint = log.checkpoint.checkpoint();
        Self {
            drift: Arc::new(drift),
            state,
            policy: Arc::clone(log.policy()),
            checkpoint: Some(CheckpointInfo {
                origin: checkpoint.origin.clone(),
                size: checkpoint.size,
                root: hex::encode(checkpoint.root),
            }),
            log,
            index,
            me: None,
            evidence: super::evidence::Evidence::new(),
        }
    }

    /// What the next view model may be judged against.
    pub fn judged(&self, at: OffsetDateTime) -> Judged {
        Judged {
            promotions: self.state.promotions.clone(),
            at,
            size: self.log.tree.len(),
            policy: self.policy.digest(),
            rejudged: self.log.rejudged.clone(),
            drift: Arc::clone(&self.drift),
            evidence: self.evidence.clone(),
        }
    }

    /// Promotions in log order.
    pub fn promotions(&self) -> Vec<&Promotion> {
        self.state.promotions_in_order().collect()
    }

    /// Every (environment, service) pair, environments in policy order.
    pub fn services(&self) -> Vec<(&str, &str, &ServiceState)> {
        let mut out = Vec::new();
        for env in self.policy.environment_order() {
            if let Some(services) = self.state.environments.get(env) {
                for (name, service) in services {
                    out.push((env, name.as_str(), service));
                }
            }
        }
        out
    }

    /// The drift a promotion would carry into its target environment.
    pub fn drift_of(&self, promotion: &Promotion) -> Option<&DriftPane> {
        self.drift.get(&DriftPane::key(&self.policy, promotion))
    }

    /// Audit findings for a service in an environment, one line each:
    /// unapproved deployments (recorded, never a known good) and deployment
    /// reports the fold refused.
    pub fn findings(&self, environment: &str, service: &str) -> Vec<String> {
        let unapproved = self
            .state
            .unapproved
            .iter()
            .filter(|u| u.environment == environment && u.service == service)
            .map(|u| {
                format!(
                    "entry {}: unapproved deployment of {} by {} at {}: {}",
                    u.index,
                    u.promotion.short(),
                    u.signer,
                    when(u.at),
                    u.reasons.join("; ")
                )
            });
        let refused = self
            .state
            .ignored
            .iter()
            .filter(|i| {
                self.index
                    .get(usize::try_from(i.index).unwrap_or(usize::MAX))
                    .and_then(|row| row.deployed.as_deref())
                    .is_some_and(|(env, svc)| env == environment && svc == service)
            })
            .map(|i| format!("entry {}: {}", i.index, i.reason));
        unapproved.chain(refused).collect()
    }

    /// The inbox for `me` at `now`, in sections.
    pub fn inbox(&self, me: &str, now: OffsetDateTime) -> Vec<InboxItem> {
        let roles = self.policy.roles_of(me);
        let mut waiting = Vec::new();
        let mut blocked = Vec::new();
        let mut expiring = Vec::new();
        let mut recent = Vec::new();
        for p in self.state.promotions_in_order() {
            match p.status {
                PromotionStatus::Waiting => {
                    let mine = p.requested_by != me
                        && self.policy.environment(&p.request.to).is_some_and(|env| {
                            env.approvals.iter().any(|req| {
                                roles.contains(&req.role.as_str())
                                    && !p.approvals.iter().any(|a| {
                                        a.decision.signer == me
                                            && a.standing == Standing::Counted
                                    })
                            })
                        })
                        && p.blockers.iter().any(|b| {
                            matches!(b, crate::state::Blocker::ApprovalsMissing { role, .. } if roles.contains(&role.as_str()))
                        });
                    if mine {
                        waiting.push(InboxItem::promotion(Section::WaitingForMe, p.id));
                    } else {
                        blocked.push(InboxItem::promotion(Section::Blocked, p.id));
                    }
                }
                PromotionStatus::Deployed => {
                    if p.deployment.as_ref().is_some_and(|d| now - d.at <= RECENT) {
                        recent.push(InboxItem::promotion(Section::RecentlyPromoted, p.id));
                    }
                }
                PromotionStatus::Ready
                | PromotionStatus::Superseded
                | PromotionStatus::Rejected
                | PromotionStatus::DeployFailed => {}
            }
            if p.approvals.iter().any(|a| {
                a.standing == Standing::Counted
                    && a.expires_at > now
                    && a.expires_at - now <= EXPIRING_SOON
            }) {
                expiring.push(InboxItem::promotion(Section::ExpiringSoon, p.id));
            }
        }
        let mut rollback = Vec::new();
        for (env, service, state) in self.services() {
            let may = self
                .policy
                .environment(env)
                .and_then(|e| e.rollback.as_ref())
                .is_some_and(|r| r.roles.iter().any(|role| roles.contains(&role.as_str())));
            if may && state.last_known_good().is_some() && state.running.is_some() {
                rollback.push(InboxItem {
                    section: Section::RollbackCandidates,
                    target: Target::Service {
                        environment: env.to_owned(),
                        service: service.to_owned(),
                    },
                });
            }
        }
        [waiting, blocked, expiring, recent, rollback].concat()
    }
}

/// The inbox's sections, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    WaitingForMe,
    Blocked,
    ExpiringSoon,
    RecentlyPromoted,
    RollbackCandidates,
}

/// What a row points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Promotion(Digest),
    Service {
        environment: String,
        service: String,
    },
}

/// One inbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    pub section: Section,
    pub target: Target,
}

impl InboxItem {
    fn promotion(section: Section, id: Digest) -> Self {
        Self {
            section,
            target: Target::Promotion(id),
        }
    }
}

/// A release's version, or its short digest when the log names none.
pub fn version_of(running: &Running) -> String {
    running
        .version
        .clone()
        .unwrap_or_else(|| running.artifact.short())
}

/// `2h 05m`, `3d 4h`, `42s`: a countdown a person reads at a glance.
pub fn countdown(d: Duration) -> String {
    let secs = d.whole_seconds();
    if secs <= 0 {
        return "expired".to_owned();
    }
    let (days, hours, minutes) = (secs / 86_400, (secs / 3600) % 24, (secs / 60) % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m")
    } else {
        format!("{secs}s")
    }
}

/// RFC 3339 in whole seconds.
/// `HH:MM:SSZ` (UTC), for the header, where the date is today's.
pub fn clock_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:02}:{:02}:{:02}Z", t.hour(), t.minute(), t.second())
}

pub fn when(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
