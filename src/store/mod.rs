//! `tollgate serve`'s core: the audit store's storage and append pipeline
//! (DESIGN §4). The HTTPS API (`store::server`) is a thin layer over
//! [`Store`].
//!
//! - [`Store::open`] migrates the database, verifies every stored entry
//!   under the policy chain (the genesis policy, then each accepted policy
//!   rotation), rebuilds the fold and the Merkle tree, and refuses to start
//!   when the stored checkpoint does not match the entries.
//! - [`Store::submit`] runs the append pipeline: strict parse → signature
//!   (the policy in force) → clock skew → group commit (authorisation and
//!   validation with the shared fold, leaf, one transaction for the batch
//!   and its signed checkpoint) → receipt. A receipt is only ever given for
//!   a durable commit.
//! - Several instances may share one PostgreSQL database: appends take a
//!   database-wide lock and first load whatever another instance committed,
//!   so there is one log, never two interleaved trees; and every read first
//!   catches up with the database's latest commit ([`Store::catch_up`]), so
//!   no instance serves a log older than a receipt another one gave.
//! - With `[[witnesses]]` configured ([`witnesses`]), each group commit's
//!   checkpoint is sent to the witnesses at most once (while the committer
//!   already commits the next batches), and an entry is acknowledged only
//!   when a checkpoint covering it carries the witness quorum; `GET
//!   /v1/checkpoint` serves only cosigned notes.

pub mod error;
pub mod hooks;
mod pipeline;
pub mod server;
pub mod storage;
pub mod witnesses;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

pub use error::{DatabaseError, Refused};
pub use storage::{DatabaseUrl, Storage};

use crate::digest::Digest;
use crate::envelope::Envelope;
use crate::keys::vkey::NoteVerifierKey;
use crate::keys::{PublicKey, Signer};
use crate::ledger::{Checkpoint, Hash, SignedCheckpoint, TreeError, leaf_hash};
use crate::policy::Policy;
use crate::state::State;
use pipeline::{Command, Job, Loader, Published, Shared, read};

/// Largest evidence blob accepted, in bytes.
pub use crate::wire::MAX_EVIDENCE_BYTES;

/// Most entries one [`Store::entries`] call returns.
pub const MAX_ENTRIES_PER_CALL: u64 = 1000;

/// Default largest group commit.
pub const DEFAULT_MAX_BATCH: usize = 256;

/// Default largest distance between a statement's time and the store's.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_mins(5);

/// Entries read from the database per query while loading.
const LOAD_PAGE: u64 = 10_000;

/// Submissions waiting for the committer before submitters wait too.
const QUEUE_CAPACITY: usize = 8192;

/// Checkpoints buffered per SSE subscriber before it lags.
const EVENT_CAPACITY: usize = 256;

/// How a store is started.
#[derive(Debug)]
pub struct StoreConfig {
    pub database: DatabaseUrl,
    /// The first policy version, pinned by digest in every client.
    pub genesis_policy: Policy,
    /// Signs checkpoints; its name must be the policy's origin.
    pub log_signer: Signer,
    pub max_batch: usize,
    pub max_clock_skew: Duration,
    /// Witnesses whose quorum must cosign every served checkpoint.
    pub witnesses: Option<witnesses::Witnesses>,
}

impl StoreConfig {
    /// A configuration with the default batch size and clock skew.
    pub fn new(database: DatabaseUrl, genesis_policy: Policy, log_signer: Signer) -> Self {
        Self {
            database,
            genesis_policy,
            log_signer,
            max_batch: DEFAULT_MAX_BATCH,
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            witnesses: None,
        }
    }
}

/// The store's word that an entry is in the log: its index, the inclusion
/// proof in the tree of the checkpoint, and that checkpoint (signed by the
/// log key). The API sends it as a [`crate::wire::Receipt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub index: u64,
    pub entry_id: Digest,
    pub inclusion_proof: Vec<Hash>,
    pub checkpoint: SignedCheckpoint,
    /// The entry was already in the log; nothing was appended.
    pub existed: bool,
}

/// Counters of the append pipeline since the store opened (for load tests
/// and operators): `commits` is the number of append transactions that
/// committed (each with its own checkpoint), `entries` the number of new
/// entries they wrote. `entries / commits` is the mean group-commit size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub commits: u64,
    pub entries: u64,
}

/// The audit store. Cheap to clone; every clone is the same store.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    queue: mpsc::Sender<Command>,
    committer: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
    /// The genesis policy clients pinned; served so they can start the chain.
    genesis: Arc<Policy>,
}

