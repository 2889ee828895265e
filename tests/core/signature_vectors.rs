//! The ed25519-speccheck edge cases (`tests/fixtures/vectors/ed25519/`),
//! with the verdict of `verify_strict` pinned for each, and the verdict of
//! the whole envelope path, which must never be more lenient.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;
use tollgate::keys::{PublicKey, StrictKey};

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

/// `keys::StrictKey` (the verify pipeline's check) gives `verify_strict`'s
/// verdict on every speccheck case.
#[test]
fn the_pipeline_check_gives_verify_stricts_verdict_on_every_case() {
    for (i, case) in cases().iter().enumerate() {
        let key: [u8; 32] = hex::decode(&case.pub_key).unwrap().try_into().unwrap();
        let sig: [u8; 64] = hex::decode(&case.signature).unwrap().try_into().unwrap();
        let message = hex::decode(&case.message).unwrap();
        let verdict = VerifyingKey::from_bytes(&key)
            .is_ok_and(|k| StrictKey::new(&k).verify(&message, &Signature::from_bytes(&sig)));
        assert_eq!(verdict, PINNED[i], "case {i}");
    }
}

/// Both verdicts on `signature` by `key` over `message`.
fn verdicts(key: &VerifyingKey, message: &[u8], signature: &[u8; 64]) -> (bool, bool) {
    let signature = Signature::from_bytes(signature);
    (
        StrictKey::new(key).verify(message, &signature),
        key.verify_strict(message, &signature).is_ok(),
    )
}

/// The group order, little endian: `s + L` is the same scalar, not canonical.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn plus_l(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s[i]) + u16::from(L[i]) + carry;
        out[i] = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

    /// Valid, tampered and crafted signatures: the same verdict as
    /// `verify_strict` every time.
    #[test]
    fn the_pipeline_check_gives_verify_stricts_verdict(
        seed in proptest::prelude::any::<[u8; 32]>(),
        message in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        flip in 0..(64 * 8usize),
        torsion in 0..8usize,
    ) {
        use curve25519_dalek::constants::EIGHT_TORSION;
        use curve25519_dalek::edwards::CompressedEdwardsY;
        use ed25519_dalek::Signer as _;

        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let key = signing.verifying_key();
        let good = signing.sign(&message).to_bytes();
        proptest::prop_assert_eq!(verdicts(&key, &message, &good), (true, true));

        // One bit of the signature flipped.
        let mut flipped = good;
        flipped[flip / 8] ^= 1 << (flip % 8);
        let (ours, theirs) = verdicts(&key, &message, &flipped);
        proptest::prop_assert_eq!(ours, theirs);

        // Another message.
        let mut other = message.clone();
        other.push(0);
        let (ours, theirs) = verdicts(&key, &other, &good);
        proptest::prop_assert_eq!(ours, theirs);

        // s + L: the same scalar, not canonical.
        let mut wide = good;
        wide[32..].copy_from_slice(&plus_l(&good[32..]));
        proptest::prop_assert_eq!(verdicts(&key, &message, &wide), (false, false));

        // R of small order, and R moved by a small-order point.
        let point = EIGHT_TORSION[torsion];
        let mut small = good;
        small[..32].copy_from_slice(point.compress().as_bytes());
        let (ours, theirs) = verdicts(&key, &message, &small);
        proptest::prop_assert_eq!(ours, theirs);
        let r = CompressedEdwardsY(good[..32].try_into().unwrap()).decompress().unwrap();
        let mut mixed = good;
        mixed[..32].copy_from_slice((r + point).compress().as_bytes());
        let (ours, theirs) = verdicts(&key, &message, &mixed);
        proptest::prop_assert_eq!(ours, theirs);
        proptest::prop_assert_eq!(ours, torsion == 0);
    }
}
