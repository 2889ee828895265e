//! The view model: what the verified log says, arranged for the lists.
//! Pure: built from the fold of the verified entries, never from the
//! store's own derived views. It holds every promotion in brief
//! ([`Summaries`]), not judged in full: at a million entries the full
//! judgements alone would be gigabytes.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::index::LogIndex;
use crate::client::sync::VerifiedLog;
use crate::digest::Digest;
use crate::drift;
use crate::policy::Policy;
use crate::state::{
    Changes, IgnoredEntry, Names, Promotion, PromotionStatus, Rejudgements, Running, ServiceState,
    Summaries, Summary, UnapprovedDeployment,
};
use crate::statement::Snapshot;

/// Approvals closer than this to expiry are "expiring soon" in the inbox.
pub const EXPIRING_SOON: Duration = Duration::hours(4);
/// Promotions deployed within this window are "recently promoted".
pub const RECENT: Duration = Duration::hours(24);
/// Runs of a service's history the detail pane lists.
pub const HISTORY: usize = 10;

/// The verified checkpoint the data was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointInfo {
    pub origin: String,
    pub size: u64,
    pub root: String,
}

/// Everything the lists show, from one verified sync: every promotion in
/// brief, what runs where, and the log's entries as rows. The promotion a
/// person looks at is judged in full on request ([`super::detail`]).
#[derive(Debug, Clone)]
pub struct Data {
    pub policy: Arc<Policy>,
    pub checkpoint: Option<CheckpointInfo>,
    /// Every promotion, judged, in brief and in log order.
    pub summaries: Summaries,
    /// Environment name → service name → what runs there (its newest
    /// [`HISTORY`] runs, and its last known good).
    pub environments: Arc<BTreeMap<String, BTreeMap<String, ServiceState>>>,
    /// Deployments recorded but not allowed when reported.
    pub unapproved: Arc<[UnapprovedDeployment]>,
    /// Entries the fold did not count, and why.
    pub ignored: Arc<[IgnoredEntry]>,
    /// Its entries as rows, for the audit view, timelines and the drift tab.
    pub index: LogIndex,
    /// My operator name under the policy in force, when my key is in it.
    pub me: Option<String>,
}

