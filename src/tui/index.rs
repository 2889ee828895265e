//! The cockpit's index of the verified log: one compact row per entry (what
//! the audit view, the timeline and the entry detail show) and the newest
//! snapshot of every service, for the drift tab. The client task builds it
//! once from the cached entries, read a chunk at a time, and extends it with
//! each sync's new entries; so neither it nor the screen ever holds every
//! statement (a parsed entry is some ten times its row).
//!
//! Rows live in shared chunks ([`Chunked`]): the screen keeps the index of
//! the last sync while the client task extends a copy, which copies only the
//! last chunk.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::chunked::Chunked;
use crate::client::cache::{LogEntries, Refused};
use crate::digest::Digest;
use crate::state::{State, VerifiedEntry};
use crate::statement::{DecisionAction, DeploymentTarget, Predicate, Snapshot, StatementKind};

/// One entry as the cockpit lists it, read from the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRow<'a> {
    pub index: u64,
    /// The first hex digits of its id, as [`Digest::short`] shows them.
    pub id: ShortId,
    /// The time the statement says it was signed at (in UTC, to the
    /// second), if it says one.
    pub signed_at: Option<OffsetDateTime>,
    pub signer: &'a str,
    pub kind: StatementKind,
    /// The promotion the entry is about, if any.
    pub promotion: Option<Digest>,
    /// [`crate::statement::Statement::summary`].
    pub summary: &'a str,
    /// A deployment report's environment and service.
    pub deployed: Option<(&'a str, &'a str)>,
}

/// The first six bytes of an entry id: what the cockpit shows of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortId([u8; 6]);

impl std::fmt::Display for ShortId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// How a row is held: some 48 bytes and its summary, where a parsed entry
/// is kilobytes and a row of whole ids and times was 136 bytes (a
/// million-entry log is a million rows).
#[derive(Debug, Clone)]
struct Stored {
    summary: Box<str>,
    deployed: Option<Box<(String, String)>>,
    /// Unix seconds; `i64::MIN` when the statement says no time.
    signed_at: i64,
    /// The promotion it is about, as its place in [`LogIndex::requests`];
    /// `u32::MAX` when none.
    promotion: u32,
    /// Its signer, as its place in [`LogIndex::signers`].
    signer: u16,
    kind: StatementKind,
    id: ShortId,
}

/// No time, no promotion.
const NO_TIME: i64 = i64::MIN;
const NO_PROMOTION: u32 = u32::MAX;

/// Every entry of a verified log as rows, and the newest snapshots.
#[derive(Debug, Clone, Default)]
pub struct LogIndex {
    rows: Chunked<Stored>,
    /// Signer names, shared by their rows.
    signers: Vec<Arc<str>>,
    /// Every promotion request, in log order: `(log index, id)`.
    requests: Chunked<(u64, Digest)>,
    /// Where each promotion is in `requests`.
    request_of: Arc<HashMap<Digest, u32>>,
    /// The newest snapshot entry of each (environment, service).
    snapshots: BTreeMap<(String, String), (Digest, Arc<Snapshot>)>,
}

impl LogIndex {
    /// The index of every entry of `entries`.
    pub fn of(entries: &LogEntries) -> Result<Self, Refused> {
        let mut index = Self::default();
        index.extend(entries)?;
        Ok(index)
    }

    /// Adds the entries of `entries` after the ones indexed (the same log,
    /// grown: a sync only ever extends a verified log).
    pub fn extend(&mut self, entries: &LogEntries) -> Result<(), Refused> {
        if entries.len() < self.rows.len() {
            *self = Self::default();
        }
        entries.visit(self.rows.len(), |entry| self.push(entry))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row of the entry at log index `index`.
    pub fn get(&self, index: usize) -> Option<EntryRow<'_>> {
        let row = self.rows.get(index)?;
        Some(EntryRow {
            index: index as u64,
            id: row.id,
            signed_at: (row.signed_at != NO_TIME)
                .then(|| OffsetDateTime::from_unix_timestamp(row.signed_at).ok())
                .flatten(),
            signer: self.signers.get(usize::from(row.signer)).map_or("", |s| s),
            kind: row.kind,
            promotion: self.requests.get(row.promotion as usize).map(|(_, id)| *id),
            summary: &row.summary,
            deployed: row
                .deployed
                .as_deref()
                .map(|(env, service)| (env.as_str(), service.as_str())),
        })
    }

