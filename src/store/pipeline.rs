//! The append pipeline (DESIGN §4) after the checks a submitter's own task
//! can make (strict parse, signature, clock skew; see `Store::submit`): one
//! committer task takes whatever submissions are queued (up to `max_batch`),
//! catches up with entries another store instance committed, validates the
//! batch in order against the in-memory fold, writes the accepted entries
//! and the new signed checkpoint in ONE transaction, and only after the
//! commit answers each submitter and publishes the new checkpoint.
//!
//! With witnesses, a batch's submitters are answered only once a cosigned
//! checkpoint covers it. Cosigning is pipelined with committing (see
//! [`Committer`]): while one checkpoint is out with the witnesses, the
//! next batches are validated and committed, and the next round cosigns
//! the latest checkpoint for all of them at once.
//!
//! Two copies of the fold exist: the committer's private [`Work`] (where a
//! batch is tried) and the [`Published`] one readers see, which only ever
//! holds committed entries. If a commit fails, `Work` is reset to
//! `Published`, and the next transaction re-reads the database's size, so an
//! append whose commit did succeed after all is loaded back from the
//! database rather than remembered.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::Acknowledgement;
use super::error::{DatabaseError, Refused};
use super::storage::{NewEntry, Storage, StoredEntry};
use super::witnesses::Cosigned;
use crate::digest::Digest;
use crate::envelope::{Envelope, EnvelopeError};
use crate::keys::vkey::NoteVerifierKey;
use crate::keys::{PublicKey, Signer};
use crate::ledger::{Checkpoint, Hash, MerkleTree, SignedCheckpoint, TreeError};
use crate::policy::Policy;
use crate::replay::{AdmitError, Replay, Replayed};
use crate::state::{EntryError, Folder, KeyRing, VerifiedEntry};
use crate::statement::Statement;

/// With witnesses: how many times a batch catches up with another instance
/// and retries cosigning before its submitters get 503.
const CATCH_UP_ROUNDS: usize = 4;

/// How often an idle committer looks for entries another instance appended
/// (reads do not wait for it: each catches up first, see `Store::catch_up`).
const REFRESH_INTERVAL: Duration = Duration::from_secs(1);

pub(super) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// State shared by the `Store` handles and the committer.
#[derive(Debug)]
pub(super) struct Shared {
    pub storage: Storage,
    pub log_signer: Signer,
    pub log_key: NoteVerifierKey,
    pub max_batch: usize,
    pub max_clock_skew: Duration,
    pub published: RwLock<Published>,
    pub events: broadcast::Sender<SignedCheckpoint>,
    pub stats: Counters,
    /// Witnesses that must cosign a checkpoint before it is served.
    pub witnesses: Option<super::witnesses::Witnesses>,
}

/// What the committer has done since the store opened (see `Store::stats`).
#[derive(Debug, Default)]
pub(super) struct Counters {
    commits: AtomicU64,
    entries: AtomicU64,
}

impl Counters {
    fn committed(&self, entries: usize) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.entries.fetch_add(entries as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> super::StoreStats {
        super::StoreStats {
            commits: self.commits.load(Ordering::Relaxed),
            entries: self.entries.load(Ordering::Relaxed),
        }
    }
}

/// What readers see: committed entries only (the tree may briefly hold
/// leaves of a batch being committed; readers never look past the
/// checkpoint's size).
#[derive(Debug)]
pub(super) struct Published {
    pub policy: Arc<Policy>,
    pub ring: Arc<KeyRing>,
    pub key_ids: HashMap<String, (String, PublicKey)>,
    pub folder: Folder,
    pub tree: MerkleTree,
    pub checkpoint: SignedCheckpoint,
    pub ids: HashMap<Digest, u64>,
    pub policy_entries: Vec<u64>,
    /// What `GET /v1/checkpoint` and receipts show: `checkpoint` itself
    /// without witnesses; with witnesses, the latest one cosigned by the
    /// quorum (`served_ok` is false until one is).
    pub served: SignedCheckpoint,
    pub served_ok: bool,
}

/// Key id (`PublicKey::key_id`) → operator, for request authentication.
pub(super) fn key_ids(policy: &Policy) -> HashMap<String, (String, PublicKey)> {
    policy
        .operators
        .values()
        .map(|op| (op.key.key_id().to_string(), (op.name.clone(), op.key)))
        .collect()
}

impl Published {
    pub fn size(&self) -> u64 {
        self.checkpoint.checkpoint().size
    }

