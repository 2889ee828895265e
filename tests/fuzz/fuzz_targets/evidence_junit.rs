//! JUnit XML: parsing and judging never panics; a verdict always names the evaluator.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::evidence::{Context, EvidenceFile, evaluate_with};
use tollgate::policy::gates::*;

fuzz_target!(|data: &[u8]| {
    let file = EvidenceFile { name: "fuzz", bytes: data };
    let _ = tollgate::evidence::junit::parse(&file);
    let settings = GateSettings::Junit(JunitSettings { min_tests: 1, max_skipped: Some(0) });
    let verdict = evaluate_with(&settings, &[file], Context::default());
    assert_eq!(verdict.evaluator, tollgate::evidence::EVALUATOR_VERSION);
});