    /// The log indexes of every entry about `promotion` (its request, at
    /// `requested`, included), in log order: nothing before its request can
    /// be about it.
    pub fn timeline(&self, promotion: &Digest, requested: u64) -> Vec<usize> {
        let start = usize::try_from(requested).unwrap_or(usize::MAX);
        let Some(&at) = self.request_of.get(promotion) else {
            return Vec::new();
        };
        self.rows
            .iter_from(start)
            .zip(start..)
            .filter(|(row, index)| *index == start || row.promotion == at)
            .map(|(_, index)| index)
            .collect()
    }

    /// The snapshot each (environment, service) is at in `state`, where
    /// the index holds it.
    pub fn latest_snapshots(&self, state: &State) -> BTreeMap<(String, String), &Snapshot> {
        self.snapshots
            .iter()
            .filter(|((env, service), (id, _))| {
                state.service(env, service).and_then(|s| s.snapshot) == Some(*id)
            })
            .map(|(key, (_, snapshot))| (key.clone(), snapshot.as_ref()))
            .collect()
    }

    fn push(&mut self, entry: &VerifiedEntry) {
        let signer = self
            .signers
            .iter()
            .position(|s| **s == *entry.signer)
            .unwrap_or_else(|| {
                self.signers.push(Arc::from(entry.signer.as_str()));
                self.signers.len() - 1
            });
        let statement = &entry.statement;
        let deployed = match &statement.predicate {
            Predicate::Deployment(d) => Some(Box::new((d.environment.clone(), d.service.clone()))),
            Predicate::Snapshot(s) => {
                self.snapshots.insert(
                    (s.environment.clone(), s.service.clone()),
                    (entry.id, Arc::new(s.clone())),
                );
                None
            }
            Predicate::PromotionRequest(_) => {
                let at = u32::try_from(self.requests.len()).unwrap_or(NO_PROMOTION);
                self.requests.push((entry.index, entry.id));
                Arc::make_mut(&mut self.request_of).insert(entry.id, at);
                None
            }
            _ => None,
        };
        let mut id = [0; 6];
        id.copy_from_slice(&entry.id.as_bytes()[..6]);
        let row = Stored {
            summary: statement.summary().into_boxed_str(),
            deployed,
            signed_at: statement
                .signed_at()
                .map_or(NO_TIME, |(_, at)| at.unix_timestamp()),
            promotion: entry_promotion(entry)
                .and_then(|p| self.request_of.get(&p).copied())
                .unwrap_or(NO_PROMOTION),
            // A log with more than 65 535 signers names the rest as the last.
            signer: u16::try_from(signer).unwrap_or(u16::MAX),
            kind: statement.kind(),
            id: ShortId(id),
        };
        self.rows.push(row);
    }
}

/// The promotion an entry is about, if any.
pub fn entry_promotion(entry: &VerifiedEntry) -> Option<Digest> {
    match &entry.statement.predicate {
        Predicate::GateResult(g) => Some(g.promotion),
        Predicate::Decision(d) => match &d.action {
            DecisionAction::Approve { promotion }
            | DecisionAction::Reject { promotion }
            | DecisionAction::Waive { promotion, .. } => Some(*promotion),
            DecisionAction::Revoke { .. } | DecisionAction::Rollback { .. } => None,
        },
        Predicate::Deployment(d) => match d.target {
            DeploymentTarget::Promotion(id) => Some(id),
            DeploymentTarget::Rollback(_) => None,
        },
        Predicate::PromotionRequest(_) | Predicate::Snapshot(_) | Predicate::Policy(_) => None,
    }
}
