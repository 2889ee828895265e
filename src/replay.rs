//! The one verified replay of a log (DESIGN.md §2): each entry's envelope is
//! verified against the keys of the policy in force at its position, the
//! signer found in that policy's key ring, its statement parsed from the
//! verified bytes, a decision's observed checkpoint checked against the
//! log's own root at that size, the entry folded, and a policy entry
//! followed to the next policy version once it verifies as a successor.
//!
//! The store's startup, the client's sync and the verify bench all run
//! this; nothing else replays a log. Pure: no I/O and no clock.
//!
//! An entry the rules refuse is not folded; it is listed in
//! [`Replay::refused`]. Inside a verified log that is evidence of a broken
//! or lying store, and each caller says so in its own way (the client
//! raises an ALARM, the store refuses to start).

use std::sync::Arc;

use rayon::prelude::*;

use crate::digest::Digest;
use crate::envelope::Envelope;
use crate::keys::PublicKey;
use crate::ledger::{Hash, MerkleTree, leaf_hash};
use crate::policy::Policy;
use crate::policy::rotation::{RotationError, verify_successor};
use crate::state::{EntryError, Folder, KeyRing, Refusal, VerifiedEntry, check_observed_root};
use crate::statement::Predicate;

/// Entries verified in parallel before the fold takes them in order. Large
/// enough to keep every core busy, small enough that a policy rotation
/// early in a chunk wastes little work.
const CHUNK: usize = 4096;

/// A chunk of entries checked in parallel, each with its leaf hash.
type Checked = Vec<(Result<VerifiedEntry, EntryError>, Hash)>;

/// An entry of the log that the rules refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedEntry {
    pub index: u64,
    pub id: Digest,
    pub signer: String,
    pub reason: Refusal,
}

/// One entry taken in: verified, its leaf hash, and the policy it
/// installed when it is a policy rotation.
#[derive(Debug, Clone)]
pub struct Replayed {
    pub entry: VerifiedEntry,
    pub leaf: Hash,
    pub installs: Option<Arc<Policy>>,
}

