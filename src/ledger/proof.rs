//! Verification of RFC 6962 inclusion and consistency proofs, ported from
//! transparency-dev/merkle `proof/verify.go` so our verdicts match theirs on
//! every shared vector.
//!
//! Proof lengths are computed from the sizes and must match exactly: a
//! verifier that tolerates extra or missing hashes accepts proofs for a tree
//! other than the one claimed.

use super::hash::{Hash, node_hash};

/// Why a proof does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("proof has {got} hashes; sizes require exactly {want}")]
    WrongProofSize { got: usize, want: usize },
    #[error("tree size {size2} is smaller than the earlier size {size1}")]
    SizesReversed { size1: u64, size2: u64 },
    #[error("a consistency proof from the empty tree is meaningless")]
    FromEmptyTree,
    #[error("sizes are equal, so the consistency proof must be empty")]
    NonEmptyProofForEqualSizes,
    #[error("consistency proof is empty")]
    EmptyProof,
    #[error("computed root does not match the expected root")]
    RootMismatch,
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves with `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion_proof(index, size, leaf, proof)?;
    matches(&computed, root)
}

/// The root that `proof` implies for `leaf` at `index` in a tree of `size`.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose(index, size);
    exact_len(proof, inner + border)?;
    let (inner_part, border_part) = proof.split_at(inner);
    let seed = chain_inner(*leaf, inner_part, index);
    Ok(chain_border_right(seed, border_part))
}

/// Checks that the tree of `size2` leaves with `root2` extends the tree of
/// `size1` leaves with `root1`. Both roots are rebuilt from the proof.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    // Same order of checks as verify.go: size 0 is refused even against
    // itself, because the empty tree proves nothing about any other.
    if size2 < size1 {
        return Err(ProofError::SizesReversed { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::NonEmptyProofForEqualSizes);
        }
        return matches(root1, root2);
    }
    if proof.is_empty() {
        return Err(ProofError::EmptyProof);
    }

    let (inner, border) = decompose(size1 - 1, size2);
    let shift = size1.trailing_zeros() as usize;
    // shift < inner whenever size1 < size2.
    let inner = inner.saturating_sub(shift);

    // The proof opens with the root of the 2^shift subtree that ends at
    // size1, unless size1 is exactly that subtree and root1 is the seed.
    let (seed, rest) = if size1 == 1 << shift {
        (*root1, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(ProofError::EmptyProof),
        }
    };
    if rest.len() != inner + border {
        return Err(ProofError::WrongProofSize {
            got: proof.len(),
            want: proof.len() - rest.len() + inner + border,
        });
    }
    let (inner_part, border_part) = rest.split_at(inner);
    let mask = (size1 - 1) >> shift;

    let hash1 = chain_border_right(chain_inner_right(seed, inner_part, mask), border_part);
    matches(&hash1, root1)?;
    let hash2 = chain_border_right(chain_inner(seed, inner_part, mask), border_part);
    matches(&hash2, root2)
}

/// Number of proof hashes below the split with the right border (`inner`)
/// and on the border itself (`border`).
fn decompose(index: u64, size: u64) -> (usize, usize) {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    // inner can be 64, where a plain shift would overflow.
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner as usize, border as usize)
}

fn exact_len(proof: &[Hash], want: usize) -> Result<(), ProofError> {
    if proof.len() == want {
        Ok(())
    } else {
        Err(ProofError::WrongProofSize {
            got: proof.len(),
            want,
        })
    }
}

fn chain_inner(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        seed = if (index >> i) & 1 == 0 {
            node_hash(&seed, h)
        } else {
            node_hash(h, &seed)
        };
    }
    seed
}

fn chain_inner_right(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        if (index >> i) & 1 == 1 {
            seed = node_hash(h, &seed);
        }
    }
    seed
}

fn chain_border_right(mut seed: Hash, proof: &[Hash]) -> Hash {
    for h in proof {
        seed = node_hash(h, &seed);
    }
    seed
}

fn matches(computed: &Hash, expected: &Hash) -> Result<(), ProofError> {
    if computed == expected {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}
