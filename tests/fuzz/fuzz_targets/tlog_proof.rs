//! tlog-proof parser and verifier: never panic, and parsed proofs
//! round-trip through their text form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::TlogProof;

const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = TlogProof::parse(data) else {
        return;
    };
    let again = TlogProof::parse(&proof.to_bytes()).expect("re-serialised proof must parse");
    assert_eq!(again, proof);
    let key: NoteVerifierKey = SPEC_VKEY.parse().expect("spec vkey");
    let _ = proof.verify(b"entry", &key);
});
