//! The witness's `add-checkpoint` parser and checks, and the client's
//! cosignature quorum check: never panic on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::cosignature::{CosignerKey, check_quorum};
use tollgate::witness::protocol::{check_extension, open, parse_request};

const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

fuzz_target!(|data: &[u8]| {
    let log: NoteVerifierKey = SPEC_VKEY.parse().expect("spec vkey");
    let witness = CosignerKey::new("witness.example/w1", *log.key()).expect("witness key");
    let _ = check_quorum(data, std::slice::from_ref(&witness), 1);
    let Ok(request) = parse_request(data) else {
        return;
    };
    if let Ok(opened) = open(&request, std::slice::from_ref(&log)) {
        let _ = check_extension(&request, &opened.checkpoint, None);
        let _ = check_extension(&request, &opened.checkpoint, Some((1, [0; 32])));
    }
});
