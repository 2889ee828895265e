//! Sync and `log verify`: download the whole log, verify every entry under
//! the policy chain that starts at the pinned genesis policy, recompute the
//! root, compare it with the checkpoint signed by the log key, check the
//! checkpoint against the one saved last time, and only then save the new
//! one and fold the entries locally. The store's derived views are never
//! used.
//!
//! [`verify_log_snapshot`] is the pure core (testable with logs built in
//! memory); [`sync`] fetches, calls it, and writes the checkpoint or the
//! alarm evidence.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;

use super::cache::{Cache, Kept, LogEntries, Refused, Update};
use super::config::ClientConfig;
use super::http::{StoreClient, StoreError};
use crate::digest::Digest;
use crate::envelope::Envelope;
use crate::keys::Signer;
use crate::keys::vkey::NoteVerifierKey;
use crate::ledger::cosignature::{QuorumError, check_quorum};
use crate::ledger::{Accepted, Hash, MerkleTree, SignedCheckpoint, check_checkpoint};
use crate::policy::Policy;
use crate::replay::{RefusedEntry, Replay, ReplayError};
use crate::state::{Folder, Rejudgements, State};

/// Everything needed to judge one view of the log.
#[derive(Debug, Clone, Copy)]
pub struct LogInputs<'a> {
    pub log_vkey: &'a NoteVerifierKey,
    /// The pinned digest of the genesis policy.
    pub policy_digest: Digest,
    /// The policy document `GET /v1/policy` returned, if any (used as the
    /// genesis only when its digest is the pinned one and the log carries
    /// no policy statement of its own).
    pub served_policy: Option<&'a str>,
    /// The signed checkpoint as served.
    pub checkpoint: &'a [u8],
    /// Every entry, from index 0 to the checkpoint's size.
    pub entries: &'a [Vec<u8>],
    /// The checkpoint saved by the last successful sync, if any.
    pub trusted: Option<&'a [u8]>,
    /// The consistency proof from the trusted size to the new size.
    pub consistency: &'a [Hash],
}

/// A log view that verified.
#[derive(Debug, Clone)]
pub struct VerifiedLog {
    pub checkpoint: SignedCheckpoint,
    pub accepted: Accepted,
    /// Every entry; those from the local cache are read when asked for.
    pub entries: LogEntries,
    pub genesis: Arc<Policy>,
    /// The fold of every entry, under the policy in force at each point; its
    /// policy is the latest accepted one.
    pub folder: Folder,
    /// The tree of every entry.
    pub tree: MerkleTree,
    /// Log indexes of the accepted policy versions after the genesis one.
    pub policy_entries: Vec<u64>,
    /// Entries downloaded from the store for this view (the rest came from
    /// the verified local cache).
    pub fetched: u64,
    /// Why the local cache was not used or not updated, for the user to see
    /// (the view itself is verified in full either way).
    pub cache_note: Option<String>,
    /// Set when the store was unreachable and this is the verified local
    /// cache: when its checkpoint was verified.
    pub offline: Option<OffsetDateTime>,
    /// This client's re-judgements of gate results from their evidence
    /// (`client::evidence::Rejudger`); empty until it ran. Readiness
    /// counts a gate result only where its re-judgement agrees.
    pub rejudged: Rejudgements,
}

impl VerifiedLog {
    pub fn policy(&self) -> &Arc<Policy> {
        self.folder.policy()
    }

    pub fn state_at(&self, now: OffsetDateTime) -> State {
        self.folder.state_judged(now, &self.rejudged)
    }

