//! DSSE-wrapped SLSA provenance: verification and checks never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::evidence::{Context, EvidenceFile, evaluate_with};
use tollgate::policy::gates::*;

fuzz_target!(|data: &[u8]| {
    let file = EvidenceFile { name: "fuzz", bytes: data };
    let key: tollgate::keys::PublicKey = "ed25519:sQx0O1yE9OLoHPkbh6K9yYT/94o1iUeWtIvG/l0cFCg=".parse().unwrap();
    let artifact = tollgate::digest::Digest::of(b"artifact");
    let settings = GateSettings::Provenance(ProvenanceSettings {
        source: "git+https://git.example.com/shop/checkout".into(),
        refs: vec!["refs/heads/main".into()],
        builders: vec![],
        keys: vec![key],
    });
    let _ = evaluate_with(&settings, &[file], Context { artifact: Some(&artifact) });
});
