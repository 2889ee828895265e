//! Offline `tlog-proof` bundles (round trip, byte-flip sweep) and the
//! client's checkpoint tracker (audit-anchors §6 H).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::SigningKey;
use tollgate::keys::Signer;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::{
    Accepted, AlarmReason, Checkpoint, EMPTY_ROOT, Hash, MerkleTree, SignedCheckpoint, TlogProof,
    TlogProofError, check_checkpoint, leaf_hash, tlog_proof::MAX_PROOF_HASHES,
};

const ORIGIN: &str = "example.com/log";

fn log_signer() -> Signer {
    Signer::from_signing_key(ORIGIN, SigningKey::from_bytes(&[9; 32])).unwrap()
}

fn log_key() -> NoteVerifierKey {
    NoteVerifierKey::of_signer(&log_signer()).unwrap()
}

fn entries(n: usize, tag: &str) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("{tag} entry {i}").into_bytes())
        .collect()
}

fn tree_of(entries: &[Vec<u8>]) -> MerkleTree {
    MerkleTree::from_leaf_hashes(entries.iter().map(|e| leaf_hash(e)))
}

fn signed_at(tree: &MerkleTree, size: u64) -> SignedCheckpoint {
    let c = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: tree.root_at(size).unwrap(),
    };
    SignedCheckpoint::sign(&c, &log_signer()).unwrap()
}

fn sample_proof(extra: Option<Vec<u8>>) -> (Vec<Vec<u8>>, TlogProof) {
    let entries = entries(11, "a");
    let tree = tree_of(&entries);
    let mut proof = TlogProof::new(
        6,
        tree.inclusion_proof(6, 11).unwrap(),
        &signed_at(&tree, 11),
    );
    proof.extra = extra;
    (entries, proof)
}

#[test]
fn tlog_proof_round_trips_and_verifies() {
    let (entries, proof) = sample_proof(Some(b"opaque".to_vec()));
    let bytes = proof.to_bytes();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra b3BhcXVl\nindex 6\n"));
    let parsed = TlogProof::parse(&bytes).unwrap();
    assert_eq!(parsed, proof);
    assert_eq!(parsed.to_bytes(), bytes);
    let (index, checkpoint) = parsed.verify(&entries[6], &log_key()).unwrap();
    assert_eq!(index, 6);
    assert_eq!(checkpoint.size, 11);
    assert!(parsed.verify(&entries[5], &log_key()).is_err());
    assert!(parsed.verify(b"something else", &log_key()).is_err());
    let stranger = Signer::from_signing_key(ORIGIN, SigningKey::from_bytes(&[1; 32])).unwrap();
    assert!(matches!(
        parsed.verify(&entries[6], &NoteVerifierKey::of_signer(&stranger).unwrap()),
        Err(TlogProofError::Checkpoint(_))
    ));

    let (_, without_extra) = sample_proof(None);
    let bytes = without_extra.to_bytes();
    assert!(bytes.starts_with(b"c2sp.org/tlog-proof@v1\nindex 6\n"));
    assert_eq!(TlogProof::parse(&bytes).unwrap(), without_extra);
}

#[test]
fn single_leaf_tree_has_no_proof_lines() {
    let entries = entries(1, "solo");
    let tree = tree_of(&entries);
    let proof = TlogProof::new(0, vec![], &signed_at(&tree, 1));
    let bytes = proof.to_bytes();
    let parsed = TlogProof::parse(&bytes).unwrap();
    assert!(parsed.proof.is_empty());
    assert!(parsed.verify(&entries[0], &log_key()).is_ok());
}

