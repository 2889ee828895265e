//! Statement parsing (after verification) must never panic on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(statement) = tollgate::statement::Statement::parse_verified(data) {
        // What parses must serialise and parse back to the same statement.
        let again = tollgate::statement::Statement::parse_verified(&statement.to_payload());
        assert_eq!(again.ok(), Some(statement));
    }
});