impl Store {
    /// Opens (creating and migrating if needed) the store's database,
    /// verifies the whole log, and starts the committer.
    pub async fn open(config: StoreConfig) -> Result<Store, DatabaseError> {
        let StoreConfig {
            database,
            genesis_policy,
            log_signer,
            max_batch,
            max_clock_skew,
            witnesses,
        } = config;
        if log_signer.name() != genesis_policy.origin {
            return Err(DatabaseError::Config(format!(
                "the log key is named `{}` but the policy's origin is `{}`; checkpoints are signed under the origin, so the log key must carry its name",
                log_signer.name(),
                genesis_policy.origin
            )));
        }
        let log_key = NoteVerifierKey::of_signer(&log_signer)
            .map_err(|e| DatabaseError::Config(format!("the log key cannot sign notes: {e}")))?;
        let storage = Storage::connect(&database).await?;
        pin(&storage, "origin", &genesis_policy.origin).await?;
        pin(
            &storage,
            "genesis policy digest",
            &genesis_policy.digest().to_string(),
        )
        .await?;
        pin(&storage, "log key", &log_signer.public().to_string()).await?;

        // The checkpoint first: entries commit together with theirs, so
        // every checkpoint read now is covered by the entries read next.
        let stored = storage.latest_checkpoint().await?;
        let genesis = Arc::new(genesis_policy);
        let mut loader = Loader::new(Arc::clone(&genesis));
        let mut pos = 0;
        loop {
            let rows = storage.entries(pos, pos + LOAD_PAGE).await?;
            let count = rows.len() as u64;
            if count == 0 {
                break;
            }
            loader = tokio::task::spawn_blocking(move || loader.load(rows, pos).map(|()| loader))
                .await
                .map_err(|e| DatabaseError::Config(format!("loading the log stopped: {e}")))??;
            pos += count;
        }
        let size = loader.tree.len();
        let checkpoint = match stored {
            Some((stored_size, bytes)) => {
                let signed =
                    SignedCheckpoint::parse_and_verify(&bytes, &log_key).map_err(|source| {
                        DatabaseError::CheckpointUnverifiable {
                            size: stored_size,
                            source,
                        }
                    })?;
                let claimed = signed.checkpoint();
                if claimed.size > size || stored_size > size {
                    return Err(DatabaseError::EntriesMissing {
                        entries: size,
                        checkpoint: claimed.size.max(stored_size),
                    });
                }
                let computed = loader
                    .tree
                    .root_at(claimed.size)
                    .map_err(|e| DatabaseError::Config(format!("cannot rebuild the tree: {e}")))?;
                if claimed.size != stored_size || computed != claimed.root {
                    return Err(DatabaseError::CheckpointMismatch {
                        size: stored_size,
                        stored: crate::encoding::encode(&claimed.root),
                        computed: crate::encoding::encode(&computed),
                    });
                }
                (claimed.size == size).then_some(signed)
            }
            None => None,
        };
        let checkpoint = if let Some(checkpoint) = checkpoint {
            checkpoint
        } else {
            // Entries without a checkpoint (or a new log): sign one.
            let checkpoint = SignedCheckpoint::sign(
                &Checkpoint {
                    origin: loader.work.policy().origin.clone(),
                    size,
                    root: loader.tree.root(),
                },
                &log_signer,
            )?;
            storage.put_checkpoint(size, checkpoint.as_bytes()).await?;
            checkpoint
        };
        tracing::info!(size, database = %database, policy_version = loader.work.policy().version, "audit store opened");

        let work = loader.work;
        let served_ok = witnesses.as_ref().is_none_or(|w| {
            crate::ledger::cosignature::check_quorum(checkpoint.as_bytes(), &w.keys(), w.quorum())
                .is_ok()
        });
        let published = Published {
            served: checkpoint.clone(),
            served_ok,
            policy: Arc::clone(work.policy()),
            ring: Arc::clone(work.replay.ring()),
            key_ids: pipeline::key_ids(work.policy()),
            folder: work.replay.folder().clone(),
            tree: loader.tree,
            checkpoint,
            ids: loader.ids,
            policy_entries: work.replay.policy_entries().to_vec(),
        };
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let shared = Arc::new(Shared {
            storage,
            log_signer,
            log_key,
            max_batch: max_batch.max(1),
            max_clock_skew,
            published: std::sync::RwLock::new(published),
            events,
            stats: pipeline::Counters::default(),
            witnesses,
        });
        // With witnesses, try to serve a cosigned checkpoint from the start
        // (bounded by `witnesses::COSIGN_WAIT`; retried while idle).
        if let witnesses::Cosigned::Served(note) = witnesses::cosign_latest(&shared).await {
            witnesses::record(&shared, &note).await;
        }
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let committer = tokio::spawn(pipeline::run(shared.clone(), work, receiver));
        Ok(Store {
            inner: Arc::new(Inner {
                shared,
                queue,
                committer: tokio::sync::Mutex::new(Some(committer)),
                closed: AtomicBool::new(false),
                genesis,
            }),
        })
    }