    /// What a save of this log into the local cache writes: the entries
    /// after `kept` (`bodies`, all of them when nothing is kept), verified
    /// at `verified_at`.
    pub fn cache_update<'a>(
        &'a self,
        kept: Option<&'a Kept>,
        bodies: &'a [Vec<u8>],
        verified_at: OffsetDateTime,
    ) -> Update<'a> {
        Update {
            kept,
            bodies,
            entries: &self.entries,
            folder: &self.folder,
            tree: &self.tree,
            policy_entries: &self.policy_entries,
            checkpoint: &self.checkpoint,
            genesis: &self.genesis,
            verified_at,
        }
    }

    /// [`Self::state_at`] for a read command done with the fold: the fold's
    /// state is taken rather than copied, and the fold left empty (under the
    /// same policy).
    pub fn take_state_at(&mut self, now: OffsetDateTime) -> State {
        let empty = Folder::new(Arc::clone(self.folder.policy()));
        std::mem::replace(&mut self.folder, empty).into_state_judged(now, &self.rejudged)
    }
}

/// The log does not match what was promised: evidence for an ALARM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{summary}")]
pub struct Mismatch {
    /// One line.
    pub summary: String,
    /// The self-contained evidence report.
    pub report: String,
}

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log misbehaved; the evidence was written to `evidence`.
    #[error("ALARM: {summary}; evidence written to {evidence}", evidence = .evidence.display())]
    Alarm { summary: String, evidence: PathBuf },
    /// Local files could not be read or written.
    #[error("{path}: cannot {action}: {source}", path = .path.display())]
    Local {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// The checkpoint saved earlier no longer verifies under `log_vkey`.
    #[error(
        "{path}: the saved checkpoint does not verify under the configured log_vkey ({problem}); \
         if the log key was rotated on purpose, move the file away and run `tollgate log verify` again",
        path = .path.display()
    )]
    SavedCheckpoint { path: PathBuf, problem: String },
    #[error("{0}")]
    NoHome(#[from] crate::paths::NoHomeError),
    /// The local cache failed a check as its entries were read.
    #[error(transparent)]
    Cache(#[from] Refused),
    /// The checkpoint lacks the configured witness quorum (a refusal, not
    /// an alarm: nothing shows the log is inconsistent).
    #[error("the store's checkpoint of size {size} is refused: {problem}")]
    NotCosigned { size: u64, problem: QuorumError },
    /// Offline, and there is no usable verified cache to show.
    #[error(
        "there is no verified local cache of the log to work from offline ({problem})\n  fix: run `tollgate log verify` once while the store is reachable"
    )]
    NoCache { problem: String },
}

/// Requires the configured witness quorum on a served checkpoint (a sync's
/// or a receipt's); with no witnesses configured there is nothing to check.
pub fn check_witnesses(
    config: &ClientConfig,
    checkpoint: &SignedCheckpoint,
) -> Result<(), SyncError> {
    if config.witnesses.is_empty() {
        return Ok(());
    }
    check_quorum(
        checkpoint.as_bytes(),
        &config.witnesses,
        config.witness_quorum,
    )
    .map(|_| ())
    .map_err(|problem| SyncError::NotCosigned {
        size: checkpoint.checkpoint().size,
        problem,
    })
}

fn mismatch(summary: String, checkpoint: &[u8], detail: &str) -> Mismatch {
    let mut report = String::new();
    let _ = writeln!(report, "SECURITY ERROR");
    let _ = writeln!(report, "reason: {summary}");
    let _ = writeln!(report);
    if !detail.is_empty() {
        let _ = writeln!(report, "{detail}");
        let _ = writeln!(report);
    }
    let _ = writeln!(report, "checkpoint served by the store:");
    for line in String::from_utf8_lossy(checkpoint).lines() {
        let _ = writeln!(report, "  {line}");
    }
    Mismatch { summary, report }
}

/// The policy document an envelope carries, without verifying it (the
/// caller checks the document against a pinned digest before trusting it).
fn unverified_policy_document(bytes: &[u8]) -> Option<String> {
    let envelope = Envelope::from_json(bytes).ok()?;
    let statement: serde_json::Value =
        serde_json::from_slice(envelope.unverified_payload()).ok()?;
    if statement.get("predicateType")?.as_str()? != crate::statement::predicate_type::POLICY {
        return None;
    }
    Some(
        statement
            .get("predicate")?
            .get("document")?
            .as_str()?
            .to_owned(),
    )
}

