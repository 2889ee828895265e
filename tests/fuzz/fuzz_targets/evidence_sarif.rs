//! SARIF (with OpenVEX waivers): parsing and judging never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::evidence::{Context, EvidenceFile, evaluate_with};
use tollgate::policy::gates::*;

fuzz_target!(|data: &[u8]| {
    let file = EvidenceFile { name: "fuzz", bytes: data };
    let _ = tollgate::evidence::sarif::parse(&file);
    let _ = tollgate::evidence::vex::parse(&file);
    let settings = GateSettings::Sarif(SarifSettings {
        block_on: BlockOn { level: SarifLevel::Warning, security_severity: Some(7.0) },
        ignore_rules: vec![],
    });
    let _ = evaluate_with(&settings, &[file], Context::default());
});
