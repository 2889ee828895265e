//! The cockpit's evidence view model: detecting, parsing and
//! pretty-printing any bytes (under every gate kind's settings) never
//! panics, and the raw JSON views stay within their line budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::digest::Digest;
use tollgate::policy::gates::*;
use tollgate::tui::evidence::{MAX_RAW_LINES, document};

fuzz_target!(|data: &[u8]| {
    let artifact = Digest::of(b"artifact");
    let settings = [
        None,
        Some(GateSettings::Sbom(SbomSettings {
            allow: vec!["MIT".into(), "Apache-2.0".into()],
            exceptions: vec![],
            clarify: vec![],
            unknown: UnknownLicense::Deny,
            bans: vec![],
            min_components: 1,
        })),
        Some(GateSettings::Perf(PerfSettings {
            metric: "p99_latency_ms".into(),
            max: Some(500.0),
            max_regression_percent: Some(5.0),
        })),
    ];
    for s in &settings {
        let d = document(Digest::of(data), data, s.as_ref(), &artifact);
        assert!(d.raw_open.len() <= MAX_RAW_LINES + 1);
        assert!(d.raw_folded.len() <= MAX_RAW_LINES + 1);
    }
});
