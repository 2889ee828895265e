//! Byte flips anywhere in an entry are detected (DESIGN.md §8): every flipped
//! byte of a signed envelope either makes it refused, or lands in the
//! unauthenticated `keyid` hint and changes nothing that counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::World;
use tollgate::digest::Digest;
use tollgate::statement::DecisionAction;

#[test]
fn every_byte_flip_of_a_signed_decision_is_refused_or_inert() {
    let mut w = World::new();
    w.through("app", Digest::of(b"v1"), "staging");
    let p = w.request("ci-main", "app", Digest::of(b"v1"), Some("staging"), "prod");
    let d = w.decision("release-manager", DecisionAction::Approve { promotion: p });
    w.decide("alice", Digest::of(b"v1"), d);
    let original = w.envelopes.last().unwrap().to_json();
    let accepted = w.ring.verify(0, &original).unwrap();

    let text = String::from_utf8(original.clone()).unwrap();
    let keyid_start = text.find("\"keyid\":\"").unwrap() + "\"keyid\":\"".len();
    let keyid_end = keyid_start + text[keyid_start..].find('"').unwrap();

    let mut inert = 0;
    for position in 0..original.len() {
        for bit in [0x01u8, 0x20, 0x80] {
            let mut mutated = original.clone();
            mutated[position] ^= bit;
            match w.ring.verify(0, &mutated) {
                Err(_) => {}
                Ok(entry) => {
                    assert!(
                        (keyid_start..keyid_end).contains(&position),
                        "flip of bit {bit:#04x} at byte {position} was accepted outside the keyid hint"
                    );
                    assert_eq!(entry.id, accepted.id);
                    assert_eq!(entry.statement, accepted.statement);
                    assert_eq!(entry.signer, accepted.signer);
                    inert += 1;
                }
            }
        }
    }
    assert!(original.len() > 500, "a realistic entry was swept");
    assert!(
        inert > 0,
        "the keyid hint is unauthenticated and must stay inert"
    );
}

#[test]
fn verifying_a_log_names_the_first_bad_entry_in_log_order() {
    let mut w = World::new();
    for n in 0..50 {
        w.request("ci-main", "app", Digest::of(&[n]), None, "dev");
    }
    let mut log: Vec<Vec<u8>> = w
        .envelopes
        .iter()
        .map(tollgate::envelope::Envelope::to_json)
        .collect();
    for bad in [17, 30, 44] {
        let at = log[bad].len() / 2;
        log[bad][at] ^= 0x01;
    }
    let genesis = std::sync::Arc::new(w.policy.clone());
    let mut replay = tollgate::replay::Replay::new(std::sync::Arc::clone(&genesis));
    let failure = replay.extend(&log).unwrap_err();
    assert_eq!(failure.index(), 17);
    // What came before the bad entry stays replayed.
    assert_eq!(replay.size(), 17);
    log.truncate(17);
    let mut replay = tollgate::replay::Replay::new(genesis);
    let entries = replay.extend(&log).unwrap();
    assert_eq!(entries.len(), 17);
    let leaves: Vec<_> = log.iter().map(|e| tollgate::ledger::leaf_hash(e)).collect();
    assert_eq!(replay.root(), tollgate::ledger::root_of(&leaves));
}
