//! Re-judging gate results on the client (issue 9 §3): fetch the evidence a
//! gate result cites from the store by digest, keep it in the local
//! evidence cache (so each blob is fetched once), re-run the pure,
//! versioned evaluator under the policy's gate settings, and hand the
//! outcome to readiness ([`crate::state::Rejudgements`]). A CI key that
//! signs a verdict its own evidence contradicts is caught by every client.
//!
//! The I/O is here; [`rejudge_gate`] is the pure judgement.
//!
//! The cache is `<cache dir>/evidence/<hex digest>`. A cached blob is
//! believed only if its bytes still hash to its name; a blob that does not
//! is deleted and fetched again.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::http::{StoreClient, StoreError};
use super::sync::VerifiedLog;
use crate::digest::Digest;
use crate::evidence::{self, Context, EVALUATOR_VERSION, EvidenceFile, MAX_EVIDENCE_BYTES};
use crate::policy::{GateKind, Policy};
use crate::state::{GateRecord, Rejudgement, Rejudgements};
use crate::statement::Predicate;

pub mod judged;

pub use judged::{Judged, JudgedFile};

/// One evidence blob as this client could get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blob {
    /// The bytes, whose digest was checked.
    Found(Arc<[u8]>),
    /// The store answered that it does not hold it.
    Missing,
    /// It could not be had now (store unreachable, offline and not cached).
    Unavailable(String),
}

/// The evidence blobs of the gate results that were re-judged, by digest.
pub type Blobs = BTreeMap<Digest, Blob>;

/// The local, content-addressed evidence cache.
#[derive(Debug, Clone)]
pub struct BlobCache {
    dir: PathBuf,
}

impl BlobCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `<cache dir>/evidence`; without a home directory, a directory under
    /// the system's temporary one (safe to share: a blob is believed only
    /// if it hashes to its name).
    pub fn default_location() -> Self {
        Self::new(crate::paths::cache_dir().map_or_else(
            |_| std::env::temp_dir().join("tollgate-evidence"),
            |dir| dir.join("evidence"),
        ))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.to_hex())
    }

    /// The cached bytes of `digest`, if present and intact.
    pub fn read(&self, digest: &Digest) -> Option<Arc<[u8]>> {
        let path = self.path(digest);
        let size = std::fs::metadata(&path).ok()?.len();
        if size > MAX_EVIDENCE_BYTES as u64 {
            let _ = std::fs::remove_file(&path);
            return None;
        }
        let bytes = std::fs::read(&path).ok()?;
        if Digest::of(&bytes) != *digest {
            tracing::warn!(path = %path.display(), "cached evidence does not match its digest; fetching it again");
            let _ = std::fs::remove_file(&path);
            return None;
        }
        Some(bytes.into())
    }

    /// Keeps `bytes` (already checked against `digest`). A cache that
    /// cannot be written only costs a fetch next time.
    pub fn keep(&self, digest: &Digest, bytes: &[u8]) {
        if let Err(e) = crate::durable::write_atomic(&self.path(digest), bytes) {
            tracing::warn!(error = %e, "cannot cache evidence");
        }
    }
}

/// Gets one blob: from the cache, else from the store (`client`; `None`
/// means offline), checking its digest, and caches what was fetched.
pub async fn fetch(client: Option<&StoreClient>, cache: &BlobCache, digest: &Digest) -> Blob {
    if let Some(bytes) = cache.read(digest) {
        return Blob::Found(bytes);
    }
    let Some(client) = client else {
        return Blob::Unavailable(format!(
            "evidence {digest} is not in the local evidence cache and the store is not reachable"
        ));
    };
    match client.get_evidence(digest).await {
        Ok(bytes) => {
            cache.keep(digest, &bytes);
            Blob::Found(bytes.into())
        }
        Err(StoreError::Refused { status: 404, .. }) => Blob::Missing,
        Err(e) => Blob::Unavailable(format!("evidence {digest} could not be fetched: {e}")),
    }
}