/// Judges one view of the log; pure.
pub fn verify_log_snapshot(inputs: &LogInputs<'_>) -> Result<VerifiedLog, Mismatch> {
    verify_log_from(inputs, None)
}

/// What a sync starts from: the replay of the entries already verified
/// (the local cache), whose checkpoint the trusted one covers.
#[derive(Debug)]
pub struct Base {
    pub replay: Replay,
    pub entries: LogEntries,
}

/// Judges one view of the log whose first `base.replay.size()` entries were
/// verified before; `inputs.entries` are the entries after them. The whole
/// tree (cached leaves and new ones) must hash to the served root. Pure.
pub fn verify_log_from(
    inputs: &LogInputs<'_>,
    base: Option<Base>,
) -> Result<VerifiedLog, Mismatch> {
    let served = inputs.checkpoint;
    let checkpoint = SignedCheckpoint::parse_and_verify(served, inputs.log_vkey).map_err(|e| {
        mismatch(
            format!("the store's checkpoint does not verify under the log key: {e}"),
            served,
            &format!("log key: {}", inputs.log_vkey),
        )
    })?;
    let size = checkpoint.checkpoint().size;
    let first = base.as_ref().map_or(0, |b| b.replay.size());
    if first + inputs.entries.len() as u64 != size {
        return Err(mismatch(
            format!(
                "the store served {} entries for a checkpoint of size {size}{}",
                inputs.entries.len(),
                if first > 0 {
                    format!(" after the {first} cached")
                } else {
                    String::new()
                }
            ),
            served,
            "",
        ));
    }

    // The served checkpoint against the trusted one first: on a fork this
    // reports both signed checkpoints, whatever else is wrong.
    let trusted = match inputs.trusted {
        Some(bytes) => Some(
            SignedCheckpoint::parse_and_verify(bytes, inputs.log_vkey).map_err(|e| {
                mismatch(
                    format!("the saved checkpoint does not verify: {e}"),
                    served,
                    "",
                )
            })?,
        ),
        None => None,
    };
    let accepted =
        check_checkpoint(trusted.as_ref(), &checkpoint, inputs.consistency).map_err(|alarm| {
            Mismatch {
                summary: alarm.reason.to_string(),
                report: alarm.report(),
            }
        })?;

    let (mut replay, mut verified) = match base {
        Some(base) => (base.replay, base.entries),
        None => (Replay::new(genesis_of(inputs)?), LogEntries::default()),
    };
    let genesis = Arc::clone(replay.genesis());
    let new = replay.extend(inputs.entries).map_err(|e| {
        let index = usize::try_from(e.index() - first).unwrap_or(usize::MAX);
        let detail = match &e {
            ReplayError::Policy { document, .. } => {
                format!("policy document presented:\n{document}")
            }
            ReplayError::Entry { .. } => inputs.entries.get(index).map_or_else(String::new, |b| {
                format!("entry {index} (base64): {}", crate::encoding::encode(b))
            }),
        };
        mismatch(e.to_string(), served, &detail)
    })?;
    verified.extend(new.into_iter().map(|r| r.entry));

    let root = replay.root();
    if root != checkpoint.checkpoint().root {
        return Err(mismatch(
            "the entries the store served do not hash to the root it signed".to_owned(),
            served,
            &format!(
                "recomputed root over {size} entries: {}",
                crate::encoding::encode(&root)
            ),
        ));
    }

    refused_entries(inputs, first, replay.refused())?;
    let (folder, tree, policy_entries) = replay.into_parts();

    Ok(VerifiedLog {
        checkpoint,
        accepted,
        entries: verified,
        genesis,
        folder,
        tree,
        policy_entries,
        fetched: inputs.entries.len() as u64,
        cache_note: None,
        offline: None,
        rejudged: Rejudgements::new(),
    })
}

