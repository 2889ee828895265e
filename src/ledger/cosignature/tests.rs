use ed25519_dalek::SigningKey;

use super::*;
use crate::keys::vkey::NoteVerifierKey;
use crate::ledger::{Checkpoint, SignedCheckpoint};

/// The example checkpoint of c2sp.org/tlog-cosignature, with its witness line.
const SPEC_NOTE: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

/// RFC 8032 §7.1 TEST 1 secret key: a fixed witness key.
fn fixed_witness(name: &str) -> Signer {
    let seed: [u8; 32] =
        hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap()
            .try_into()
            .unwrap();
    Signer::from_signing_key(name, SigningKey::from_bytes(&seed)).unwrap()
}

fn log_checkpoint(size: u64) -> (Signer, SignedCheckpoint) {
    let log = Signer::generate("audit.test/tollgate");
    let checkpoint = SignedCheckpoint::sign(
        &Checkpoint {
            origin: "audit.test/tollgate".into(),
            size,
            root: [7; 32],
        },
        &log,
    )
    .unwrap();
    (log, checkpoint)
}

fn cosigned(note: &[u8], witnesses: &[&Signer], timestamp: u64) -> Vec<u8> {
    let text = Note::parse(note).unwrap().text().to_owned();
    let mut out = note.to_vec();
    for w in witnesses {
        out.extend_from_slice(
            Cosignature::sign(w, &text, timestamp)
                .unwrap()
                .to_line()
                .as_bytes(),
        );
    }
    out
}

#[test]
fn the_spec_example_line_has_the_spec_timestamp_and_round_trips() {
    // The spec's example signs "time 1679315147": the 8 bytes after the key
    // id are that timestamp, big-endian.
    let note = Note::parse(SPEC_NOTE.as_bytes()).unwrap();
    let line = &note.signatures()[1];
    assert_eq!(line.name(), "witness.example.com/w1");
    assert_eq!(line.key_id(), 0x8d66_cf3f);
    let cosignature =
        Cosignature::from_parts(line.name(), line.key_id(), line.signature()).unwrap();
    assert_eq!(cosignature.timestamp, 1_679_315_147);
    assert_eq!(cosignature.to_line(), line.to_line());
    // The spec's example of the signed message, byte for byte.
    assert_eq!(
        signed_message(note.text(), 1_679_315_147),
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    );
}

#[test]
fn key_id_and_vkey_use_type_0x04() {
    let w = fixed_witness("witness.example/w1");
    let key = CosignerKey::of_signer(&w).unwrap();
    // SHA-256(name ‖ "\n" ‖ 0x04 ‖ pubkey)[:4], computed independently.
    let mut preimage = b"witness.example/w1\n\x04".to_vec();
    preimage.extend_from_slice(w.public().as_bytes());
    let digest = crate::digest::Digest::of(&preimage);
    let want = u32::from_be_bytes(digest.as_bytes()[..4].try_into().unwrap());
    assert_eq!(key.id(), want);
    // The note (0x01) key id of the same key differs: no confusion possible.
    assert_ne!(key.id(), NoteVerifierKey::of_signer(&w).unwrap().id());
    let text = key.to_string();
    assert_eq!(text.parse::<CosignerKey>().unwrap(), key);
    // A log (0x01) vkey is not a witness vkey.
    let log_vkey = NoteVerifierKey::of_signer(&w).unwrap().to_string();
    assert!(matches!(
        log_vkey.parse::<CosignerKey>(),
        Err(CosignatureError::WrongType(_, 0x01))
    ));
    assert!(matches!(
        text.replacen("witness.example/w1", "witness.example/w2", 1)
            .parse::<CosignerKey>(),
        Err(CosignatureError::WrongKeyId(..))
    ));
    assert!("nonsense".parse::<CosignerKey>().is_err());
}

#[test]
fn a_fixed_key_gives_a_fixed_line_that_verifies() {
    // Ed25519 is deterministic: the same key, text and time give the same line.
    let w = fixed_witness("witness.example/w1");
    let text =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    let a = Cosignature::sign(&w, text, 1_679_315_147).unwrap();
    let b = Cosignature::sign(&w, text, 1_679_315_147).unwrap();
    assert_eq!(a.to_line(), b.to_line());
    let key = CosignerKey::of_signer(&w).unwrap();
    a.verify(&key, text).unwrap();
    // The timestamp is signed: another time does not verify.
    let mut moved = a.clone();
    moved.timestamp += 1;
    assert!(moved.verify(&key, text).is_err());
    assert!(Cosignature::sign(&w, text, u64::MAX).is_err());
}

#[test]
fn quorum_counts_distinct_valid_witnesses_and_names_them() {
    let (_, checkpoint) = log_checkpoint(5);
    let w1 = Signer::generate("w1");
    let w2 = Signer::generate("w2");
    let w3 = Signer::generate("w3");
    let keys: Vec<CosignerKey> = [&w1, &w2, &w3]
        .iter()
        .map(|s| CosignerKey::of_signer(s).unwrap())
        .collect();
    let stranger = Signer::generate("w1");
    let note = cosigned(checkpoint.as_bytes(), &[&w1, &w2, &stranger], 1_700_000_000);
    assert_eq!(check_quorum(&note, &keys, 2).unwrap(), ["w1", "w2"]);
    let err = check_quorum(&note, &keys, 3).unwrap_err().to_string();
    assert!(
        err.contains("from 2 of the configured witnesses but witness_quorum is 3")
            && err.contains("cosigned by: w1, w2; missing: w3"),
        "{err}"
    );
    // The same key configured twice counts once.
    let twice = vec![keys[0].clone(), keys[0].clone()];
    assert!(check_quorum(&note, &twice, 2).is_err());
    // No cosignature at all.
    let err = check_quorum(checkpoint.as_bytes(), &keys, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cosigned by: none"), "{err}");
}

#[test]
fn every_byte_flip_in_a_cosignature_or_the_checkpoint_is_refused() {
    let (_, checkpoint) = log_checkpoint(9);
    let w = fixed_witness("w1");
    let keys = vec![CosignerKey::of_signer(&w).unwrap()];
    let note = cosigned(checkpoint.as_bytes(), &[&w], 1_700_000_000);
    check_quorum(&note, &keys, 1).unwrap();
    let text = String::from_utf8(note.clone()).unwrap();
    let line = text.lines().last().unwrap();
    let b64 = line.rsplit(' ').next().unwrap();
    let payload = encoding::decode_standard(b64).unwrap();
    for i in 0..payload.len() {
        for bit in [0x01u8, 0x80] {
            let mut flipped = payload.clone();
            flipped[i] ^= bit;
            let forged = text.replace(b64, &encoding::encode(&flipped));
            assert!(
                check_quorum(forged.as_bytes(), &keys, 1).is_err(),
                "flip at byte {i} bit {bit:#x} was accepted"
            );
        }
    }
    // Flipping the checkpoint text (its root) breaks the cosignature too.
    let body_len = Note::parse(&note).unwrap().text().len();
    for i in 0..body_len {
        let mut forged = note.clone();
        forged[i] ^= 0x01;
        assert!(check_quorum(&forged, &keys, 1).is_err(), "text flip at {i}");
    }
}
