//! k6 summaries and plain metrics: reading and budgets never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::evidence::{Context, EvidenceFile, evaluate_with};
use tollgate::policy::gates::*;

fuzz_target!(|data: &[u8]| {
    let file = EvidenceFile { name: "fuzz", bytes: data };
    let settings = GateSettings::Perf(PerfSettings {
        metric: "http_req_duration.p(95)".into(),
        max: Some(500.0),
        max_regression_percent: Some(5.0),
    });
    let _ = evaluate_with(&settings, &[file], Context::default());
});
