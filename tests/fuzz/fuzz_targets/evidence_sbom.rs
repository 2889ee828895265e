//! CycloneDX and SPDX SBOMs through the licence policy never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::evidence::{Context, EvidenceFile, evaluate_with};
use tollgate::policy::gates::*;

fuzz_target!(|data: &[u8]| {
    let file = EvidenceFile { name: "fuzz", bytes: data };
    let _ = tollgate::evidence::sbom::parse_cyclonedx(&file);
    let _ = tollgate::evidence::sbom::parse_spdx(&file);
    let settings = GateSettings::Sbom(SbomSettings {
        allow: vec!["MIT".into(), "Apache-2.0 WITH LLVM-exception".into()],
        exceptions: vec![LicenseException { purl: "pkg:cargo/ring".into(), allow: vec!["ISC".into()] }],
        clarify: vec![LicenseClarification { purl: "pkg:cargo/x@1".into(), expression: "MIT".into() }],
        unknown: UnknownLicense::Warn,
        bans: vec![Ban { purl: "pkg:npm/event-stream".into(), reason: None }],
        min_components: 1,
    });
    let _ = evaluate_with(&settings, &[file], Context::default());
});