/// The genesis policy: the one the store serves as genesis, else the log's
/// first policy statement; either way its digest must be the pinned one.
fn genesis_of(inputs: &LogInputs<'_>) -> Result<Arc<Policy>, Mismatch> {
    let served = inputs.checkpoint;
    let first_policy = inputs
        .entries
        .iter()
        .enumerate()
        .find_map(|(i, bytes)| unverified_policy_document(bytes).map(|d| (i, d)));
    let genesis_text = match (&first_policy, inputs.served_policy) {
        (_, Some(document)) => document.to_owned(),
        (Some((_, document)), None) => document.clone(),
        (None, None) => {
            return Err(mismatch(
                "neither the log nor the store presents a policy".to_owned(),
                served,
                "",
            ));
        }
    };
    let genesis =
        Policy::pinned(&genesis_text, "genesis policy", inputs.policy_digest).map_err(|e| {
            mismatch(
                format!(
                    "the genesis policy is not the pinned one ({})",
                    inputs.policy_digest
                ),
                served,
                &format!(
                    "{e}\ngenesis policy presented ({}):\n{genesis_text}",
                    Digest::of(genesis_text.as_bytes())
                ),
            )
        })?;
    Ok(Arc::new(genesis))
}

/// The store refuses whatever the fold refuses, and the fold's verdict on an
/// entry depends only on the log before it and the entry's own signed time;
/// so an entry the rules refuse inside a signed log proves the store broken
/// or lying. Any such entry (and any decision whose observed checkpoint is
/// not this log's own root at that size) is an ALARM, not a count.
fn refused_entries(
    inputs: &LogInputs<'_>,
    first: u64,
    refused: &[RefusedEntry],
) -> Result<(), Mismatch> {
    let bad: Vec<(u64, Digest, String, String)> = refused
        .iter()
        .map(|r| (r.index, r.id, r.signer.clone(), r.reason.to_string()))
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    let (index, _, _, reason) = &bad[0];
    let summary = format!(
        "the signed log holds {} entr{} the rules refuse, which a store that follows them cannot have accepted (first: entry {index}: {reason})",
        bad.len(),
        if bad.len() == 1 { "y" } else { "ies" },
    );
    let mut detail = String::new();
    for (index, id, signer, reason) in &bad {
        let _ = writeln!(detail, "entry {index} ({id}) signed by {signer}: {reason}");
        if let Some(bytes) = usize::try_from(index.saturating_sub(first))
            .ok()
            .filter(|_| *index >= first)
            .and_then(|i| inputs.entries.get(i))
        {
            let _ = writeln!(detail, "  base64: {}", crate::encoding::encode(bytes));
        }
    }
    Err(mismatch(summary, inputs.checkpoint, detail.trim_end()))
}

/// `origin` as a file name.
pub(super) fn file_stem(origin: &str) -> String {
    origin
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c == ':' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Where the last verified checkpoint of `origin` is kept.
pub fn checkpoint_path(origin: &str) -> Result<PathBuf, SyncError> {
    Ok(crate::paths::data_dir()?
        .join("checkpoints")
        .join(format!("{}.note", file_stem(origin))))
}

/// Writes `bytes` to `path` atomically and durably (see [`crate::durable`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SyncError> {
    crate::durable::write_atomic(path, bytes).map_err(|e| SyncError::Local {
        path: e.path,
        action: e.action,
        source: e.source,
    })
}

/// Writes the alarm evidence to `<data dir>/evidence/alarm-<unix>.txt`.
pub fn write_evidence(mismatch: &Mismatch, now: OffsetDateTime) -> Result<PathBuf, SyncError> {
    let dir = crate::paths::data_dir()?.join("evidence");
    let mut path = dir.join(format!("alarm-{}.txt", now.unix_timestamp()));
    let mut n = 1;
    while path.exists() {
        path = dir.join(format!("alarm-{}-{n}.txt", now.unix_timestamp()));
        n += 1;
    }
    write_atomic(&path, mismatch.report.as_bytes())?;
    Ok(path)
}

