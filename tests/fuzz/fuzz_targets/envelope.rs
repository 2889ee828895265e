//! DSSE envelope parser: never panics on any input; accepted envelopes
//! expose their PAE and identity without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::envelope::Envelope;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::from_json(data) {
        let _ = envelope.pae();
        let _ = envelope.entry_id();
        let _ = envelope.verify(&[]);
    }
});
