//! Verifying a run of log entries: every signature against the policy's keys
//! and every leaf hash, spread over all cores, then the Merkle root.
//!
//! Nothing is trusted from the store: the root recomputed here is compared
//! with a checkpoint the caller verified under the log key.

use rayon::prelude::*;

use crate::ledger::{Hash, MerkleTree, leaf_hash, root_of};
use crate::state::{EntryError, KeyRing, VerifiedEntry};

/// A verified run of entries and their leaf hashes, in log order.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedBatch {
    pub entries: Vec<VerifiedEntry>,
    pub leaf_hashes: Vec<Hash>,
}

/// The first entry that failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("log entry {index} does not verify: {error}")]
pub struct EntryFailure {
    pub index: u64,
    pub error: EntryError,
}

/// Verifies `entries` (the log from `first_index` on) on the current rayon
/// pool. Fails on the first bad entry in log order.
pub fn verify_entries(
    ring: &KeyRing,
    first_index: u64,
    entries: &[Vec<u8>],
) -> Result<VerifiedBatch, EntryFailure> {
    let verify = |offset: usize, bytes: &Vec<u8>| {
        let index = first_index + offset as u64;
        ring.verify(index, bytes)
            .map(|entry| (entry, leaf_hash(bytes)))
            .map_err(|error| EntryFailure { index, error })
    };
    let verified: Result<Vec<(VerifiedEntry, Hash)>, EntryFailure> = entries
        .par_iter()
        .enumerate()
        .map(|(offset, bytes)| verify(offset, bytes))
        .collect();
    match verified {
        Ok(pairs) => {
            let (entries, leaf_hashes) = pairs.into_iter().unzip();
            Ok(VerifiedBatch {
                entries,
                leaf_hashes,
            })
        }
        // Rayon reports whichever failure it met first; report the first in
        // log order, which is what a person fixing the log needs.
        Err(any) => Err(entries
            .par_iter()
            .enumerate()
            .find_map_first(|(offset, bytes)| verify(offset, bytes).err())
            .unwrap_or(any)),
    }
}

/// Verifies a whole log from index 0 and returns it with its recomputed root.
pub fn verify_log(
    ring: &KeyRing,
    entries: &[Vec<u8>],
) -> Result<(VerifiedBatch, Hash), EntryFailure> {
    let batch = verify_entries(ring, 0, entries)?;
    let root = root_of(&batch.leaf_hashes);
    Ok((batch, root))
}

/// Extends a tree that already holds the verified prefix with a new batch
/// (incremental sync) and returns the new root.
pub fn extend_tree(tree: &mut MerkleTree, batch: &VerifiedBatch) -> Hash {
    for leaf in &batch.leaf_hashes {
        tree.append(*leaf);
    }
    tree.root()
}
