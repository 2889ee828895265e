//! `MerkleTree`: the store's append-only RFC 6962 tree, its historical roots
//! and the inclusion and consistency proofs it serves (RFC 9162 §2.1.3.1 and
//! §2.1.4.1), plus [`root_of`] for bulk recomputation.
//!
//! Written here rather than taken from a crate: `rs_merkle` hashes without
//! the RFC 6962 domain prefixes, and `ct-merkle` needs `sha2` 0.11 while this
//! crate is pinned to `sha2` 0.10 / `ed25519-dalek` 2 (one digest stack).
//!
//! Storage: `levels[k][j]` is the hash of the complete, aligned subtree of
//! leaves `[j·2^k, (j+1)·2^k)`. Every subtree an RFC 6962 split produces for a
//! size `m` is either one of those or lies on the right edge of `m`, so any
//! historical root or proof costs O(log n) hashing and never a rehash.

use super::hash::{EMPTY_ROOT, Hash, node_hash};
use crate::chunked::Chunked;

/// Why the tree cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("tree size {size} is beyond the current size {len}")]
    SizeBeyondTree { size: u64, len: u64 },
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("consistency from size {size1} to the smaller size {size2}")]
    SizesReversed { size1: u64, size2: u64 },
}

/// An append-only RFC 6962 Merkle tree over leaf hashes. Its levels are
/// [`Chunked`]: a copy (a client resuming a replay the screen still shows)
/// shares them.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    levels: Vec<Chunked<Hash>>,
}

impl MerkleTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds the tree from stored leaf hashes, in log order.
    pub fn from_leaf_hashes<I: IntoIterator<Item = Hash>>(leaves: I) -> Self {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.append(leaf);
        }
        tree
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leaf hash at `index`, if present.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let index = usize::try_from(index).ok()?;
        self.levels.first()?.get(index).copied()
    }

    /// Appends a leaf hash and returns its index. Each completed pair of
    /// subtrees is folded one level up; on average one node hash per append.
    pub fn append(&mut self, leaf: Hash) -> u64 {
        let index = self.len();
        let mut carry = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Chunked::new());
            }
            let row = &mut self.levels[level];
            row.push(carry);
            if row.len() % 2 == 1 {
                break;
            }
            carry = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
        index
    }

    /// Root of the current tree.
    pub fn root(&self) -> Hash {
        self.subtree(0, self.len())
    }

    /// Root of the tree as it was at `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, TreeError> {
        self.check_size(size)?;
        Ok(self.subtree(0, size))
    }

    /// Audit path for leaf `index` in the tree of `size` leaves, leaf sibling
    /// first (RFC 9162 §2.1.3.1 PATH).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(size)?;
        if index >= size {
            return Err(TreeError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::with_capacity(64);
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// Consistency proof from `size1` to `size2` (RFC 9162 §2.1.4.1 PROOF).
    /// Empty when `size1` is 0 or equal to `size2`: the empty tree is
    /// consistent with everything and verifiers refuse to check it.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(size2)?;
        if size1 > size2 {
            return Err(TreeError::SizesReversed { size1, size2 });
        }
        let mut proof = Vec::with_capacity(64);
        if size1 > 0 && size1 < size2 {
            self.subproof(size1, 0, size2, true, &mut proof);
        }
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        let len = self.len();
        if size > len {
            return Err(TreeError::SizeBeyondTree { size, len });
        }
        Ok(())
    }

    /// MTH of leaves `[start, end)`. Callers only ask for ranges an RFC
    /// split of some `[0, m)` with `m <= len` produces, so `start` is aligned
    /// to the largest power of two below `end - start` and the stored
    /// complete subtrees exist.
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n == 0 {
            return EMPTY_ROOT;
        }
        if n.is_power_of_two() {
            let level = n.trailing_zeros();
            // Both values index vectors we built, so they fit in usize.
            #[allow(clippy::cast_possible_truncation)]
            return self.levels[level as usize][(start >> level) as usize];
        }
        let k = split_point(n);
        node_hash(
            &self.subtree(start, start + k),
            &self.subtree(start + k, end),
        )
    }

    // Only the first right-hand sibling taken off the size's right edge can be
    // partial; every later sibling is a stored complete subtree.
    fn path(&self, index: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split_point(n);
        if index < start + k {
            self.path(index, start, start + k, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.path(index, start + k, end, out);
            out.push(self.subtree(start, start + k));
        }
    }

    fn subproof(&self, m: u64, start: u64, end: u64, whole: bool, out: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !whole {
                out.push(self.subtree(start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, whole, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.subtree(start, start + k));
        }
    }
}

/// Largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1 << n.saturating_sub(1).checked_ilog2().unwrap_or(0)
}

/// Root of the tree over `leaves`, without building a [`MerkleTree`]: a
/// fixed stack of at most 64 pending complete subtrees, no heap.
pub fn root_of(leaves: &[Hash]) -> Hash {
    let mut stack = [[0u8; 32]; 64];
    let mut depth = 0usize;
    for (i, leaf) in leaves.iter().enumerate() {
        stack[depth] = *leaf;
        depth += 1;
        // Each trailing one bit of the new count closes a pair of equal
        // subtrees; merging them keeps the stack one entry per set bit.
        let mut count = i + 1;
        while count & 1 == 0 {
            depth -= 1;
            stack[depth - 1] = node_hash(&stack[depth - 1], &stack[depth]);
            count >>= 1;
        }
    }
    if depth == 0 {
        return EMPTY_ROOT;
    }
    let mut root = stack[depth - 1];
    for pending in stack[..depth - 1].iter().rev() {
        root = node_hash(pending, &root);
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::hash::{NODE_HASHES, leaf_hash};

    #[test]
    fn split_point_is_the_largest_power_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    fn node_hashes_during<T>(f: impl FnOnce() -> T) -> u64 {
        let before = NODE_HASHES.with(std::cell::Cell::get);
        f();
        NODE_HASHES.with(std::cell::Cell::get) - before
    }

    #[test]
    fn proofs_and_historical_roots_cost_logarithmic_hashing() {
        let n = 70_001u64;
        let mut tree = MerkleTree::new();
        let build = node_hashes_during(|| {
            for i in 0..n {
                tree.append(leaf_hash(&i.to_be_bytes()));
            }
        });
        // Amortised one node per append.
        assert!(build < n, "{build}");
        // 2·⌈log2 n⌉ = 34 bounds the partial right edge plus the proof walk.
        let bound = 2 * u64::from(64 - n.leading_zeros());
        for size in [1, 2, 3, 1000, 65_535, 65_536, 65_537, 69_999, n] {
            assert!(node_hashes_during(|| tree.root_at(size)) <= bound);
            for index in [0, size / 3, size - 1] {
                let cost = node_hashes_during(|| tree.inclusion_proof(index, size));
                assert!(cost <= bound, "inclusion {index}/{size}: {cost}");
            }
            for old in [1, size / 2, size - 1] {
                let cost = node_hashes_during(|| tree.consistency_proof(old, size));
                assert!(cost <= bound, "consistency {old}->{size}: {cost}");
            }
        }
    }

    #[test]
    fn historical_queries_beyond_the_tree_are_refused() {
        let tree = MerkleTree::from_leaf_hashes((0u8..3).map(|b| leaf_hash(&[b])));
        assert_eq!(tree.root_at(0), Ok(EMPTY_ROOT));
        assert!(tree.root_at(4).is_err());
        assert!(tree.inclusion_proof(3, 3).is_err());
        assert!(tree.consistency_proof(3, 2).is_err());
        assert_eq!(tree.consistency_proof(0, 3), Ok(vec![]));
    }
}