/// Why a new entry cannot be appended (the store's append check).
#[derive(Debug, thiserror::Error)]
pub enum AdmitError {
    #[error(transparent)]
    Rotation(#[from] RotationError),
    #[error(transparent)]
    Rules(#[from] Refusal),
}

/// Why the replay stopped: the log itself is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("log entry {index} does not verify under policy version {version}: {error}")]
    Entry {
        index: u64,
        version: u64,
        error: EntryError,
    },
    #[error("policy entry {index} is not a valid successor of version {version}: {problem}")]
    Policy {
        index: u64,
        version: u64,
        problem: String,
        /// The policy document the entry presents.
        document: String,
    },
}

impl ReplayError {
    /// The log index of the entry at fault.
    pub fn index(&self) -> u64 {
        match self {
            Self::Entry { index, .. } | Self::Policy { index, .. } => *index,
        }
    }
}

/// A log replayed so far: its tree, its fold and the policy chain.
#[derive(Debug, Clone)]
pub struct Replay {
    genesis: Arc<Policy>,
    ring: Arc<KeyRing>,
    folder: Folder,
    tree: MerkleTree,
    /// Log indexes of the accepted policy versions after the genesis one.
    policy_entries: Vec<u64>,
    refused: Vec<RefusedEntry>,
}

impl Replay {
    /// An empty log under `genesis`.
    pub fn new(genesis: Arc<Policy>) -> Self {
        Self {
            ring: Arc::new(KeyRing::of(&genesis)),
            folder: Folder::new(Arc::clone(&genesis)),
            genesis,
            tree: MerkleTree::new(),
            policy_entries: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// Entries replayed so far.
    pub fn size(&self) -> u64 {
        self.tree.len()
    }

    /// The Merkle root of the entries replayed so far.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    pub fn tree(&self) -> &MerkleTree {
        &self.tree
    }

    pub fn folder(&self) -> &Folder {
        &self.folder
    }

    pub fn genesis(&self) -> &Arc<Policy> {
        &self.genesis
    }

    /// The policy in force after the entries replayed so far.
    pub fn policy(&self) -> &Arc<Policy> {
        self.folder.policy()
    }

    /// The key ring of the policy in force.
    pub fn ring(&self) -> &Arc<KeyRing> {
        &self.ring
    }

    pub fn policy_entries(&self) -> &[u64] {
        &self.policy_entries
    }

    /// Entries the rules refused, in log order.
    pub fn refused(&self) -> &[RefusedEntry] {
        &self.refused
    }

    /// Takes the fold and the tree (the store keeps them apart).
    pub fn into_parts(self) -> (Folder, MerkleTree, Vec<u64>) {
        (self.folder, self.tree, self.policy_entries)
    }

    /// A replay resumed from a fold and the tree of the same entries (the
    /// store's published state, after a failed commit).
    pub fn from_parts(
        genesis: Arc<Policy>,
        folder: Folder,
        tree: MerkleTree,
        policy_entries: Vec<u64>,
    ) -> Self {
        Self {
            ring: Arc::new(KeyRing::of(folder.policy())),
            genesis,
            folder,
            tree,
            policy_entries,
            refused: Vec::new(),
        }
    }

    /// The store's append check for a new entry at the end of the log
    /// (`entry.index` must be [`Self::size`]): a policy entry must be a
    /// valid successor, a decision must have observed this log's own root,
    /// and the fold must accept it. Refused: nothing changes. Accepted: it is
    /// taken in exactly as [`Self::extend`] would.
    pub fn admit(
        &mut self,
        entry: &VerifiedEntry,
        envelope: &Envelope,
        leaf: Hash,
    ) -> Result<Option<Arc<Policy>>, AdmitError> {
        let next = match &entry.statement.predicate {
            Predicate::Policy(_) => Some(verify_successor(self.policy(), envelope)?),
            _ => None,
        };
        check_observed_root(entry, |size| self.tree.root_at(size).ok())?;
        // `apply` refuses without changing anything, so no copy is needed
        // (a `Folder::check` per append would copy the whole state).
        self.folder.apply(entry)?;
        self.tree.append(leaf);
        Ok(next.map(|next| self.install(entry.index, next)))
    }

    fn install(&mut self, index: u64, next: Policy) -> Arc<Policy> {
        let next = Arc::new(next);
        self.ring = Arc::new(KeyRing::of(&next));
        self.folder.set_policy(Arc::clone(&next));
        self.policy_entries.push(index);
        next
    }

    /// Verifies and folds `bodies`, the log from [`Self::size`] on, and
    /// returns their verified entries. On an error nothing after the entry
    /// at fault is taken in; what came before it stays replayed.
    pub fn extend(&mut self, bodies: &[Vec<u8>]) -> Result<Vec<Replayed>, ReplayError> {
        self.extend_with(bodies, |ring, index, _, bytes| ring.verify(index, bytes))
    }

    /// Folds `bodies` (the log from [`Self::size`] on) that this client
    /// verified before, attributing entry `i` to the operator key
    /// `signers[i]` instead of checking its signature again. Everything else
    /// is what [`Self::extend`] does: the key must be in the ring of the
    /// policy in force at that position, the statement is parsed and its
    /// observed root checked, the entry folded, the tree grown and policy
    /// entries followed (a policy entry's own signatures are still checked
    /// by `verify_successor`). Only for bytes whose authenticity the caller
    /// has established otherwise (the signed local cache, whose root is
    /// checked against a trusted checkpoint).
    pub fn extend_trusted(
        &mut self,
        bodies: &[Vec<u8>],
        signers: &[PublicKey],
    ) -> Result<Vec<Replayed>, ReplayError> {
        if signers.len() != bodies.len() {
            return Err(ReplayError::Entry {
                index: self.size() + signers.len().min(bodies.len()) as u64,
                version: self.policy().version,
                error: EntryError::Envelope(crate::envelope::EnvelopeError::NoValidSignature),
            });
        }
        self.extend_with(bodies, |ring, index, offset, bytes| {
            ring.attribute(index, bytes, &signers[offset])
        })
    }

    /// The one loop behind [`Self::extend`] and [`Self::extend_trusted`]:
    /// `check(ring, index, offset, bytes)` turns an entry into a verified
    /// entry under the ring in force (in parallel, a chunk at a time), then
    /// the entries are taken in order.
    ///
    /// With more than one thread, the next chunk is checked under the same
    /// ring while this one is taken in, so the in-order fold does not leave
    /// the other cores idle. A policy rotation inside this chunk makes that
    /// work void: it is dropped and the entries after the rotation are
    /// checked again under the new ring. On one thread nothing is checked
    /// ahead, so no work is ever wasted there.
    fn extend_with<F>(&mut self, bodies: &[Vec<u8>], check: F) -> Result<Vec<Replayed>, ReplayError>
    where
        F: Fn(&KeyRing, u64, usize, &[u8]) -> Result<VerifiedEntry, EntryError> + Sync,
    {
        let ahead = rayon::current_num_threads() > 1;
        // Written into buffers kept across chunks: a chunk's checked entries
        // are megabytes, which the allocator would otherwise map afresh for
        // every chunk.
        let check_chunk =
            |ring: &KeyRing, first: u64, position: usize, end: usize, out: &mut Checked| {
                bodies[position..end]
                    .par_iter()
                    .enumerate()
                    .map(|(offset, bytes)| {
                        (
                            check(ring, first + offset as u64, position + offset, bytes),
                            leaf_hash(bytes),
                        )
                    })
                    .collect_into_vec(out);
            };
        let mut verified = Vec::with_capacity(bodies.len());
        let mut position = 0usize;
        let (mut current, mut next): (Checked, Checked) = (Vec::new(), Vec::new());
        // Whether `next` holds the chunk starting at `position`, checked
        // ahead.
        let mut checked_ahead = false;
        while position < bodies.len() {
            let end = bodies.len().min(position + CHUNK);
            let first = self.size();
            let ring = Arc::clone(&self.ring);
            if checked_ahead {
                std::mem::swap(&mut current, &mut next);
            } else {
                check_chunk(&ring, first, position, end, &mut current);
            }
            let following = bodies.len().min(end + CHUNK);
            let next_first = first + (end - position) as u64;
            let (taken, checked_next) = if ahead && end < following {
                rayon::join(
                    || self.take_chunk(bodies, position, first, &mut current, &mut verified),
                    || {
                        check_chunk(&ring, next_first, end, following, &mut next);
                        true
                    },
                )
            } else {
                (
                    self.take_chunk(bodies, position, first, &mut current, &mut verified),
                    false,
                )
            };
            if let Some(rotated) = taken? {
                // A rotation: later entries are checked under the new ring.
                position = rotated;
                checked_ahead = false;
            } else {
                position = end;
                // Every entry taken in grows the tree by one leaf.
                checked_ahead = checked_next && self.size() == next_first;
            }
        }
        Ok(verified)
    }

    /// Takes in the checked entries of the chunk starting at `position`
    /// (log index `first`), in order. Returns where to continue when an
    /// entry rotated the policy before the chunk's end.
    fn take_chunk(
        &mut self,
        bodies: &[Vec<u8>],
        position: usize,
        first: u64,
        results: &mut Checked,
        verified: &mut Vec<Replayed>,
    ) -> Result<Option<usize>, ReplayError> {
        for (offset, (result, leaf)) in results.drain(..).enumerate() {
            let body = &bodies[position + offset];
            let entry = result.map_err(|error| ReplayError::Entry {
                index: first + offset as u64,
                version: self.policy().version,
                error,
            })?;
            let installs = self.take(&entry, body, leaf)?;
            let rotated = installs.is_some();
            verified.push(Replayed {
                entry,
                leaf,
                installs,
            });
            if rotated {
                return Ok(Some(position + offset + 1));
            }
        }
        Ok(None)
    }

    /// Takes in one verified entry; returns the policy it installed.
    fn take(
        &mut self,
        entry: &VerifiedEntry,
        body: &[u8],
        leaf: Hash,
    ) -> Result<Option<Arc<Policy>>, ReplayError> {
        let observed = check_observed_root(entry, |size| self.tree.root_at(size).ok());
        let next = match &entry.statement.predicate {
            Predicate::Policy(predicate) if !self.restates_genesis(predicate.document_digest) => {
                let problem = |problem: String| ReplayError::Policy {
                    index: entry.index,
                    version: self.policy().version,
                    problem,
                    document: predicate.document.clone(),
                };
                let envelope = Envelope::from_json(body).map_err(|e| problem(e.to_string()))?;
                Some(
                    verify_successor(self.policy(), &envelope)
                        .map_err(|e| problem(e.to_string()))?,
                )
            }
            _ => None,
        };
        let folder = &mut self.folder;
        let verdict = observed.and_then(|()| {
            // `apply_all` keeps the state's size and its list of ignored
            // entries as every fold of a log does.
            let before = folder.raw_state().ignored.len();
            folder.apply_all(std::iter::once(entry));
            folder
                .raw_state()
                .ignored
                .get(before)
                .map_or(Ok(()), |ignored| Err(ignored.reason.clone()))
        });
        if let Err(reason) = verdict {
            self.refused.push(RefusedEntry {
                index: entry.index,
                id: entry.id,
                signer: entry.signer.clone(),
                reason,
            });
        }
        self.tree.append(leaf);
        Ok(next.map(|next| self.install(entry.index, next)))
    }

    /// A log may open by restating its genesis policy as a policy entry;
    /// that entry installs nothing new.
    fn restates_genesis(&self, document_digest: Digest) -> bool {
        self.policy_entries.is_empty()
            && document_digest == self.genesis.digest()
            && self.policy().digest() == self.genesis.digest()
    }
}
