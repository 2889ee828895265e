use super::*;
use crate::keys::Signer;
use crate::ledger::{MerkleTree, SignedCheckpoint, leaf_hash};

const ORIGIN: &str = "audit.test/tollgate";

fn tree(n: u64) -> MerkleTree {
    let mut tree = MerkleTree::new();
    for i in 0..n {
        tree.append(leaf_hash(format!("entry {i}").as_bytes()));
    }
    tree
}

fn note(log: &Signer, size: u64, root: Hash) -> Vec<u8> {
    SignedCheckpoint::sign(
        &Checkpoint {
            origin: ORIGIN.into(),
            size,
            root,
        },
        log,
    )
    .unwrap()
    .into_bytes()
}

fn body(old: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
    let mut out = format!("old {old}\n").into_bytes();
    for h in proof {
        out.extend_from_slice(encoding::encode(h).as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(note);
    out
}

fn judge(
    log: &Signer,
    request: &[u8],
    latest: Option<(u64, Hash)>,
) -> Result<Checkpoint, Rejection> {
    let keys = vec![NoteVerifierKey::of_signer(log).unwrap()];
    let request = parse_request(request)?;
    let opened = open(&request, &keys)?;
    check_extension(&request, &opened.checkpoint, latest)?;
    Ok(opened.checkpoint)
}

#[test]
fn a_consistent_extension_is_accepted() {
    let log = Signer::generate(ORIGIN);
    let t = tree(10);
    let first = note(&log, 4, t.root_at(4).unwrap());
    assert_eq!(judge(&log, &body(0, &[], &first), None).unwrap().size, 4);
    let proof = t.consistency_proof(4, 10).unwrap();
    let next = note(&log, 10, t.root());
    let latest = Some((4, t.root_at(4).unwrap()));
    assert_eq!(
        judge(&log, &body(4, &proof, &next), latest).unwrap().size,
        10
    );
    // The same checkpoint again is cosigned again.
    assert!(judge(&log, &body(10, &[], &next), Some((10, t.root()))).is_ok());
}

#[test]
fn rewinds_forks_and_bad_proofs_get_the_spec_status() {
    let log = Signer::generate(ORIGIN);
    let t = tree(10);
    let latest = Some((10, t.root()));
    // A rewound checkpoint, re-signed with the real log key.
    let rewound = note(&log, 6, t.root_at(6).unwrap());
    let e = judge(&log, &body(6, &[], &rewound), latest).unwrap_err();
    assert_eq!((e.status(), e.stored_size()), (409, Some(10)));
    let e = judge(&log, &body(0, &[], &rewound), latest).unwrap_err();
    assert_eq!((e.status(), e.stored_size()), (409, Some(10)));
    assert_eq!(
        judge(&log, &body(10, &[], &rewound), latest)
            .unwrap_err()
            .status(),
        400
    );
    // A fork at the same size.
    let forked = note(
        &log,
        10,
        tree(11)
            .root_at(10)
            .map(|mut r| {
                r[0] ^= 1;
                r
            })
            .unwrap(),
    );
    let e = judge(&log, &body(10, &[], &forked), latest).unwrap_err();
    assert_eq!((e.status(), e.stored_size()), (409, Some(10)));
    // A fork that claims to extend: the proof does not verify.
    let other = {
        let mut t = tree(9);
        t.append(leaf_hash(b"not the real tenth entry"));
        for i in 0..3 {
            t.append(leaf_hash(format!("more {i}").as_bytes()));
        }
        t
    };
    let proof = other.consistency_proof(10, 13).unwrap();
    let e = judge(
        &log,
        &body(10, &proof, &note(&log, 13, other.root())),
        latest,
    )
    .unwrap_err();
    assert_eq!(e.status(), 422, "{e}");
    // A never-seen log answers 409 with 0 to a non-zero old size.
    let e = judge(&log, &body(3, &[], &rewound), None).unwrap_err();
    assert_eq!((e.status(), e.stored_size()), (409, Some(0)));
}

#[test]
fn unknown_logs_bad_signatures_and_malformed_bodies() {
    let log = Signer::generate(ORIGIN);
    let t = tree(3);
    let good = note(&log, 3, t.root());
    let impostor = Signer::generate(ORIGIN);
    assert_eq!(
        judge(&log, &body(0, &[], &note(&impostor, 3, t.root())), None)
            .unwrap_err()
            .status(),
        403
    );
    let elsewhere = Signer::generate("other.test/log");
    let foreign = SignedCheckpoint::sign(
        &Checkpoint {
            origin: "other.test/log".into(),
            size: 1,
            root: t.root(),
        },
        &elsewhere,
    )
    .unwrap();
    assert_eq!(
        judge(&log, &body(0, &[], foreign.as_bytes()), None)
            .unwrap_err()
            .status(),
        404
    );
    for bad in [
        b"".to_vec(),
        b"old 0\n".to_vec(),
        b"old 00\n\n".to_vec(),
        b"old x\n\nnote".to_vec(),
        b"new 0\n\nnote".to_vec(),
        b"old 0\nnot base64!\n\nnote".to_vec(),
        b"old 0\nAAAA\n\nnote".to_vec(),
        body(0, &[[1; 32]], &good),
        body(0, &vec![[1; 32]; 64], &good),
        body(0, &[], b"not a note\n"),
    ] {
        let e = judge(&log, &bad, None).unwrap_err();
        assert_eq!(
            e.status(),
            400,
            "{e} for {:?}",
            String::from_utf8_lossy(&bad)
        );
    }
}
