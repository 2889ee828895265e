//! A judged promotion in brief ([`Summary`]): what the cockpit's lists
//! (inbox, promotions) show and filter on, and what the next judgement
//! needs to know which promotions it must judge again. The whole judged
//! [`Promotion`] (gates, approvals, blockers) is some ten times larger; a
//! client that lists every promotion of a large log keeps these, in log
//! order ([`Summaries`]), and judges in full only the promotion a person
//! looks at.
//!
//! Names (services, environments, operators, roles) repeat across
//! promotions: they are shared through [`Names`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use time::OffsetDateTime;

use super::model::{Promotion, PromotionStatus, Standing};
use super::reasons::Blocker;
use crate::chunked::Chunked;
use crate::digest::Digest;

/// One judged promotion, in brief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: Digest,
    /// The log index of its request.
    pub index: u64,
    pub status: PromotionStatus,
    pub service: Arc<str>,
    pub version: Box<str>,
    pub from: Option<Arc<str>>,
    pub to: Arc<str>,
    pub requested_by: Arc<str>,
    /// When it was deployed, if it was.
    pub deployed_at: Option<OffsetDateTime>,
    /// What only some promotions have (most of a large log's are
    /// superseded or deployed long ago, with nothing pending).
    pending: Option<Box<Pending>>,
}

/// Why a promotion is blocked, and what of it can still change with time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending {
    why: Option<Box<str>>,
    missing_roles: Box<[Arc<str>]>,
    counted: Box<[(Arc<str>, OffsetDateTime)]>,
    expiries: Box<[OffsetDateTime]>,
}

impl Summary {
    /// The summary of a promotion judged at `at`.
    pub fn of(p: &Promotion, at: OffsetDateTime, names: &mut Names) -> Self {
        let request = &p.request;
        let missing_roles: Box<[Arc<str>]> = p
            .blockers
            .iter()
            .filter_map(|b| match b {
                Blocker::ApprovalsMissing { role, .. } => Some(names.get(role)),
                _ => None,
            })
            .collect();
        let counted: Box<[(Arc<str>, OffsetDateTime)]> = p
            .approvals
            .iter()
            .filter(|a| a.standing == Standing::Counted)
            .map(|a| (names.get(&a.decision.signer), a.expires_at))
            .collect();
        // Only moments after the judgement can change it.
        let expiries: Box<[OffsetDateTime]> = p
            .approvals
            .iter()
            .map(|a| a.expires_at)
            .chain(
                p.gates
                    .values()
                    .flat_map(|gate| &gate.waivers)
                    .map(|w| w.until),
            )
            .filter(|t| *t > at)
            .collect();
        // A superseded promotion can never go anywhere: why is its status.
        let why = p
            .blockers
            .first()
            .filter(|_| p.status != PromotionStatus::Superseded)
            .map(|b| b.to_string().into_boxed_str());
        let pending = Pending {
            why,
            missing_roles,
            counted,
            expiries,
        };
        let nothing = pending.why.is_none()
            && pending.missing_roles.is_empty()
            && pending.counted.is_empty()
            && pending.expiries.is_empty();
        Self {
            id: p.id,
            index: p.index,
            status: p.status,
            service: names.get(&request.service),
            version: request.version.as_str().into(),
            from: request.from.as_deref().map(|f| names.get(f)),
            to: names.get(&request.to),
            requested_by: names.get(&p.requested_by),
            deployed_at: p.deployment.as_ref().map(|d| d.at),
            pending: (!nothing).then(|| Box::new(pending)),
        }
    }

    /// Its first blocker, in words, while it can still be promoted.
    pub fn why(&self) -> Option<&str> {
        self.pending.as_ref()?.why.as_deref()
    }

    /// The roles whose approvals it still lacks.
    pub fn missing_roles(&self) -> &[Arc<str>] {
        self.pending.as_ref().map_or(&[], |p| &p.missing_roles)
    }

    /// Who approved it, where the approval counts, and when that approval
    /// expires.
    pub fn counted(&self) -> &[(Arc<str>, OffsetDateTime)] {
        self.pending.as_ref().map_or(&[], |p| &p.counted)
    }

    /// Every moment after its judgement at which time alone changes it:
    /// when its approvals and waivers expire.
    pub fn expiries(&self) -> &[OffsetDateTime] {
        self.pending.as_ref().map_or(&[], |p| &p.expiries)
    }

    /// Whether `me` approved it and the approval counts.
    pub fn approved_by(&self, me: &str) -> bool {
        self.counted().iter().any(|(who, _)| &**who == me)
    }
}

/// Shared names: each distinct name is held once.
#[derive(Debug, Clone, Default)]
pub struct Names {
    held: HashSet<Arc<str>>,
}

impl Names {
    /// The shared copy of `name`.
    pub fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(held) = self.held.get(name) {
            return Arc::clone(held);
        }
        let held: Arc<str> = Arc::from(name);
        self.held.insert(Arc::clone(&held));
        held
    }
}

/// Every promotion's summary, in log order (of their requests), and where
/// each one is. Copies share their rows ([`Chunked`]): a judgement built
/// on the last one replaces the few rows it judged again.
#[derive(Debug, Clone, Default)]
pub struct Summaries {
    rows: Chunked<Summary>,
    positions: Arc<HashMap<Digest, usize>>,
}

impl Summaries {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The summaries, in log order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Summary> {
        self.rows.iter()
    }

    pub fn get(&self, id: &Digest) -> Option<&Summary> {
        self.rows.get(*self.positions.get(id)?)
    }

    pub fn contains(&self, id: &Digest) -> bool {
        self.positions.contains_key(id)
    }

    /// Puts `summary` in its promotion's place, or after the last one
    /// (summaries are put in log order: a new promotion's request is the
    /// newest).
    pub fn put(&mut self, summary: Summary) {
        if let Some(&at) = self.positions.get(&summary.id) {
            self.rows.set(at, summary);
        } else {
            Arc::make_mut(&mut self.positions).insert(summary.id, self.rows.len());
            self.rows.push(summary);
        }
    }
}

impl FromIterator<Summary> for Summaries {
    fn from_iter<I: IntoIterator<Item = Summary>>(iter: I) -> Self {
        let mut out = Self::default();
        for summary in iter {
            out.put(summary);
        }
        out
    }
}