#[test]
fn tlog_proof_parse_negatives() {
    let (_, proof) = sample_proof(None);
    let good = String::from_utf8(proof.to_bytes()).unwrap();
    let cases = [
        good.replacen("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2", 1),
        good.replacen("index 6", "index 06", 1),
        good.replacen("index 6", "index  6", 1),
        good.replacen("index 6", "index 0x6", 1),
        good.replacen("index 6", "index 18446744073709551616", 1),
        good.replacen("index 6\n", "", 1),
        good.replacen("index 6\n", "index 6\nnot-base64\n", 1),
        good.replacen("index 6\n", "index 6\nAAAA\n", 1),
        good.replacen("index 6\n", "extra !!\nindex 6\n", 1),
        good.replacen("index 6\n", "index 6\nextra AAAA\n", 1),
        good.replacen("index 6\n", "index 6\r\n", 1),
        good.split("\n\n").next().unwrap().to_owned() + "\n\n",
        "c2sp.org/tlog-proof@v1".to_owned(),
        String::new(),
    ];
    for text in cases {
        assert!(TlogProof::parse(text.as_bytes()).is_err(), "{text:?}");
    }
}

#[test]
fn more_than_63_proof_lines_are_refused() {
    let (_, mut proof) = sample_proof(None);
    proof.proof = vec![[7u8; 32]; MAX_PROOF_HASHES + 1];
    assert_eq!(
        TlogProof::parse(&proof.to_bytes()),
        Err(TlogProofError::TooManyHashes)
    );
    proof.proof.pop();
    // 63 lines parse; the exact-length rule then refuses them for size 11.
    let parsed = TlogProof::parse(&proof.to_bytes()).unwrap();
    assert_eq!(parsed.proof.len(), MAX_PROOF_HASHES);
}

