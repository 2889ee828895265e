//! Checkpoint parser and signed-checkpoint verification: never panic, and a
//! parsed checkpoint's canonical text parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::{Checkpoint, SignedCheckpoint};

const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(checkpoint) = Checkpoint::parse(text) {
            let again = Checkpoint::parse(&checkpoint.to_text()).expect("canonical text parses");
            assert_eq!(again, checkpoint);
        }
    }
    let key: NoteVerifierKey = SPEC_VKEY.parse().expect("spec vkey");
    if let Ok(signed) = SignedCheckpoint::parse_and_verify(data, &key) {
        assert_eq!(signed.as_bytes(), data);
    }
});
