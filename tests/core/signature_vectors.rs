//! The ed25519-speccheck edge cases (`tests/fixtures/vectors/ed25519/`),
//! with the verdict of `verify_strict` pinned for each, and the verdict of
//! the whole envelope path, which must never be more lenient.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;
use tollgate::keys::PublicKey;

#[derive(Deserialize)]
struct Case {
    message: String,
    pub_key: String,
    signature: String,
}

/// `verify_strict` verdicts, the "Dalek strict" row of `results.md`: only
/// case 3 (a plain valid signature by a mixed-order-free key) is accepted;
/// small-order A or R (0–2), non-canonical S (4–5), non-canonical R or A
/// (6–11) are all refused.
const PINNED: [bool; 12] = [
    false, false, false, true, false, false, false, false, false, false, false, false,
];

fn cases() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vectors/ed25519/cases.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strict_verdict(case: &Case) -> bool {
    let key: [u8; 32] = hex::decode(&case.pub_key).unwrap().try_into().unwrap();
    let sig: [u8; 64] = hex::decode(&case.signature).unwrap().try_into().unwrap();
    let message = hex::decode(&case.message).unwrap();
    VerifyingKey::from_bytes(&key).is_ok_and(|k| {
        k.verify_strict(&message, &Signature::from_bytes(&sig))
            .is_ok()
    })
}

#[test]
fn verify_strict_gives_the_pinned_verdict_for_every_case() {
    let cases = cases();
    assert_eq!(cases.len(), PINNED.len());
    for (i, case) in cases.iter().enumerate() {
        assert_eq!(strict_verdict(case), PINNED[i], "case {i}");
    }
}

#[test]
fn keys_that_enter_a_policy_are_never_more_lenient_than_verify_strict() {
    for (i, case) in cases().iter().enumerate() {
        let key = hex::decode(&case.pub_key).unwrap();
        let sig: [u8; 64] = hex::decode(&case.signature).unwrap().try_into().unwrap();
        let message = hex::decode(&case.message).unwrap();
        // A key the policy would accept, used exactly as envelopes use it.
        let verdict = PublicKey::from_bytes(&key).is_ok_and(|k| {
            k.verifying_key()
                .verify_strict(&message, &Signature::from_bytes(&sig))
                .is_ok()
        });
        assert!(
            !verdict || PINNED[i],
            "case {i} accepted through a policy key but not pinned"
        );
        assert_eq!(verdict, PINNED[i], "case {i}");
    }
}

#[test]
fn small_order_keys_of_the_vectors_cannot_enter_a_policy() {
    let cases = cases();
    // Cases 0 and 1 use a small-order public key.
    for i in [0, 1] {
        let key = hex::decode(&cases[i].pub_key).unwrap();
        assert!(PublicKey::from_bytes(&key).is_err(), "case {i}");
    }
}