#[test]
fn every_byte_flip_outside_extra_fails_and_inside_extra_is_harmless() {
    let (entries, proof) = sample_proof(Some(b"unauthenticated!".to_vec()));
    let bytes = proof.to_bytes();
    let extra_start = bytes.windows(6).position(|w| w == b"extra ").unwrap() + 6;
    let extra_end = extra_start
        + bytes[extra_start..]
            .iter()
            .position(|&b| b == b'\n')
            .unwrap();
    let key = log_key();
    let (mut checked, mut harmless) = (0, 0);
    for pos in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[pos] ^= 1 << bit;
            let verdict = TlogProof::parse(&flipped).and_then(|p| p.verify(&entries[6], &key));
            if (extra_start..extra_end).contains(&pos) {
                if let Ok(parsed) = TlogProof::parse(&flipped) {
                    assert!(
                        parsed.verify(&entries[6], &key).is_ok(),
                        "flip in extra at {pos} bit {bit} changed the verdict"
                    );
                    harmless += 1;
                }
            } else {
                assert!(
                    verdict.is_err(),
                    "flip at byte {pos} bit {bit} still verifies"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 8 * (bytes.len() - (extra_end - extra_start)));
    assert!(harmless > 0);
}

// ---- tracker (§6 H) ----

struct Log {
    tree: MerkleTree,
}

impl Log {
    fn new(n: usize, tag: &str) -> Self {
        Self {
            tree: tree_of(&entries(n, tag)),
        }
    }

    fn at(&self, size: u64) -> SignedCheckpoint {
        signed_at(&self.tree, size)
    }
}

fn flip_first(proof: &[Hash]) -> Vec<Hash> {
    let mut bad = proof.to_vec();
    bad[0][0] ^= 1;
    bad
}

#[test]
fn tracker_accepts_first_same_and_extended() {
    let log = Log::new(20, "a");
    let (c5, c12) = (log.at(5), log.at(12));
    assert_eq!(check_checkpoint(None, &c5, &[]), Ok(Accepted::First));
    assert_eq!(check_checkpoint(Some(&c5), &c5, &[]), Ok(Accepted::Same));
    let proof = log.tree.consistency_proof(5, 12).unwrap();
    assert_eq!(
        check_checkpoint(Some(&c5), &c12, &proof),
        Ok(Accepted::Extended)
    );
    // Growing from the empty tree needs, and allows, no proof.
    let c0 = log.at(0);
    assert_eq!(
        check_checkpoint(Some(&c0), &c12, &[]),
        Ok(Accepted::Extended)
    );
    assert_eq!(check_checkpoint(Some(&c0), &c0, &[]), Ok(Accepted::Same));
}

fn assert_evidence(
    alarm: &tollgate::ledger::Alarm,
    old: &SignedCheckpoint,
    new: &SignedCheckpoint,
) {
    assert_eq!(alarm.trusted, old.as_bytes());
    assert_eq!(alarm.candidate, new.as_bytes());
    let report = alarm.report();
    assert!(report.starts_with("SECURITY ERROR\n"));
    for signed in [old, new] {
        for line in std::str::from_utf8(signed.as_bytes()).unwrap().lines() {
            assert!(report.contains(line), "report lacks {line:?}");
        }
    }
}

#[test]
fn different_root_at_the_same_size_is_an_alarm() {
    let (honest, fork) = (Log::new(8, "a"), Log::new(8, "b"));
    let (old, new) = (honest.at(8), fork.at(8));
    let alarm = check_checkpoint(Some(&old), &new, &[]).unwrap_err();
    assert_eq!(alarm.reason, AlarmReason::DifferentRootSameSize);
    assert_evidence(&alarm, &old, &new);
}

#[test]
fn a_smaller_tree_is_an_alarm() {
    let log = Log::new(10, "a");
    let (old, new) = (log.at(10), log.at(7));
    let alarm = check_checkpoint(Some(&old), &new, &[]).unwrap_err();
    assert_eq!(alarm.reason, AlarmReason::Rollback);
    assert_evidence(&alarm, &old, &new);
}

#[test]
fn a_larger_tree_with_a_bad_consistency_proof_is_an_alarm() {
    let log = Log::new(30, "a");
    let (old, new) = (log.at(13), log.at(30));
    let proof = log.tree.consistency_proof(13, 30).unwrap();
    let bad = flip_first(&proof);
    let alarm = check_checkpoint(Some(&old), &new, &bad).unwrap_err();
    assert!(matches!(alarm.reason, AlarmReason::Inconsistent(_)));
    assert_eq!(alarm.proof, bad);
    assert_evidence(&alarm, &old, &new);
    assert!(check_checkpoint(Some(&old), &new, &[]).is_err());
    assert!(check_checkpoint(Some(&old), &new, &proof[1..]).is_err());

    // A larger tree that rewrote history cannot prove consistency at all.
    let fork = Log::new(30, "b");
    let forked = fork.at(30);
    let fork_proof = fork.tree.consistency_proof(13, 30).unwrap();
    let alarm = check_checkpoint(Some(&old), &forked, &fork_proof).unwrap_err();
    assert!(matches!(alarm.reason, AlarmReason::Inconsistent(_)));
    assert_evidence(&alarm, &old, &forked);
}

#[test]
fn equal_sizes_with_a_proof_and_empty_tree_with_a_proof_are_alarms() {
    let log = Log::new(4, "a");
    let c4 = log.at(4);
    assert!(check_checkpoint(Some(&c4), &c4, &[EMPTY_ROOT]).is_err());
    let c0 = log.at(0);
    assert!(check_checkpoint(Some(&c0), &c4, &[EMPTY_ROOT]).is_err());
}

#[test]
fn a_different_origin_is_an_alarm() {
    let other =
        Signer::from_signing_key("example.com/other", SigningKey::from_bytes(&[3; 32])).unwrap();
    let log = Log::new(4, "a");
    let old = log.at(4);
    let c = Checkpoint {
        origin: "example.com/other".into(),
        size: 4,
        root: log.tree.root(),
    };
    let new = SignedCheckpoint::sign(&c, &other).unwrap();
    let alarm = check_checkpoint(Some(&old), &new, &[]).unwrap_err();
    assert_eq!(alarm.reason, AlarmReason::OriginChanged);
}
