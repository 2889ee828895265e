//! The policy parser must never panic, and every error must point inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(errors) = tollgate::policy::Policy::parse(text, "fuzz.toml") {
            let lines = text.lines().count().max(1) + 1;
            for error in &errors {
                assert!(error.line >= 1 && error.line <= lines, "{error}");
            }
        }
    }
});
