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
    let results: Vec<Result<(VerifiedEntry, Hash), EntryFailure>> = entries
        .par_iter()
        .enumerate()
        .map(|(offset, bytes)| {
            let index = first_index + offset as u64;
            let entry = ring
                .verify(index, bytes)
                .map_err(|error| EntryFailure { index, error })?;
            Ok((entry, leaf_hash(bytes)))
        })
        .collect();
    let mut batch = VerifiedBatch {
        entries: Vec::with_capacity(entries.len()),
        leaf_hashes: Vec::with_capacity(entries.len()),
    };
    for result in results {
        let (entry, leaf) = result?;
        batch.entries.push(entry);
        batch.leaf_hashes.push(leaf);
    }
    Ok(batch)
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
