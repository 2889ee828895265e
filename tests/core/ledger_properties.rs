//! Property and differential tests for the log tree (audit-anchors §6 D):
//! every proof the tree generates verifies, any single bit flip breaks it,
//! and roots and proofs agree with a naive recursive RFC 6962 reference.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use tollgate::ledger::{
    Hash, MerkleTree, leaf_hash, node_hash, root_of, verify_consistency, verify_inclusion,
};

fn leaves(n: usize, seed: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| {
            let mut bytes = seed.to_be_bytes().to_vec();
            bytes.extend_from_slice(&(i as u64).to_be_bytes());
            leaf_hash(&bytes)
        })
        .collect()
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut out = *hash;
    out[(bit / 8) % 32] ^= 1 << (bit % 8);
    out
}

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH straight from RFC 6962 §2.1.
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => tollgate::ledger::EMPTY_ROOT,
        1 => d[0],
        n => {
            let k = split(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]) straight from RFC 9162 §2.1.3.1.
// Names follow the RFC's notation so the two can be read side by side.
#[allow(clippy::many_single_char_names)]
fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return vec![];
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b) straight from RFC 9162 §2.1.4.1.
#[allow(clippy::many_single_char_names)]
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn inclusion_proofs_verify_and_any_bit_flip_fails(n in 1usize..=300, seed: u64, bit in 0usize..256) {
        let leaves = leaves(n, seed);
        let tree = MerkleTree::from_leaf_hashes(leaves.iter().copied());
        let size = n as u64;
        let root = tree.root();
        for (i, leaf) in leaves.iter().enumerate() {
            let index = i as u64;
            let proof = tree.inclusion_proof(index, size).unwrap();
            prop_assert!(verify_inclusion(index, size, leaf, &proof, &root).is_ok());
            prop_assert!(verify_inclusion(index, size, &flip(leaf, bit), &proof, &root).is_err());
            prop_assert!(verify_inclusion(index, size, leaf, &proof, &flip(&root, bit)).is_err());
            for j in 0..proof.len() {
                let mut bad = proof.clone();
                bad[j] = flip(&bad[j], bit + j);
                prop_assert!(verify_inclusion(index, size, leaf, &bad, &root).is_err(), "i={} j={}", i, j);
            }
        }
    }

    #[test]
    fn consistency_proofs_verify_and_any_bit_flip_fails(n in 1usize..=300, seed: u64, bit in 0usize..256) {
        let leaves = leaves(n, seed);
        let tree = MerkleTree::from_leaf_hashes(leaves.iter().copied());
        let size2 = n as u64;
        let root2 = tree.root();
        for m in 1..=size2 {
            let root1 = tree.root_at(m).unwrap();
            let proof = tree.consistency_proof(m, size2).unwrap();
            prop_assert!(verify_consistency(m, size2, &root1, &root2, &proof).is_ok());
            prop_assert!(verify_consistency(m, size2, &flip(&root1, bit), &root2, &proof).is_err());
            prop_assert!(verify_consistency(m, size2, &root1, &flip(&root2, bit), &proof).is_err());
            for j in 0..proof.len() {
                let mut bad = proof.clone();
                bad[j] = flip(&bad[j], bit + j);
                prop_assert!(verify_consistency(m, size2, &root1, &root2, &bad).is_err(), "m={} j={}", m, j);
            }
        }
    }

    #[test]
    fn roots_and_proofs_match_the_naive_reference(n in 0usize..=200, seed: u64) {
        let leaves = leaves(n, seed);
        let mut tree = MerkleTree::new();
        for leaf in &leaves {
            tree.append(*leaf);
        }
        prop_assert_eq!(tree.len(), n as u64);
        for m in 0..=n {
            let want = mth(&leaves[..m]);
            prop_assert_eq!(tree.root_at(m as u64).unwrap(), want);
            prop_assert_eq!(root_of(&leaves[..m]), want);
        }
        // Proofs for one historical size and the current one.
        let sizes = if n == 0 { vec![] } else { vec![n / 2 + 1, n] };
        for size in sizes {
            for i in 0..size {
                prop_assert_eq!(tree.inclusion_proof(i as u64, size as u64).unwrap(), path(i, &leaves[..size]));
            }
            for m in 1..size {
                prop_assert_eq!(
                    tree.consistency_proof(m as u64, size as u64).unwrap(),
                    subproof(m, &leaves[..size], true)
                );
            }
        }
    }
}

#[test]
fn proofs_of_a_historical_size_do_not_change_as_the_tree_grows() {
    let all = leaves(1000, 7);
    let small = MerkleTree::from_leaf_hashes(all[..333].iter().copied());
    let big = MerkleTree::from_leaf_hashes(all.iter().copied());
    assert_eq!(small.root(), big.root_at(333).unwrap());
    for i in [0, 1, 100, 255, 256, 331, 332] {
        assert_eq!(
            small.inclusion_proof(i, 333).unwrap(),
            big.inclusion_proof(i, 333).unwrap()
        );
    }
    for m in [1, 2, 3, 64, 200, 332] {
        assert_eq!(
            small.consistency_proof(m, 333).unwrap(),
            big.consistency_proof(m, 333).unwrap()
        );
    }
}

#[test]
fn wrong_proof_lengths_and_out_of_range_indices_are_refused() {
    let all = leaves(13, 1);
    let tree = MerkleTree::from_leaf_hashes(all.iter().copied());
    let root = tree.root();
    let proof = tree.inclusion_proof(5, 13).unwrap();
    let mut longer = proof.clone();
    longer.push(root);
    assert!(verify_inclusion(5, 13, &all[5], &longer, &root).is_err());
    assert!(verify_inclusion(5, 13, &all[5], &proof[1..], &root).is_err());
    assert!(verify_inclusion(13, 13, &all[5], &proof, &root).is_err());
    assert!(verify_inclusion(u64::MAX, 13, &all[5], &proof, &root).is_err());
    // Sizes near 2^64 must give an error, not an overflow.
    assert!(verify_inclusion(u64::MAX - 1, u64::MAX, &all[0], &proof, &root).is_err());
    assert!(verify_inclusion(0, u64::MAX, &all[0], &proof, &root).is_err());
    assert!(verify_consistency(1, u64::MAX, &root, &root, &proof).is_err());
    assert!(verify_consistency(u64::MAX - 1, u64::MAX, &root, &root, &proof).is_err());
    assert!(verify_consistency(1 << 63, u64::MAX, &root, &root, &proof).is_err());
}