    /// The genesis policy (version 1), the start of the policy chain.
    pub fn genesis_policy(&self) -> Arc<Policy> {
        Arc::clone(&self.inner.genesis)
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Runs the append pipeline for one envelope (JSON bytes, stored exactly
    /// as given). `now` is the store's clock, against which statement times
    /// are checked. Answers only after the entry is durably committed.
    pub async fn submit(
        &self,
        envelope: Vec<u8>,
        now: OffsetDateTime,
    ) -> Result<Acknowledgement, Refused> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Refused::shutting_down());
        }
        let parsed = Envelope::from_json(&envelope).map_err(pipeline::refuse_envelope)?;
        let (ring, policy) = {
            let published = read(&self.shared().published);
            (published.ring.clone(), published.policy.clone())
        };
        let entry = ring
            .verify_envelope(0, &parsed)
            .map_err(|e| pipeline::refuse_entry(e, &parsed, &policy))?;
        let committed = {
            let published = read(&self.shared().published);
            match published.ids.get(&entry.id) {
                Some(&index) if published.is_served(index) => {
                    return published.receipt(index, entry.id, true);
                }
                // Committed, not yet cosigned: the committer retries the
                // witnesses and answers "existed" once they cosign.
                Some(_) => true,
                None => false,
            }
        };
        if !committed {
            pipeline::check_clock(&entry.statement, now, self.shared().max_clock_skew)?;
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            entry_id: entry.id,
            entry: Some(entry),
            verified_under: policy.digest(),
            envelope: parsed,
            leaf: leaf_hash(&envelope),
            bytes: envelope,
            now,
            reply,
        };
        self.inner
            .queue
            .send(Command::Submit(Box::new(job)))
            .await
            .map_err(|_| Refused::shutting_down())?;
        answer
            .await
            .unwrap_or_else(|_| Err(Refused::shutting_down()))
    }

    /// Makes sure this instance serves nothing older than the database's
    /// latest commit: one indexed query of the committed size, and when
    /// another instance committed more, the committer loads it before this
    /// returns. Every read of the log calls this first, so a client reading
    /// through several instances behind a load balancer never sees the log
    /// shrink.
    pub async fn catch_up(&self) -> Result<(), DatabaseError> {
        let committed = self.shared().storage.size().await?;
        let served = read(&self.shared().published).size();
        if committed <= served {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        self.inner
            .queue
            .send(Command::CatchUp(reply))
            .await
            .map_err(|_| DatabaseError::Closed)?;
        let _ = answer.await;
        let served = read(&self.shared().published).size();
        if served < committed {
            return Err(DatabaseError::Behind { served, committed });
        }
        Ok(())
    }

    /// Envelope bytes of entries `start..end` (end exclusive), at most
    /// [`MAX_ENTRIES_PER_CALL`], never past the latest checkpoint.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, DatabaseError> {
        let size = read(&self.shared().published).size();
        let end = end
            .min(size)
            .min(start.saturating_add(MAX_ENTRIES_PER_CALL));
        if start >= end {
            return Ok(Vec::new());
        }
        let rows = self.shared().storage.entries(start, end).await?;
        Ok(rows.into_iter().map(|row| row.body).collect())
    }

    /// The latest served checkpoint: signed by the log key and, with
    /// witnesses configured, carrying their quorum of cosignatures.
    pub fn checkpoint(&self) -> SignedCheckpoint {
        read(&self.shared().published).served.clone()
    }

    /// Inclusion proof of leaf `index` in the tree of `size` leaves (at most
    /// the latest checkpoint's size).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        let published = read(&self.shared().published);
        published.check_size(size)?;
        published.tree.inclusion_proof(index, size)
    }

    /// Consistency proof from the tree of `from` leaves to that of `to`.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, TreeError> {
        let published = read(&self.shared().published);
        published.check_size(to)?;
        published.tree.consistency_proof(from, to)
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        read(&self.shared().published).policy.clone()
    }

    /// Log indexes of the accepted policy versions after the genesis one.
    pub fn policy_entries(&self) -> Vec<u64> {
        read(&self.shared().published).policy_entries.clone()
    }

    /// The derived views (promotions, readiness, environments) at `now`.
    pub fn state(&self, now: OffsetDateTime) -> State {
        read(&self.shared().published).folder.state_at(now)
    }

    /// Every new checkpoint, as it is published.
    pub fn subscribe(&self) -> broadcast::Receiver<SignedCheckpoint> {
        self.shared().events.subscribe()
    }

    /// What the append pipeline has committed since the store opened.
    pub fn stats(&self) -> StoreStats {
        self.shared().stats.snapshot()
    }

    /// The C2SP verifier key of the log (for clients' configuration).
    pub fn log_key(&self) -> &NoteVerifierKey {
        &self.shared().log_key
    }

    /// Stores an evidence blob after checking it hashes to `digest`.
    /// Returns whether it was newly stored (uploads are idempotent).
    pub async fn put_evidence(
        &self,
        digest: Digest,
        media_type: &str,
        body: &[u8],
    ) -> Result<bool, Refused> {
        if body.len() > MAX_EVIDENCE_BYTES {
            return Err(Refused::TooLarge {
                what: "evidence blob",
                size: body.len(),
                limit: MAX_EVIDENCE_BYTES,
            });
        }
        if media_type.is_empty()
            || media_type.len() > 255
            || !media_type
                .bytes()
                .all(|b| b.is_ascii_graphic() || b == b' ')
        {
            return Err(Refused::BadMediaType(media_type.chars().take(64).collect()));
        }
        let actual = Digest::of(body);
        if actual != digest {
            return Err(Refused::DigestMismatch {
                claimed: digest,
                actual,
            });
        }
        let now = OffsetDateTime::now_utc();
        let stored_at = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        self.shared()
            .storage
            .put_evidence(digest.as_bytes(), media_type, body, stored_at)
            .await
            .map_err(|error| {
                tracing::error!(%error, "cannot store an evidence blob");
                Refused::Unavailable("the database did not store the blob".into())
            })
    }

    /// An evidence blob and its media type.
    pub async fn get_evidence(
        &self,
        digest: &Digest,
    ) -> Result<Option<(String, Vec<u8>)>, DatabaseError> {
        self.shared().storage.get_evidence(digest.as_bytes()).await
    }

    /// The operator whose key has this key id (`PublicKey::key_id`) in the
    /// policy in force.
    pub fn operator_for_key_id(&self, key_id: &str) -> Option<(String, PublicKey)> {
        read(&self.shared().published).key_ids.get(key_id).cloned()
    }

    /// The log key, for signing deploy-hook notifications.
    pub(crate) fn log_signer(&self) -> &Signer {
        &self.shared().log_signer
    }

    /// Records one attempt to deliver a deploy-hook notification.
    pub async fn record_hook_delivery(
        &self,
        url: &str,
        event: &str,
        attempt: u32,
        status: Option<u16>,
        error: Option<&str>,
    ) -> Result<(), DatabaseError> {
        let at = OffsetDateTime::now_utc().unix_timestamp() * 1000;
        self.shared()
            .storage
            .record_hook_delivery(url, event, attempt, status, error, at)
            .await
    }

    /// Every recorded deploy-hook delivery attempt, oldest first.
    pub async fn hook_deliveries(&self) -> Result<Vec<storage::HookDelivery>, DatabaseError> {
        self.shared().storage.hook_deliveries().await
    }

    /// Stops accepting submissions, commits what is queued, waits for the
    /// committer and closes the database. Later submissions are refused as
    /// unavailable.
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let _ = self.inner.queue.send(Command::Shutdown).await;
        let committer = self.inner.committer.lock().await.take();
        if let Some(Err(error)) = match committer {
            Some(handle) => Some(handle.await),
            None => None,
        } {
            tracing::error!(%error, "the committer stopped abnormally");
        }
        self.shared().storage.close().await;
    }
}

/// Pins `value` under `what` on first start; refuses a different value later.
async fn pin(storage: &Storage, what: &'static str, value: &str) -> Result<(), DatabaseError> {
    let stored = storage.pin_meta(what, value).await?;
    if stored != value {
        return Err(DatabaseError::Pinned {
            what,
            stored,
            configured: value.to_owned(),
        });
    }
    Ok(())
}
