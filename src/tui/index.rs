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

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::chunked::Chunked;
use crate::client::cache::{LogEntries, Refused};
use crate::digest::Digest;
use crate::state::{State, VerifiedEntry};
use crate::statement::{DecisionAction, DeploymentTarget, Predicate, Snapshot, StatementKind};

/// One entry as the cockpit lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    pub index: u64,
    pub id: Digest,
    /// The time the statement says it was signed at, if it says one.
    pub signed_at: Option<OffsetDateTime>,
    pub signer: Arc<str>,
    pub kind: StatementKind,
    /// The promotion the entry is about, if any.
    pub promotion: Option<Digest>,
    /// [`crate::statement::Statement::summary`].
    pub summary: Box<str>,
    /// A deployment report's environment and service.
    pub deployed: Option<Box<(String, String)>>,
}

/// Every entry of a verified log as rows, and the newest snapshots.
#[derive(Debug, Clone, Default)]
pub struct LogIndex {
    rows: Chunked<EntryRow>,
    /// Signer names, shared by their rows.
    signers: Vec<Arc<str>>,
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
    pub fn get(&self, index: usize) -> Option<&EntryRow> {
        self.rows.get(index)
    }

    /// Every row, in log order.
    pub fn iter(&self) -> impl Iterator<Item = &EntryRow> {
        self.rows.iter()
    }

    /// The log indexes of every entry about `promotion` (its request, at
    /// `requested`, included), in log order: nothing before its request can
    /// be about it.
    pub fn timeline(&self, promotion: &Digest, requested: u64) -> Vec<usize> {
        let start = usize::try_from(requested).unwrap_or(usize::MAX);
        self.rows
            .iter_from(start)
            .zip(start..)
            .filter(|(row, _)| row.id == *promotion || row.promotion == Some(*promotion))
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
        let signer = if let Some(signer) = self.signers.iter().find(|s| ***s == *entry.signer) {
            Arc::clone(signer)
        } else {
            let signer: Arc<str> = Arc::from(entry.signer.as_str());
            self.signers.push(Arc::clone(&signer));
            signer
        };
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
            _ => None,
        };
        let row = EntryRow {
            index: entry.index,
            id: entry.id,
            signed_at: statement.signed_at().map(|(_, at)| at),
            signer,
            kind: statement.kind(),
            promotion: entry_promotion(entry),
            summary: statement.summary().into_boxed_str(),
            deployed,
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
