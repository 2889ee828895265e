//! Signed-note parser: never panics, and whatever parses re-serialises to
//! bytes that parse to the same note (one spelling per note).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::Note;

const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

fuzz_target!(|data: &[u8]| {
    let Ok(note) = Note::parse(data) else {
        return;
    };
    let again = Note::parse(&note.to_bytes()).expect("re-serialised note must parse");
    assert_eq!(again, note);
    let key: NoteVerifierKey = SPEC_VKEY.parse().expect("spec vkey");
    let _ = note.verify(&[key]);
});