/// The saved (trusted) checkpoint of `origin`, verified under the log key.
fn trusted_checkpoint(
    config: &ClientConfig,
    path: &Path,
) -> Result<Option<(Vec<u8>, SignedCheckpoint)>, SyncError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SyncError::Local {
                path: path.to_path_buf(),
                action: "read",
                source,
            });
        }
    };
    let checkpoint = SignedCheckpoint::parse_and_verify(&bytes, &config.log_vkey).map_err(|e| {
        SyncError::SavedCheckpoint {
            path: path.to_path_buf(),
            problem: e.to_string(),
        }
    })?;
    Ok(Some((bytes, checkpoint)))
}

/// Fetches the log from the size of the verified local cache on (the whole
/// log when there is none, or it was refused), verifies the new entries,
/// checks the whole tree against the served checkpoint and that against the
/// saved one, and saves the checkpoint and the cache; on a mismatch writes
/// evidence and returns [`SyncError::Alarm`].
pub async fn sync(config: &ClientConfig, client: &StoreClient) -> Result<VerifiedLog, SyncError> {
    sync_resuming(config, client, None)
        .await
        .map(|(log, _)| log)
}

/// A log this process verified and keeps in memory (the cockpit's client
/// task), for the next sync to start from instead of loading the local
/// cache again: the replay of its entries and what the cache on disk holds
/// of them.
#[derive(Debug)]
pub struct Resume {
    pub base: Base,
    /// What the last save wrote (`None`: the cache was not written, so the
    /// next save rewrites it).
    pub kept: Option<Kept>,
}

impl Resume {
    /// The replay of `log` (its fold copied: the caller keeps `log` on
    /// screen) and what the last save kept.
    pub fn of(log: &VerifiedLog, kept: Option<Kept>) -> Self {
        Self {
            base: Base {
                replay: Replay::from_parts(
                    Arc::clone(&log.genesis),
                    log.folder.clone(),
                    log.tree.clone(),
                    log.policy_entries.clone(),
                ),
                entries: log.entries.clone(),
            },
            kept,
        }
    }
}