/// The judgements of a view model, kept by the client task to judge the
/// next sync's against ([`Data::from_indexed_since`]).
#[derive(Debug, Clone)]
pub struct Judged {
    pub summaries: Summaries,
    /// When they were judged.
    pub at: OffsetDateTime,
    /// Entries of the log they judge.
    pub size: u64,
    /// The digest of the policy they were judged under.
    pub policy: Digest,
    pub rejudged: Rejudgements,
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
        let settings = drift::lookup::gate_settings(policy, &promotion.request.to);
        (
            promotion.request.service.clone(),
            drift::lookup::reference(settings.as_ref(), promotion),
            promotion.request.to.clone(),
        )
    }

    /// The drift `promotion` would carry into its target environment, from
    /// the newest snapshot of each (environment, service).
    pub fn of(
        policy: &Policy,
        promotion: &Promotion,
        snapshots: &BTreeMap<(String, String), &Snapshot>,
    ) -> Self {
        Self::compute(&Self::key(policy, promotion), policy, snapshots)
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

impl Data {
    /// The view model of a verified log at `now` (its entries indexed here;
    /// the client task keeps an index across syncs: [`Self::from_indexed`]).
    pub fn from_log(log: &VerifiedLog, now: OffsetDateTime) -> Self {
        let index = LogIndex::of(&log.entries).unwrap_or_default();
        Self::from_indexed(log, index, now, &mut Names::default())
    }

    /// The view model of a verified log whose entries `index` holds.
    pub fn from_indexed(
        log: &VerifiedLog,
        index: LogIndex,
        now: OffsetDateTime,
        names: &mut Names,
    ) -> Self {
        let summaries = log.folder.summaries(now, &log.rejudged, names);
        Self::of(log, index, summaries)
    }

    /// The view model of `log` (whose entries `index` holds), judging
    /// again only what the entries since `judged` changed (`changes`, with
    /// the promotions whose re-judgements changed): see
    /// [`crate::state::summarize_since`].
    pub fn from_indexed_since(
        log: &VerifiedLog,
        index: LogIndex,
        now: OffsetDateTime,
        judged: &Judged,
        changes: &Changes,
        names: &mut Names,
    ) -> Self {
        let summaries = log.folder.summaries_since(
            &judged.summaries,
            judged.at,
            now,
            &log.rejudged,
            changes,
            names,
        );
        Self::of(log, index, summaries)
    }

    /// The view model of `log` with its promotions judged into `summaries`
    /// (no operator yet).
    fn of(log: &VerifiedLog, index: LogIndex, summaries: Summaries) -> Self {
        let checkpoint = log.checkpoint.checkpoint();
        let state = log.folder.raw_state();
        Self {
            policy: Arc::clone(log.policy()),
            checkpoint: Some(CheckpointInfo {
                origin: checkpoint.origin.clone(),
                size: checkpoint.size,
                root: hex::encode(checkpoint.root),
            }),
            summaries,
            environments: Arc::new(
                state
                    .environments
                    .iter()
                    .map(|(env, services)| {
                        let services = services
                            .iter()
                            .map(|(name, service)| (name.clone(), service.trimmed(HISTORY)))
                            .collect();
                        (env.clone(), services)
                    })
                    .collect(),
            ),
            unapproved: state.unapproved.clone().into(),
            ignored: state.ignored.clone().into(),
            index,
            me: None,
        }
    }

    /// What the next view model of `log` may be judged against.
    pub fn judged(&self, log: &VerifiedLog, at: OffsetDateTime) -> Judged {
        Judged {
            summaries: self.summaries.clone(),
            at,
            size: log.tree.len(),
            policy: self.policy.digest(),
            rejudged: log.rejudged.clone(),
        }
    }

    /// Promotions in log order.
    pub fn promotions(&self) -> impl DoubleEndedIterator<Item = &Summary> {
        self.summaries.iter()
    }

    /// What runs for `service` in `environment`.
    pub fn service(&self, environment: &str, service: &str) -> Option<&ServiceState> {
        self.environments.get(environment)?.get(service)
    }

    /// Every (environment, service) pair, environments in policy order.
    pub fn services(&self) -> Vec<(&str, &str, &ServiceState)> {
        let mut out = Vec::new();
        for env in self.policy.environment_order() {
            if let Some(services) = self.environments.get(env) {
                for (name, service) in services {
                    out.push((env, name.as_str(), service));
                }
            }
        }
        out
    }

    /// Audit findings for a service in an environment, one line each:
    /// unapproved deployments (recorded, never a known good) and deployment
    /// reports the fold refused.
    pub fn findings(&self, environment: &str, service: &str) -> Vec<String> {
        let unapproved = self
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
            .ignored
            .iter()
            .filter(|i| {
                self.index
                    .get(usize::try_from(i.index).unwrap_or(usize::MAX))
                    .and_then(|row| row.deployed)
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
        for p in self.summaries.iter() {
            match p.status {
                PromotionStatus::Waiting => {
                    let mine = *p.requested_by != *me
                        && !p.approved_by(me)
                        && self.policy.environment(&p.to).is_some_and(|env| {
                            env.approvals
                                .iter()
                                .any(|req| roles.contains(&req.role.as_str()))
                        })
                        && p.missing_roles()
                            .iter()
                            .any(|role| roles.contains(&&**role));
                    if mine {
                        waiting.push(InboxItem::promotion(Section::WaitingForMe, p.id));
                    } else {
                        blocked.push(InboxItem::promotion(Section::Blocked, p.id));
                    }
                }
                PromotionStatus::Deployed => {
                    if p.deployed_at.is_some_and(|at| now - at <= RECENT) {
                        recent.push(InboxItem::promotion(Section::RecentlyPromoted, p.id));
                    }
                }
                PromotionStatus::Ready
                | PromotionStatus::Superseded
                | PromotionStatus::Rejected
                | PromotionStatus::DeployFailed => {}
            }
            if p.counted()
                .iter()
                .any(|(_, expires)| *expires > now && *expires - now <= EXPIRING_SOON)
            {
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