/// Re-judges one gate result from its evidence `blobs`; `None` when there
/// is nothing to recompute (a manual gate, a gate the policy no longer
/// has). Pure: the same inputs give the same answer on every client.
pub fn rejudge_gate(
    policy: &Policy,
    artifact: &Digest,
    record: &GateRecord,
    blobs: &Blobs,
) -> Option<Rejudgement> {
    let gate = policy.gate(&record.result.gate)?;
    if gate.kind == GateKind::Manual {
        return None;
    }
    if let Some(stated) = &record.result.evaluator
        && stated != EVALUATOR_VERSION
    {
        return Some(Rejudgement::NotRejudged {
            problem: format!(
                "its result was computed by evaluator {stated}, and this client runs {EVALUATOR_VERSION}; upgrade tollgate"
            ),
        });
    }
    let mut missing = Vec::new();
    let mut names = Vec::with_capacity(record.result.evidence.len());
    let mut contents = Vec::with_capacity(record.result.evidence.len());
    for e in &record.result.evidence {
        match blobs.get(&e.digest) {
            Some(Blob::Found(bytes)) => {
                names.push(e.digest.to_string());
                contents.push(Arc::clone(bytes));
            }
            Some(Blob::Missing) => missing.push(e.digest),
            Some(Blob::Unavailable(problem)) => {
                return Some(Rejudgement::NotRejudged {
                    problem: problem.clone(),
                });
            }
            None => {
                return Some(Rejudgement::NotRejudged {
                    problem: format!("evidence {} was not fetched", e.digest),
                });
            }
        }
    }
    if !missing.is_empty() {
        return Some(Rejudgement::EvidenceMissing { digests: missing });
    }
    let files: Vec<EvidenceFile<'_>> = names
        .iter()
        .zip(&contents)
        .map(|(name, bytes)| EvidenceFile { name, bytes })
        .collect();
    let verdict = evidence::evaluate_gate(
        gate,
        &files,
        Context {
            artifact: Some(artifact),
        },
    );
    let stated = record.result.status;
    Some(if verdict.status == stated {
        Rejudgement::Agrees
    } else {
        Rejudgement::Disputed {
            stated,
            computed: verdict.status,
            evaluator: verdict.evaluator.to_owned(),
            summary: verdict.summary,
        }
    })
}

/// Promotions read at a time when every one is re-judged.
const BATCH: usize = 4096;

type Batch = Vec<Arc<crate::state::Promotion>>;

/// Re-judges the latest result of every gate of every promotion, keeping
/// what it judged across calls (a long-running client, the cockpit, asks
/// again on every poll; an entry's judgement under one policy never
/// changes, so it is computed once).
#[derive(Debug)]
pub struct Rejudger {
    cache: BlobCache,
    /// (gate result entry id, policy digest) → a final judgement.
    judged: Judged,
    /// Whether a judgement was added since [`Self::restore`].
    judged_anew: bool,
    /// Whether the evidence of results judged before is read anyway, for
    /// display (the cockpit's evidence pane).
    display: bool,
    /// Whether every promotion read is kept decoded in the fold (a command
    /// that judges them all next), rather than read a batch at a time.
    keep_decoded: bool,
    /// Blobs already read, so a poll reads nothing again.
    found: HashMap<Digest, Arc<[u8]>>,
    /// Promotions with a gate result whose judgement is not final (its
    /// evidence missing or out of reach): [`Self::rejudge_changed`] judges
    /// them again.
    unsettled: BTreeSet<Digest>,
}

impl Rejudger {
    pub fn new(cache: BlobCache) -> Self {
        Self {
            cache,
            judged: Judged::new(),
            judged_anew: false,
            display: true,
            keep_decoded: false,
            found: HashMap::new(),
            unsettled: BTreeSet::new(),
        }
    }

    /// For a command that shows verdicts, not evidence: the evidence of a
    /// result judged before is not read again.
    #[must_use]
    pub fn verdicts_only(mut self) -> Self {
        self.display = false;
        self
    }

    /// For a command that judges every promotion next (`tollgate status`):
    /// the promotions read here stay decoded in the fold, for that
    /// judgement, instead of being read a batch at a time and dropped (the
    /// cockpit, which keeps its fold and judges it in brief).
    #[must_use]
    pub fn keeping_decoded(mut self) -> Self {
        self.keep_decoded = true;
        self
    }

    /// Starts from judgements made before (see [`judged`]).
    pub fn restore(&mut self, judged: Judged) {
        self.judged = judged;
        self.judged_anew = false;
    }

    /// Every final judgement so far.
    pub fn judged(&self) -> &Judged {
        &self.judged
    }

    /// Whether a judgement was added since [`Self::restore`].
    pub fn judged_anew(&self) -> bool {
        self.judged_anew
    }

    /// Re-judges `log`'s gate results, fetching evidence through `client`
    /// (`None`: offline, the cache only), and records the outcome in
    /// [`VerifiedLog::rejudged`] so every state derived from `log` counts
    /// it. Returns the evidence blobs it read, for display.
    pub async fn rejudge(&mut self, client: Option<&StoreClient>, log: &mut VerifiedLog) -> Blobs {
        self.unsettled.clear();
        self.rejudge_promotions(client, log, Rejudgements::new(), None)
            .await
    }