    /// Whether entry `index` is covered by the served (cosigned) checkpoint.
    pub fn is_served(&self, index: u64) -> bool {
        self.served_ok && index < self.served.checkpoint().size
    }

    pub fn receipt(
        &self,
        index: u64,
        entry_id: Digest,
        existed: bool,
    ) -> Result<Acknowledgement, Refused> {
        if !self.is_served(index) {
            return Err(Refused::NotCosigned {
                index,
                why: "the witnesses did not answer in time".into(),
            });
        }
        let inclusion_proof = self
            .tree
            .inclusion_proof(index, self.served.checkpoint().size)
            .map_err(|e| Refused::Unavailable(format!("the receipt could not be built: {e}")))?;
        Ok(Acknowledgement {
            index,
            entry_id,
            inclusion_proof,
            checkpoint: self.served.clone(),
            existed,
        })
    }

    /// Proofs are answered only for trees a checkpoint was published for.
    pub fn check_size(&self, size: u64) -> Result<(), TreeError> {
        let len = self.size();
        if size > len {
            return Err(TreeError::SizeBeyondTree { size, len });
        }
        Ok(())
    }
}

/// A submission that passed the checks its own task can make.
#[derive(Debug)]
pub(super) struct Job {
    pub entry_id: Digest,
    /// Verified under the policy whose digest is `verified_under`.
    pub entry: Option<VerifiedEntry>,
    pub verified_under: Digest,
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
    pub leaf: Hash,
    pub now: OffsetDateTime,
    pub reply: oneshot::Sender<Result<Acknowledgement, Refused>>,
}

#[derive(Debug)]
pub(super) enum Command {
    Submit(Box<Job>),
    /// Load what other store instances committed, then answer.
    CatchUp(oneshot::Sender<()>),
    /// Finish what is queued before this, then stop.
    Shutdown,
}

/// Why an envelope failed to parse, as a refusal.
pub(super) fn refuse_envelope(error: EnvelopeError) -> Refused {
    match error {
        EnvelopeError::TooLarge(size) => Refused::TooLarge {
            what: "entry",
            size,
            limit: crate::envelope::MAX_ENVELOPE_BYTES,
        },
        other => Refused::Malformed(other),
    }
}

/// Why a parsed envelope did not verify under `policy`, as a refusal. The
/// key id hints only choose between "bad signature" and "unknown signer".
pub(super) fn refuse_entry(error: EntryError, envelope: &Envelope, policy: &Policy) -> Refused {
    match error {
        EntryError::Envelope(EnvelopeError::NoValidSignature) => {
            let hinted = envelope.signatures().iter().find_map(|s| {
                policy
                    .operators
                    .values()
                    .find(|op| op.key.key_id().to_string() == s.keyid)
            });
            match hinted {
                Some(op) => Refused::BadSignature {
                    signer: op.name.clone(),
                },
                None => Refused::UnknownSigner {
                    hints: envelope
                        .signatures()
                        .iter()
                        .map(|s| {
                            if s.keyid.is_empty() {
                                "(none)".to_owned()
                            } else {
                                s.keyid.chars().take(16).collect()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                },
            }
        }
        EntryError::Envelope(other) => refuse_envelope(other),
        EntryError::Statement(e) => Refused::InvalidStatement(e),
    }
}

/// Refuses a statement whose time is more than `max` away from `now`.
pub(super) fn check_clock(
    statement: &Statement,
    now: OffsetDateTime,
    max: Duration,
) -> Result<(), Refused> {
    let Some((field, at)) = statement.signed_at() else {
        return Ok(());
    };
    let max_skew = time::Duration::try_from(max).unwrap_or(time::Duration::MAX);
    if (at - now).abs() > max_skew {
        return Err(Refused::ClockSkew {
            field,
            at,
            now,
            max_secs: max.as_secs(),
        });
    }
    Ok(())
}

/// The committer's fold: the policy in force, its key ring, the fold, and
/// the log size it covers.
///
/// A policy rotation changes the policy for the entries after it; earlier
/// entries keep the effect they had (`Folder::set_policy`), exactly as
/// clients fold the log, so the store refuses what clients would not count
/// and nothing else. Approvals bound to an older policy then show as stale.
#[derive(Debug)]
pub(super) struct Work {
    /// The one verified replay (`crate::replay`) of the committed log, then
    /// of this batch's entries as they are admitted.
    pub replay: Replay,
}

/// Loading state: the fold, the tree and the entry ids.
#[derive(Debug)]
pub(super) struct Loader {
    pub work: Work,
    pub tree: MerkleTree,
    pub ids: HashMap<Digest, u64>,
}

/// An entry newly known to be committed, and the policy it installed (if
/// it is a policy rotation).
type Appended = Replayed;

impl Work {
    pub fn new(genesis: Arc<Policy>) -> Self {
        Self {
            replay: Replay::new(genesis),
        }
    }

    /// Entries committed or admitted so far.
    pub fn size(&self) -> u64 {
        self.replay.size()
    }

    /// The policy in force.
    pub fn policy(&self) -> &Arc<Policy> {
        self.replay.policy()
    }

    /// Validates a new entry at the end of the log and records it, or
    /// refuses it without changing anything (`Replay::admit`).
    fn admit(&mut self, job: &mut Job) -> Result<Appended, Refused> {
        let index = self.size();
        let mut entry = match job.entry.take() {
            Some(entry) if job.verified_under == self.policy().digest() => entry,
            // The policy changed since the submitter's check: verify again
            // under the policy in force now.
            _ => self
                .replay
                .ring()
                .verify_envelope(index, &job.envelope)
                .map_err(|e| refuse_entry(e, &job.envelope, self.policy()))?,
        };
        entry.index = index;
        let installs = self
            .replay
            .admit(&entry, &job.envelope, job.leaf)
            .map_err(|e| match e {
                AdmitError::Rotation(e) => Refused::PolicyRotation(e),
                AdmitError::Rules(refusal) => Refused::from_refusal(refusal),
            })?;
        Ok(Appended {
            entry,
            leaf: job.leaf,
            installs,
        })
    }

    /// Forgets everything not published (after a failed commit).
    fn reset(&mut self, published: &Published) {
        self.replay = Replay::from_parts(
            Arc::clone(self.replay.genesis()),
            published.folder.clone(),
            published.tree.clone(),
            published.policy_entries.clone(),
        );
    }
}

impl Loader {
    pub fn new(genesis: Arc<Policy>) -> Self {
        Self {
            work: Work::new(genesis),
            tree: MerkleTree::new(),
            ids: HashMap::new(),
        }
    }

    /// Loads committed entries starting at `first` (see [`load_rows`]).
    pub fn load(&mut self, rows: Vec<StoredEntry>, first: u64) -> Result<(), DatabaseError> {
        for appended in load_rows(&mut self.work, rows, first)? {
            self.tree.append(appended.leaf);
            self.ids.insert(appended.entry.id, appended.entry.index);
        }
        Ok(())
    }
}

/// A fold of the committed log for deploy hooks: entries are applied one
/// at a time (or silently in pages), verified as on load.
#[derive(Debug)]
pub(super) struct HookFold {
    work: Work,
}

impl HookFold {
    pub fn new(genesis: Arc<Policy>) -> Self {
        Self {
            work: Work::new(genesis),
        }
    }

    /// Entries folded so far.
    pub fn size(&self) -> u64 {
        self.work.size()
    }

    /// Folds committed rows (contiguous from [`HookFold::size`]); returns each
    /// entry's index and its signed time (policy entries carry none).
    pub fn apply(
        &mut self,
        rows: Vec<StoredEntry>,
    ) -> Result<Vec<(u64, Option<OffsetDateTime>)>, DatabaseError> {
        let first = self.work.size();
        Ok(load_rows(&mut self.work, rows, first)?
            .iter()
            .map(|a| {
                (
                    a.entry.index,
                    a.entry.statement.signed_at().map(|(_, at)| at),
                )
            })
            .collect())
    }

    /// The derived views at `at`.
    pub fn state_at(&self, at: OffsetDateTime) -> crate::state::State {
        self.work.replay.folder().state_at(at)
    }

    /// The origin of the log.
    pub fn origin(&self) -> &str {
        &self.work.policy().origin
    }
}

/// Verifies committed entries starting at `first` (the current size) and
/// folds them into `work`: contiguous indexes, stored id and leaf hash agree
/// with the body, the signature verifies under the policy in force at that
/// point, policy changes verify against the version before.
fn load_rows(
    work: &mut Work,
    rows: Vec<StoredEntry>,
    first: u64,
) -> Result<Vec<Appended>, DatabaseError> {
    let mut bodies = Vec::with_capacity(rows.len());
    let mut columns = Vec::with_capacity(rows.len());
    for (offset, row) in rows.into_iter().enumerate() {
        let expected = first + offset as u64;
        if row.index != expected {
            return Err(DatabaseError::Gap {
                expected,
                found: row.index,
            });
        }
        bodies.push(row.body);
        columns.push((row.entry_id, row.leaf_hash));
    }
    let before = work.replay.refused().len();
    let loaded = work
        .replay
        .extend(&bodies)
        .map_err(|e| DatabaseError::CorruptEntry {
            index: e.index(),
            problem: format!("it does not verify under the policy in force at that point ({e})"),
        })?;
    if let Some(refused) = work.replay.refused().get(before) {
        // The store refuses what the rules refuse; one in the log means the
        // database was written behind its back or under other rules.
        return Err(DatabaseError::CorruptEntry {
            index: refused.index,
            problem: format!("the rules refuse it ({})", refused.reason),
        });
    }
    for (appended, (entry_id, leaf)) in loaded.iter().zip(&columns) {
        let corrupt = |problem: &str| DatabaseError::CorruptEntry {
            index: appended.entry.index,
            problem: problem.to_owned(),
        };
        if appended.leaf.as_slice() != leaf.as_slice() {
            return Err(corrupt(
                "the stored body does not hash to the stored leaf hash",
            ));
        }
        if appended.entry.id.as_bytes().as_slice() != entry_id.as_slice() {
            return Err(corrupt(
                "the stored entry id is not the id of the stored envelope",
            ));
        }
    }
    Ok(loaded)
}

/// How one job of a batch ended.
#[derive(Debug)]
enum Outcome {
    Accepted(u64),
    Existed(u64),
    Refused(Refused),
}

impl Outcome {
    /// The log index this outcome's receipt proves, if it gets one.
    fn index(&self) -> Option<u64> {
        match self {
            Self::Accepted(index) | Self::Existed(index) => Some(*index),
            Self::Refused(_) => None,
        }
    }
}

/// A committed batch whose submitters have not been answered yet: with
/// witnesses, until a cosigned checkpoint covers its entries.
#[derive(Debug)]
struct Committed {
    jobs: Vec<Job>,
    outcomes: Vec<Outcome>,
    /// The smallest served checkpoint size that covers every receipt the
    /// batch gives (0 when it gives none).
    needs: u64,
}

impl Committed {
    /// Answers every submitter of the batch from what `published` serves;
    /// receipts it cannot give yet are refused as not cosigned, with `why`
    /// when a cosigning round failed.
    fn answer(self, published: &Published, why: Option<&str>) {
        for (job, outcome) in self.jobs.into_iter().zip(self.outcomes) {
            let answer = match outcome {
                Outcome::Accepted(index) => published.receipt(index, job.entry_id, false),
                Outcome::Existed(index) => published.receipt(index, job.entry_id, true),
                Outcome::Refused(refused) => Err(refused),
            };
            let answer = match (answer, why) {
                (Err(Refused::NotCosigned { index, .. }), Some(why)) => Err(Refused::NotCosigned {
                    index,
                    why: why.to_owned(),
                }),
                (answer, _) => answer,
            };
            let _ = job.reply.send(answer);
        }
    }
}

/// What woke the committer.
enum Event {
    Command(Option<Command>),
    Cosigned(Cosigned),
    Tick,
}

/// The committer: its fold, the committed batches waiting for their
/// cosigned checkpoint (in log order), and the cosigning round out with
/// the witnesses (at most one: a witness takes a log's checkpoints in
/// order).
///
/// With witnesses the two run side by side: while round N is out, batches
/// keep committing; when it comes back, every batch it covers is answered,
/// in order, and the next round cosigns the latest checkpoint, which covers
/// every batch committed meanwhile. A submitter is never answered before a
/// cosigned checkpoint covering its entry is served, and is never answered
/// before a submitter of an earlier batch.
///
/// Batches are not held back while a round is out: in `store_load` with
/// two witnesses, committing whatever is queued beat holding to one batch
/// ahead of the round (larger but later group commits), since the store's
/// and the witnesses' flushes proceed side by side.
struct Committer {
    shared: Arc<Shared>,
    work: Work,
    waiting: VecDeque<Committed>,
    round: Option<JoinHandle<Cosigned>>,
    /// Rounds retried after catching up with another instance, for the
    /// batches waiting now.
    retries: usize,
    /// The latest cosigned note not yet written to the database; it goes
    /// into the next append transaction (or its own when idle).
    unrecorded: Option<SignedCheckpoint>,
}

/// The end of the cosigning round, if one is out; never otherwise.
/// Cancel-safe: the round is only taken once it finished.
async fn round_end(round: &mut Option<JoinHandle<Cosigned>>) -> Cosigned {
    let Some(handle) = round.as_mut() else {
        return std::future::pending().await;
    };
    let ended = handle.await;
    *round = None;
    ended.unwrap_or_else(|e| Cosigned::Failed {
        size: u64::MAX,
        why: format!("the cosigning task stopped: {e}"),
    })
}

/// The committer task: runs until `Shutdown` or until every `Store` handle
/// is gone, finishes cosigning what it committed, then answers anything
/// left in the queue as unavailable.
pub(super) async fn run(shared: Arc<Shared>, work: Work, mut queue: mpsc::Receiver<Command>) {
    let mut committer = Committer {
        shared,
        work,
        waiting: VecDeque::new(),
        round: None,
        retries: 0,
        unrecorded: None,
    };
    let mut refresh = tokio::time::interval(REFRESH_INTERVAL);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let event = tokio::select! {
            biased;
            ended = round_end(&mut committer.round) => Event::Cosigned(ended),
            command = queue.recv() => Event::Command(command),
            _ = refresh.tick() => Event::Tick,
        };
        let first = match event {
            Event::Cosigned(ended) => {
                committer.cosigned(ended).await;
                continue;
            }
            Event::Tick => {
                committer.refresh_idle().await;
                committer.record().await;
                continue;
            }
            Event::Command(command) => command,
        };
        let mut stop = false;
        let mut jobs = Vec::new();
        let mut waiting = Vec::new();
        match first {
            None | Some(Command::Shutdown) => stop = true,
            Some(Command::Submit(job)) => jobs.push(*job),
            Some(Command::CatchUp(reply)) => waiting.push(reply),
        }
        // Group commit: everything already queued, without waiting.
        while !stop && jobs.len() < committer.shared.max_batch {
            match queue.try_recv() {
                Ok(Command::Submit(job)) => jobs.push(*job),
                Ok(Command::CatchUp(reply)) => waiting.push(reply),
                Ok(Command::Shutdown) => stop = true,
                Err(_) => break,
            }
        }
        if !jobs.is_empty() {
            // A commit loads what others committed first.
            committer.commit(jobs).await;
        } else if !waiting.is_empty() {
            committer.refresh_idle().await;
        }
        for reply in waiting {
            let _ = reply.send(());
        }
        if stop {
            break;
        }
    }
    committer.finish().await;
    queue.close();
    while let Ok(command) = queue.try_recv() {
        if let Command::Submit(job) = command {
            let _ = job.reply.send(Err(Refused::shutting_down()));
        }
    }
}

impl Committer {
    /// Commits one batch; its submitters are answered once its receipts
    /// can be given (at once without witnesses).
    async fn commit(&mut self, mut jobs: Vec<Job>) {
        let mut outcomes = Vec::with_capacity(jobs.len());
        let record = self.unrecorded.take();
        match try_commit(
            &self.shared,
            &mut self.work,
            &mut jobs,
            &mut outcomes,
            record.as_ref(),
        )
        .await
        {
            Ok(()) => {
                if !jobs.is_empty() {
                    let needs = outcomes
                        .iter()
                        .filter_map(Outcome::index)
                        .max()
                        .map_or(0, |index| index + 1);
                    self.waiting.push_back(Committed {
                        jobs,
                        outcomes,
                        needs,
                    });
                }
                self.release();
                self.start_round();
            }
            Err(error) => {
                tracing::error!(%error, batch = jobs.len(), "append failed; the batch is refused as unavailable and memory is reset to the last commit");
                if self.unrecorded.is_none() {
                    self.unrecorded = record;
                }
                {
                    let mut published = write(&self.shared.published);
                    let size = published.size();
                    if published.tree.len() > size {
                        let tree = &published.tree;
                        let leaves: Vec<Hash> = (0..size).filter_map(|i| tree.leaf(i)).collect();
                        published.tree = MerkleTree::from_leaf_hashes(leaves);
                    }
                    self.work.reset(&published);
                }
                // Every submitter of the batch is told to retry: even a refusal
                // may have depended on an entry of this batch that is now gone.
                for job in jobs {
                    let _ = job.reply.send(Err(Refused::unavailable_commit()));
                }
            }
        }
    }

    /// Answers, in order, the waiting batches the served checkpoint covers.
    fn release(&mut self) {
        let published = read(&self.shared.published);
        let served = if published.served_ok {
            published.served.checkpoint().size
        } else {
            0
        };
        while let Some(batch) = self.waiting.pop_front_if(|b| b.needs <= served) {
            batch.answer(&published, None);
        }
    }

    /// Sends the latest checkpoint to the witnesses unless a round is out
    /// or it is served already.
    fn start_round(&mut self) {
        if self.round.is_some() || self.shared.witnesses.is_none() {
            return;
        }
        {
            let published = read(&self.shared.published);
            if published.served_ok
                && published.served.checkpoint() == published.checkpoint.checkpoint()
            {
                return;
            }
        }
        let shared = Arc::clone(&self.shared);
        self.round = Some(tokio::spawn(async move {
            super::witnesses::cosign_latest(&shared).await
        }));
    }

    /// A cosigning round came back: answer what it covers, then start the
    /// next one for what was committed meanwhile.
    async fn cosigned(&mut self, ended: Cosigned) {
        match ended {
            Cosigned::AlreadyServed => self.release(),
            Cosigned::Served(note) => {
                self.retries = 0;
                self.unrecorded = Some(note);
                self.release();
            }
            Cosigned::Failed { size, why } => {
                if self.retries < CATCH_UP_ROUNDS && self.overtaken(size).await {
                    // Another instance moved the log (and the witnesses)
                    // past this one: the next round cosigns the newer
                    // checkpoint, which covers the batches waiting.
                    self.retries += 1;
                } else {
                    self.retries = 0;
                    let published = read(&self.shared.published);
                    while let Some(batch) = self.waiting.pop_front_if(|b| b.needs <= size) {
                        batch.answer(&published, Some(&why));
                    }
                }
            }
        }
        self.start_round();
    }

    /// Whether the round for `size` failed because the log moved on past
    /// it: another instance committed more (loaded now), or a witness has
    /// cosigned a larger size that this instance already committed (its
    /// batch ahead of the round loaded the other instance's entries).
    async fn overtaken(&mut self, size: u64) -> bool {
        if catch_up(&self.shared, &mut self.work).await {
            return true;
        }
        let committed = read(&self.shared.published).size();
        committed > size
            && self
                .shared
                .witnesses
                .as_ref()
                .is_some_and(|w| w.has_cosigned_beyond(size))
    }

    /// Picks up entries another store instance committed while this one is
    /// idle, and gets the latest checkpoint cosigned if it is not.
    async fn refresh_idle(&mut self) {
        match self.shared.storage.size().await {
            Ok(size) if size > self.work.size() => self.commit(Vec::new()).await,
            Ok(_) => self.start_round(),
            Err(error) => tracing::warn!(%error, "cannot check the database for new entries"),
        }
    }

    /// Writes the latest cosigned note if no append transaction took it.
    async fn record(&mut self) {
        if let Some(note) = self.unrecorded.take() {
            super::witnesses::record(&self.shared, &note).await;
        }
    }

    /// On shutdown: finishes cosigning the committed batches (each round
    /// answers at least the batches it covers), then records the note.
    async fn finish(&mut self) {
        while !self.waiting.is_empty() {
            self.start_round();
            let ended = round_end(&mut self.round).await;
            self.cosigned(ended).await;
        }
        if let Some(round) = self.round.take() {
            // Nobody waits for it any more (a catch-up's checkpoint).
            round.abort();
        }
        self.record().await;
    }
}

/// Loads entries another instance committed since this one's last commit;
/// true when there were any.
async fn catch_up(shared: &Shared, work: &mut Work) -> bool {
    match shared.storage.size().await {
        Ok(size) if size > work.size() => {
            let mut outcomes = Vec::new();
            try_commit(shared, work, &mut [], &mut outcomes, None)
                .await
                .is_ok()
        }
        _ => false,
    }
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// One transaction: lock, catch up, validate, write entries and checkpoint
/// (and `record`, the latest cosigned note), commit, publish. On error
/// nothing is published.
async fn try_commit(
    shared: &Shared,
    work: &mut Work,
    jobs: &mut [Job],
    outcomes: &mut Vec<Outcome>,
    record: Option<&SignedCheckpoint>,
) -> Result<(), DatabaseError> {
    let mut tx = shared.storage.begin_append().await?;
    let committed = tx.size().await?;
    let base = work.size();
    if committed < base {
        return Err(DatabaseError::EntriesMissing {
            entries: committed,
            checkpoint: base,
        });
    }
    // Newly committed entries, in log order: another instance's, then ours.
    let mut appended: Vec<Appended> = Vec::new();
    if committed > base {
        // Another instance appended: take its entries first, so this batch
        // is validated after them and indexed after them.
        let rows = tx.entries_from(base).await?;
        appended = load_rows(work, rows, base)?;
        tracing::info!(
            from = base,
            to = work.size(),
            "loaded entries appended by another store instance"
        );
    }

    let mut accepted = Vec::new();
    {
        let published = read(&shared.published);
        let mut pending: HashMap<Digest, u64> = appended
            .iter()
            .map(|a| (a.entry.id, a.entry.index))
            .collect();
        for (i, job) in jobs.iter_mut().enumerate() {
            let known = pending
                .get(&job.entry_id)
                .or_else(|| published.ids.get(&job.entry_id));
            if let Some(&index) = known {
                outcomes.push(Outcome::Existed(index));
                continue;
            }
            match work.admit(job) {
                Ok(entry) => {
                    let index = entry.entry.index;
                    pending.insert(job.entry_id, index);
                    accepted.push((i, index));
                    appended.push(entry);
                    outcomes.push(Outcome::Accepted(index));
                }
                Err(refused) => outcomes.push(Outcome::Refused(refused)),
            }
        }
    }

    if let Some(note) = record {
        // The latest cosigned note rides along: no transaction of its own.
        tx.put_cosigned_checkpoint(note.checkpoint().size, note.as_bytes())
            .await?;
    }
    if appended.is_empty() {
        if record.is_some() {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        return Ok(());
    }
    let size = work.size();
    let root = {
        let mut published = write(&shared.published);
        for entry in &appended {
            published.tree.append(entry.leaf);
        }
        published
            .tree
            .root_at(size)
            .map_err(|e| DatabaseError::CorruptEntry {
                index: size,
                problem: e.to_string(),
            })?
    };
    let checkpoint = SignedCheckpoint::sign(
        &Checkpoint {
            origin: work.policy().origin.clone(),
            size,
            root,
        },
        &shared.log_signer,
    )?;
    let rows: Vec<NewEntry<'_>> = accepted
        .iter()
        .map(|&(i, index)| NewEntry {
            index,
            entry_id: jobs[i].entry_id.as_bytes(),
            leaf_hash: &jobs[i].leaf,
            body: &jobs[i].bytes,
            accepted_at_ms: unix_ms(jobs[i].now),
        })
        .collect();
    tx.insert_entries(&rows).await?;
    tx.put_checkpoint(size, checkpoint.as_bytes()).await?;
    tx.commit().await?;
    shared.stats.committed(rows.len());

    {
        let mut published = write(&shared.published);
        let mut rotated = false;
        for Appended {
            entry, installs, ..
        } in appended
        {
            published.folder.apply_all(std::iter::once(&entry));
            published.ids.insert(entry.id, entry.index);
            if let Some(policy) = installs {
                published.folder.set_policy(policy);
                rotated = true;
            }
        }
        if rotated {
            published.policy = Arc::clone(work.policy());
            published.ring = Arc::clone(work.replay.ring());
            published.key_ids = key_ids(work.policy());
            published.policy_entries = work.replay.policy_entries().to_vec();
        }
        published.checkpoint = checkpoint.clone();
        if shared.witnesses.is_some() {
            // Served (and announced) once the witnesses cosign it.
            return Ok(());
        }
        published.served = checkpoint.clone();
    }
    let _ = shared.events.send(checkpoint);
    Ok(())
}