/// [`sync`], starting from `resume` when given (checked exactly as a loaded
/// cache is: the served tree must extend it, its root is recomputed and the
/// served checkpoint checked against the trusted one), else from the local
/// cache. Returns the verified log and what the cache on disk now holds.
pub async fn sync_resuming(
    config: &ClientConfig,
    client: &StoreClient,
    resume: Option<Resume>,
) -> Result<(VerifiedLog, Option<Kept>), SyncError> {
    let origin = config.log_vkey.name().to_owned();
    let saved_path = checkpoint_path(&origin)?;
    let trusted = trusted_checkpoint(config, &saved_path)?;
    // Ask the store first: when it is down, the caller falls back to the
    // cache (`offline`) without having loaded it twice.
    let served = client.checkpoint().await?;
    let operator = client.signer();
    let cache = Cache::default_location(&config.log_vkey, &operator.public())?;
    let (cached, kept, mut cache_note) = match resume {
        Some(resume) => (Some(resume.base), resume.kept, None),
        None => match cache.load(
            &config.log_vkey,
            config.policy_digest,
            &operator.public(),
            trusted.as_ref().map(|(_, c)| c),
        ) {
            Ok(Some(cached)) => {
                let kept = cached.kept();
                (
                    Some(Base {
                        replay: cached.replay,
                        entries: cached.entries,
                    }),
                    Some(kept),
                    None,
                )
            }
            Ok(None) => (None, None, None),
            Err(refused) => (None, None, Some(refused.to_string())),
        },
    };

    // The size to fetch comes from the signed checkpoint; a bad signature is
    // judged (and reported) by the pure core below.
    let size = SignedCheckpoint::parse_and_verify(&served, &config.log_vkey)
        .map_or(0, |c| c.checkpoint().size);
    // A cache larger than the served tree cannot be extended; the full
    // download lets the check against the trusted checkpoint judge it.
    let (cached, kept) = match cached {
        Some(base) if base.replay.size() <= size => (Some(base), kept),
        _ => (None, None),
    };
    let start = cached.as_ref().map_or(0, |base| base.replay.size());
    let entries = client.entries(start, size).await?;
    let served_policy = if cached.is_some() {
        None
    } else {
        match client.policy().await {
            Ok(view) => Some(view.genesis),
            Err(e) if e.is_unreachable() => return Err(e.into()),
            Err(_) => None,
        }
    };
    let trusted_size = trusted.as_ref().map(|(_, c)| c.checkpoint().size);
    let consistency = match trusted_size {
        Some(old) if old > 0 && old < size => client.consistency_proof(old, size).await?,
        _ => Vec::new(),
    };
    let inputs = LogInputs {
        log_vkey: &config.log_vkey,
        policy_digest: config.policy_digest,
        served_policy: served_policy.as_deref(),
        checkpoint: &served,
        entries: &entries,
        trusted: trusted.as_ref().map(|(bytes, _)| bytes.as_slice()),
        consistency: &consistency,
    };
    let base = cached;
    let submitted = super::receipts::load(&super::receipts::submitted_path(&origin)?)?;
    let verified = verify_log_from(&inputs, base)
        .and_then(|log| super::receipts::check_submitted(&log, &submitted).map(|()| log));
    let mut log = match verified {
        Ok(log) => log,
        Err(mismatch) => return Err(alarm(&mismatch)?),
    };
    // Witnesses: even a first sync takes only a cosigned checkpoint.
    check_witnesses(config, &log.checkpoint)?;
    if log.accepted != Accepted::Same {
        write_atomic(&saved_path, log.checkpoint.as_bytes())?;
    }
    // A save rewrites the whole cache when nothing of it is kept, which
    // takes every entry's bytes: those of a resumed log are not at hand, so
    // such a log is left unsaved (the next load finds the older cache, or
    // none, and fetches the rest).
    let whole = start == 0;
    let mut kept = kept;
    if (kept.is_none() && whole) || (kept.is_some() && !entries.is_empty()) {
        let update = log.cache_update(kept.as_ref(), &entries, OffsetDateTime::now_utc());
        kept = match cache.save(operator, &update) {
            Ok(kept) => Some(kept),
            Err(e) => {
                cache_note = Some(format!(
                    "the local cache could not be written ({e}); the next command downloads the whole log again"
                ));
                None
            }
        };
    }
    log.cache_note = cache_note;
    Ok((log, kept))
}

/// The verified local cache as a log view, without the store: checked
/// against the saved checkpoint exactly as a sync checks it (see
/// `client::cache`). Marked offline with the time its checkpoint was
/// verified.
pub fn offline(config: &ClientConfig, operator: &Signer) -> Result<VerifiedLog, SyncError> {
    let origin = config.log_vkey.name().to_owned();
    let trusted = trusted_checkpoint(config, &checkpoint_path(&origin)?)?;
    let cache = Cache::default_location(&config.log_vkey, &operator.public())?;
    let cached = cache
        .load(
            &config.log_vkey,
            config.policy_digest,
            &operator.public(),
            trusted.as_ref().map(|(_, c)| c),
        )
        .map_err(|refused| SyncError::NoCache {
            problem: refused.to_string(),
        })?
        .ok_or_else(|| SyncError::NoCache {
            problem: format!("nothing verified is cached in {}", cache.dir().display()),
        })?;
    let genesis = Arc::clone(cached.replay.genesis());
    let (folder, tree, policy_entries) = cached.replay.into_parts();
    Ok(VerifiedLog {
        checkpoint: cached.checkpoint,
        accepted: Accepted::Same,
        entries: cached.entries,
        genesis,
        folder,
        tree,
        policy_entries,
        fetched: 0,
        cache_note: None,
        offline: Some(cached.verified_at),
        rejudged: Rejudgements::new(),
    })
}

/// Writes the evidence of `mismatch` and returns the ALARM to report.
fn alarm(mismatch: &Mismatch) -> Result<SyncError, SyncError> {
    let evidence = write_evidence(mismatch, OffsetDateTime::now_utc())?;
    Ok(SyncError::Alarm {
        summary: mismatch.summary.clone(),
        evidence,
    })
}