    /// [`Self::rejudge`] for the gate results among the entries from log
    /// index `first` on only (what a sync fetched), for a command that
    /// shows no readiness (`tollgate sync`): their judgements are kept for
    /// the commands that do, and no other promotion is even read.
    pub async fn rejudge_since(
        &mut self,
        client: Option<&StoreClient>,
        log: &mut VerifiedLog,
        first: u64,
    ) -> Blobs {
        let mut touched = BTreeSet::new();
        let visited = log
            .entries
            .visit(usize::try_from(first).unwrap_or(usize::MAX), |entry| {
                if let Predicate::GateResult(g) = &entry.statement.predicate {
                    touched.insert(g.promotion);
                }
            });
        if let Err(e) = visited {
            tracing::warn!(error = %e, "the new gate results could not be read to judge them");
        }
        self.rejudge_promotions(client, log, Rejudgements::new(), Some(&touched))
            .await
    }

    /// [`Self::rejudge`] for a client that keeps its view between syncs
    /// (the cockpit): `previous` are the re-judgements of an earlier state
    /// of `log` under the same policy, and only the gate results of the
    /// `changed` promotions, and of those whose judgement was not final
    /// (their evidence missing or out of reach), are judged again. Returns
    /// the blobs read for those, and every promotion judged again.
    pub async fn rejudge_changed(
        &mut self,
        client: Option<&StoreClient>,
        log: &mut VerifiedLog,
        previous: Rejudgements,
        changed: &BTreeSet<Digest>,
    ) -> (Blobs, BTreeSet<Digest>) {
        let mut only = std::mem::take(&mut self.unsettled);
        only.extend(changed.iter().copied());
        let blobs = self
            .rejudge_promotions(client, log, previous, Some(&only))
            .await;
        (blobs, only)
    }

    /// Re-judges the gate results of `only` those promotions, or of all,
    /// over `base`.
    async fn rejudge_promotions(
        &mut self,
        client: Option<&StoreClient>,
        log: &mut VerifiedLog,
        base: Rejudgements,
        only: Option<&BTreeSet<Digest>>,
    ) -> Blobs {
        let policy = Arc::clone(log.policy());
        let policy_digest = policy.digest();
        let mut blobs = Blobs::new();
        let mut rejudged = base;
        let state = log.folder.raw_state();
        // Every promotion is read a batch at a time, decoded for its batch
        // only: the fold's own saved values are not kept decoded.
        let batches: Box<dyn Iterator<Item = Batch> + Send + '_> = if let Some(ids) = only {
            let chosen = ids
                .iter()
                .filter_map(|id| state.promotions.get(id).cloned().map(Arc::new))
                .collect();
            Box::new(std::iter::once(chosen))
        } else if self.keep_decoded {
            Box::new(std::iter::once(state.promotions.shared_values()))
        } else {
            Box::new(
                state
                    .promotions
                    .batches(BATCH)
                    .map(|batch| batch.into_iter().map(|(_, p)| p).collect()),
            )
        };
        for p in batches.flatten() {
            for gate in p.gates.values() {
                let Some(latest) = &gate.latest else {
                    continue;
                };
                let key = (latest.id, policy_digest);
                if !self.display
                    && let Some(found) = self.judged.get(&key)
                {
                    rejudged.insert(latest.id, found.clone());
                    continue;
                }
                for e in &latest.result.evidence {
                    if blobs.contains_key(&e.digest) {
                        continue;
                    }
                    let blob = match self.found.get(&e.digest) {
                        Some(bytes) => Blob::Found(Arc::clone(bytes)),
                        None => fetch(client, &self.cache, &e.digest).await,
                    };
                    if let Blob::Found(bytes) = &blob {
                        self.found.insert(e.digest, Arc::clone(bytes));
                    }
                    blobs.insert(e.digest, blob);
                }
                let found = match self.judged.get(&key) {
                    Some(found) => Some(found.clone()),
                    None => rejudge_gate(&policy, &p.artifact, latest, &blobs),
                };
                if let Some(found) = found {
                    // Agreements and disputes are final; the rest may
                    // change once the store is reachable again.
                    if matches!(found, Rejudgement::Agrees | Rejudgement::Disputed { .. }) {
                        if let std::collections::hash_map::Entry::Vacant(slot) =
                            self.judged.entry(key)
                        {
                            slot.insert(found.clone());
                            self.judged_anew = true;
                        }
                    } else {
                        self.unsettled.insert(p.id);
                    }
                    rejudged.insert(latest.id, found);
                }
            }
        }
        log.rejudged = rejudged;
        blobs
    }
}

#[cfg(test)]
mod tests;
