use std::sync::Arc;

use super::*;
use crate::ledger::cosignature::check_quorum;
use crate::ledger::{Checkpoint, MerkleTree, SignedCheckpoint, leaf_hash};

const ORIGIN: &str = "audit.test/tollgate";

fn setup() -> (tempfile::TempDir, Signer, MerkleTree) {
    let dir = tempfile::tempdir().unwrap();
    let log = Signer::generate(ORIGIN);
    let mut tree = MerkleTree::new();
    for i in 0..32u32 {
        tree.append(leaf_hash(&i.to_be_bytes()));
    }
    (dir, log, tree)
}

fn request(log: &Signer, tree: &MerkleTree, old: u64, size: u64) -> Vec<u8> {
    let note = SignedCheckpoint::sign(
        &Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: tree.root_at(size).unwrap(),
        },
        log,
    )
    .unwrap();
    let mut body = format!("old {old}\n").into_bytes();
    if old > 0 && old < size {
        for h in tree.consistency_proof(old, size).unwrap() {
            body.extend_from_slice(crate::encoding::encode(&h).as_bytes());
            body.push(b'\n');
        }
    }
    body.push(b'\n');
    body.extend_from_slice(note.as_bytes());
    body
}

fn witness(dir: &std::path::Path, log: &Signer, signer: Signer) -> Witness {
    Witness::open(
        signer,
        vec![NoteVerifierKey::of_signer(log).unwrap()],
        StateDir::new(dir),
    )
    .unwrap()
}

#[test]
fn racing_requests_from_the_same_old_size_cannot_roll_the_record_back() {
    let (dir, log, tree) = setup();
    let w = Arc::new(witness(dir.path(), &log, Signer::generate("w1")));
    // 16 requests all claim `old 0`, for sizes 1..=16: exactly one wins.
    let handles: Vec<_> = (1..=16u64)
        .map(|size| {
            let (w, body) = (w.clone(), request(&log, &tree, 0, size));
            std::thread::spawn(move || w.add_checkpoint(&body, 1_700_000_000))
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    for rejected in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(rejected.status(), 409, "{rejected}");
    }
}

#[test]
fn a_cosignature_is_returned_only_after_the_record_and_survives_a_restart() {
    let (dir, log, tree) = setup();
    let signer = Signer::generate("w1");
    let copy = || Signer::from_signing_key("w1", signer.signing_key().clone()).unwrap();
    let w = witness(dir.path(), &log, copy());
    let line = w
        .add_checkpoint(&request(&log, &tree, 0, 10), 1_700_000_000)
        .unwrap();
    let mut note = SignedCheckpoint::sign(
        &Checkpoint {
            origin: ORIGIN.into(),
            size: 10,
            root: tree.root_at(10).unwrap(),
        },
        &log,
    )
    .unwrap()
    .into_bytes();
    note.extend_from_slice(line.as_bytes());
    check_quorum(&note, &[w.key().clone()], 1).unwrap();
    // A new process on the same directory remembers size 10.
    drop(w);
    let again = witness(dir.path(), &log, copy());
    let e = again
        .add_checkpoint(&request(&log, &tree, 0, 5), 1_700_000_001)
        .unwrap_err();
    assert_eq!((e.status(), e.stored_size()), (409, Some(10)));
    again
        .add_checkpoint(&request(&log, &tree, 10, 20), 1_700_000_002)
        .unwrap();
}