/// Keeps a verified receipt: remembers the submitted entry at its index, and
/// advances the trusted checkpoint to the receipt's exactly as a sync would
/// (a receipt checkpoint inconsistent with the saved one is an ALARM, with
/// evidence). The caller has verified the receipt's signature and inclusion
/// proof; `receipt_checkpoint` is its signed note, verbatim.
pub async fn accept_receipt(
    config: &ClientConfig,
    client: &StoreClient,
    index: u64,
    entry_id: Digest,
    receipt_checkpoint: &[u8],
) -> Result<(), SyncError> {
    let origin = config.log_vkey.name().to_owned();
    super::receipts::remember(
        &super::receipts::submitted_path(&origin)?,
        super::receipts::Submitted {
            index,
            entry_id,
            checkpoint: receipt_checkpoint.to_vec(),
        },
    )?;
    let alarm_with = |summary: String, report: String| -> SyncError {
        let receipt = format!(
            "{report}\nreceipt: entry {entry_id} at index {index}, with the checkpoint above marked new\n"
        );
        alarm(&Mismatch {
            summary,
            report: receipt,
        })
        .unwrap_or_else(|e| e)
    };
    let candidate = SignedCheckpoint::parse_and_verify(receipt_checkpoint, &config.log_vkey)
        .map_err(|e| {
            alarm_with(
                format!("the receipt's checkpoint does not verify under the log key: {e}"),
                String::from_utf8_lossy(receipt_checkpoint).into_owned(),
            )
        })?;
    let saved_path = checkpoint_path(&origin)?;
    let trusted = match std::fs::read(&saved_path) {
        Ok(bytes) => Some(
            SignedCheckpoint::parse_and_verify(&bytes, &config.log_vkey).map_err(|e| {
                SyncError::SavedCheckpoint {
                    path: saved_path.clone(),
                    problem: e.to_string(),
                }
            })?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(SyncError::Local {
                path: saved_path,
                action: "read",
                source,
            });
        }
    };
    let Some(trusted) = trusted else {
        return write_atomic(&saved_path, candidate.as_bytes());
    };
    let (from, to) = receipt_proof_sizes(&trusted, &candidate);
    let proof = if from > 0 && from < to {
        client.consistency_proof(from, to).await?
    } else {
        Vec::new()
    };
    match judge_receipt(&trusted, &candidate, &proof) {
        Ok(true) => write_atomic(&saved_path, candidate.as_bytes()),
        Ok(false) => Ok(()),
        Err(alarm) => Err(alarm_with(
            format!(
                "the receipt's checkpoint contradicts the saved one: {}",
                alarm.reason
            ),
            alarm.report(),
        )),
    }
}

/// The consistency proof a receipt's checkpoint needs against the trusted
/// one: from the smaller tree to the larger.
pub fn receipt_proof_sizes(trusted: &SignedCheckpoint, receipt: &SignedCheckpoint) -> (u64, u64) {
    let (old, new) = (trusted.checkpoint().size, receipt.checkpoint().size);
    (old.min(new), old.max(new))
}

/// Judges a receipt's checkpoint against the trusted one; pure. A receipt
/// older than the saved checkpoint (another command synced in between) must
/// be a prefix of it; a newer one must extend it (then `Ok(true)`: save it).
/// Anything else is an ALARM, exactly as for a synced checkpoint.
pub fn judge_receipt(
    trusted: &SignedCheckpoint,
    receipt: &SignedCheckpoint,
    proof: &[Hash],
) -> Result<bool, crate::ledger::Alarm> {
    let newer = receipt.checkpoint().size > trusted.checkpoint().size;
    let (smaller, larger) = if newer {
        (trusted, receipt)
    } else {
        (receipt, trusted)
    };
    check_checkpoint(Some(smaller), larger, proof)?;
    Ok(newer)
}

#[cfg(test)]
mod tests;
