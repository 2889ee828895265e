#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_cmp
)]

use super::*;
use crate::policy::gates::{
    Ban, BlockOn, GateSettings, JunitSettings, LicenseClarification, LicenseException,
    PerfSettings, SarifLevel, SarifSettings, SbomSettings, UnknownLicense,
};
use crate::statement::GateStatus;

fn file(bytes: &[u8]) -> EvidenceFile<'_> {
    EvidenceFile {
        name: "evidence",
        bytes,
    }
}

fn junit_settings(min_tests: u64) -> GateSettings {
    GateSettings::Junit(JunitSettings {
        min_tests,
        max_skipped: None,
    })
}

const SUITES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="api" tests="99" failures="0" errors="0">
  <testsuite name="api.orders" tests="99">
    <properties><property name="git.sha" value="9f2c1e7"/></properties>
    <testcase classname="api.orders" name="creates_order" time="0.12"/>
    <testcase classname="api.orders" name="rejects_negative_qty">
      <failure message="expected 400, got 200" type="AssertionError">assert resp.status == 400</failure>
    </testcase>
    <testcase classname="api.orders" name="db_roundtrip"><error message="connection refused"/></testcase>
    <testcase classname="api.orders" name="legacy_export"><skipped message="flag off"/></testcase>
  </testsuite>
</testsuites>"#;

#[test]
fn junit_totals_come_from_cases_not_attributes() {
    let r = junit::parse(&file(SUITES.as_bytes())).unwrap();
    assert_eq!((r.tests, r.failures, r.errors, r.skipped), (4, 1, 1, 1));
    assert_eq!(r.failed[0].name, "api.orders::rejects_negative_qty");
    let v = evaluate(&junit_settings(1), &[file(SUITES.as_bytes())]);
    assert_eq!(v.status, GateStatus::Fail);
    assert_eq!(v.evaluator, EVALUATOR_VERSION);
}

#[test]
fn junit_bare_testsuite_root_and_min_tests() {
    let bare = br#"<testsuite name="pytest" tests="0"><testcase classname="t" name="a"/><testcase classname="t" name="b"></testcase></testsuite>"#;
    let v = evaluate(&junit_settings(2), &[file(bare)]);
    assert_eq!(v.status, GateStatus::Pass, "{v:?}");
    let v = evaluate(&junit_settings(3), &[file(bare)]);
    assert_eq!(v.status, GateStatus::Fail);
    assert!(v.reasons[0].contains("at least 3"), "{:?}", v.reasons);
}

#[test]
fn junit_empty_report_cannot_pass() {
    let v = evaluate(&junit_settings(1), &[file(b"<testsuites/>")]);
    assert_eq!(v.status, GateStatus::Fail);
}

#[test]
fn junit_refuses_entity_declarations_and_undeclared_entities() {
    let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<testsuite><testcase name="&lol2;"/></testsuite>"#;
    let e = junit::parse(&file(laughs)).unwrap_err();
    assert!(matches!(e, EvidenceError::EntityDeclaration { .. }), "{e}");
    let undeclared = br#"<testsuite><testcase name="a">&lol9;</testcase></testsuite>"#;
    let e = junit::parse(&file(undeclared)).unwrap_err();
    assert!(e.to_string().contains("undeclared entity &lol9;"), "{e}");
    let attr = br#"<testsuite><testcase name="&lol9;"/></testsuite>"#;
    assert!(junit::parse(&file(attr)).is_err());
}

#[test]
fn junit_malformed_and_wrong_root_are_errors() {
    for bad in [
        &b"<testsuite><testcase></testsuite>"[..],
        b"<html><body/></html>",
        b"<testsuite",
        b"<testsuite><testcase name=\"a\"/>",
    ] {
        let v = evaluate(&junit_settings(1), &[file(bad)]);
        assert_eq!(
            v.status,
            GateStatus::Error,
            "{}",
            String::from_utf8_lossy(bad)
        );
        assert!(v.unreadable);
    }
}

const SARIF: &str = r#"{
  "version": "2.1.0",
  "runs": [{
    "tool": {"driver": {"name": "ExampleScanner", "version": "1.2.3",
      "rules": [
        {"id": "EX1001", "defaultConfiguration": {"level": "error"},
         "properties": {"security-severity": "8.8"}},
        {"id": "EX2002", "defaultConfiguration": {"level": "note"}},
        {"id": "EX3003", "properties": {"security-severity": "9.5"}}]}},
    "results": [
      {"ruleId": "EX1001", "ruleIndex": 0, "message": {"text": "sql"},
       "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/db.rs"}, "region": {"startLine": 42}}}]},
      {"ruleId": "EX2002", "ruleIndex": 1, "level": "warning", "message": {"text": "unused"},
       "suppressions": [{"kind": "inSource", "justification": "kept for debugging"}]},
      {"ruleId": "EX2002", "ruleIndex": 1, "kind": "pass", "message": {"text": "ok"}},
      {"ruleId": "EX2002", "message": {"text": "note by default"}},
      {"ruleId": "EX3003/sub", "message": {"text": "no level anywhere"}},
      {"ruleId": "EX1001", "baselineState": "absent", "message": {"text": "fixed"}}
    ]
  }]
}"#;

#[test]
fn sarif_effective_level_follows_the_spec() {
    let r = sarif::parse(&file(SARIF.as_bytes())).unwrap();
    let levels: Vec<SarifLevel> = r.findings.iter().map(|f| f.level).collect();
    assert_eq!(
        levels,
        [
            SarifLevel::Error,   // rule default
            SarifLevel::Warning, // result level wins
            SarifLevel::None,    // kind pass
            SarifLevel::Note,    // rule default
            SarifLevel::Warning, // nothing stated: warning; hierarchical id finds EX3003
            SarifLevel::Error,
        ]
    );
    assert_eq!(r.findings[4].security_severity, Some(9.5));
    assert!(
        r.findings[1]
            .suppressed
            .as_deref()
            .unwrap()
            .contains("kept for debugging")
    );
    assert!(
        r.findings[5].suppressed.is_some(),
        "absent results do not block"
    );
    assert_eq!(r.tools, ["ExampleScanner 1.2.3"]);
}

#[test]
fn sarif_severity_mapping() {
    use sarif::Severity;
    assert_eq!(Severity::of(9.1), Some(Severity::Critical));
    assert_eq!(Severity::of(9.0), Some(Severity::High));
    assert_eq!(Severity::of(7.0), Some(Severity::High));
    assert_eq!(Severity::of(6.9), Some(Severity::Medium));
    assert_eq!(Severity::of(4.0), Some(Severity::Medium));
    assert_eq!(Severity::of(0.1), Some(Severity::Low));
    assert_eq!(Severity::of(0.0), None);
}

#[test]
fn sarif_gate_blocks_on_level_or_security_severity() {
    let by_level = GateSettings::Sarif(SarifSettings::default());
    let v = evaluate(&by_level, &[file(SARIF.as_bytes())]);
    assert_eq!(v.status, GateStatus::Fail);
    assert_eq!(v.measurements[0].value, 1.0, "{v:?}");
    assert!(v.reasons[0].contains("src/db.rs:42"), "{:?}", v.reasons);
    let by_score = GateSettings::Sarif(SarifSettings {
        block_on: BlockOn {
            level: SarifLevel::Error,
            security_severity: Some(9.0),
        },
        ignore_rules: vec!["EX1001".into()],
    });
    let v = evaluate(&by_score, &[file(SARIF.as_bytes())]);
    assert_eq!(v.status, GateStatus::Fail);
    assert!(v.reasons[0].contains("EX3003/sub"), "{:?}", v.reasons);
    assert!(v.reasons[0].contains("critical"), "{:?}", v.reasons);
}

#[test]
fn sarif_unknown_level_is_a_clear_error() {
    let bad = br#"{"version":"2.1.0","runs":[{"results":[{"ruleId":"x","level":"fatal","message":{"text":"m"}}]}]}"#;
    let v = evaluate(&GateSettings::Sarif(SarifSettings::default()), &[file(bad)]);
    assert_eq!(v.status, GateStatus::Error);
    assert!(v.summary.contains("fatal"), "{}", v.summary);
}

#[test]
fn openvex_waives_only_with_the_newest_statement_for_the_product() {
    let artifact = crate::digest::Digest::of(b"artifact");
    let hex = artifact.to_hex();
    let vex = format!(
        r#"{{"@context":"https://openvex.dev/ns/v0.2.0","statements":[
        {{"vulnerability":{{"name":"EX1001"}},"products":[{{"@id":"pkg:oci/app@sha256%3A{hex}"}}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path","timestamp":"2026-11-20T10:00:00Z"}},
        {{"vulnerability":{{"name":"EX3003"}},"products":[{{"@id":"pkg:oci/app@sha256%3A{hex}"}}],"status":"not_affected","justification":"component_not_present","timestamp":"2026-11-20T10:00:00Z"}},
        {{"vulnerability":{{"name":"EX3003"}},"products":[{{"@id":"pkg:oci/app@sha256%3A{hex}"}}],"status":"affected","action_statement":"upgrade","timestamp":"2026-11-21T10:00:00Z"}}]}}"#
    );
    let statements = vex::parse(&file(vex.as_bytes())).unwrap();
    assert!(vex::waiver(&statements, "EX1001", &hex).is_some());
    assert!(
        vex::waiver(&statements, "EX3003", &hex).is_none(),
        "newer says affected"
    );
    assert!(vex::waiver(&statements, "EX1001", "other").is_none());
    let settings = GateSettings::Sarif(SarifSettings::default());
    let files = [file(SARIF.as_bytes()), file(vex.as_bytes())];
    let ctx = Context {
        artifact: Some(&artifact),
    };
    assert_eq!(
        evaluate_with(&settings, &files, ctx).status,
        GateStatus::Pass
    );
    assert_eq!(
        evaluate(&settings, &files).status,
        GateStatus::Fail,
        "no product, no waiver"
    );
}

const CYCLONEDX: &str = r#"{"bomFormat":"CycloneDX","specVersion":"1.7","version":1,
 "metadata":{"component":{"type":"application","name":"orders-api"}},
 "components":[
  {"type":"library","name":"serde","version":"1.0.200","purl":"pkg:cargo/serde@1.0.200","licenses":[{"expression":"MIT OR Apache-2.0"}]},
  {"type":"library","name":"ring","version":"0.17.8","purl":"pkg:cargo/ring@0.17.8","licenses":[{"license":{"id":"ISC"}},{"license":{"name":"OpenSSL-like custom"}}],
   "components":[{"type":"library","name":"inner","version":"1","purl":"pkg:cargo/inner@1","licenses":[{"license":{"name":"Custom"}}]}]},
  {"type":"library","name":"gpl-thing","version":"2","purl":"pkg:cargo/gpl-thing@2","licenses":[{"license":{"id":"GPL-3.0-only"}}]},
  {"type":"library","name":"slashy","version":"1","purl":"pkg:cargo/slashy@1","licenses":[{"expression":"MIT/Apache-2.0"}]}
 ]}"#;

fn sbom(settings: SbomSettings) -> GateSettings {
    GateSettings::Sbom(settings)
}

fn base_sbom() -> SbomSettings {
    SbomSettings {
        allow: vec!["MIT".into(), "Apache-2.0".into(), "ISC".into()],
        exceptions: vec![],
        clarify: vec![],
        unknown: UnknownLicense::Deny,
        bans: vec![],
        min_components: 1,
    }
}

#[test]
fn cyclonedx_components_flatten_and_license_forms_map_to_spdx() {
    let c = sbom::parse_cyclonedx(&file(CYCLONEDX.as_bytes())).unwrap();
    let names: Vec<&str> = c.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["serde", "ring", "inner", "gpl-thing", "slashy"]);
    assert_eq!(c[1].license.as_deref(), Some("ISC"));
    assert_eq!(c[2].license, None);
    assert_eq!(c[2].unknown_license.as_deref(), Some("Custom"));
}

#[test]
fn license_policy_denies_unknown_and_unlisted_then_exceptions_clarify_and_bans_apply() {
    let files = [file(CYCLONEDX.as_bytes())];
    let v = evaluate(&sbom(base_sbom()), &files);
    assert_eq!(v.status, GateStatus::Fail);
    assert!(v.summary.contains("1 denied"), "{}", v.summary);
    assert!(v.summary.contains("1 unknown"), "{}", v.summary);

    let mut s = base_sbom();
    s.exceptions = vec![LicenseException {
        purl: "pkg:cargo/gpl-thing".into(),
        allow: vec!["GPL-3.0-only".into()],
    }];
    s.clarify = vec![LicenseClarification {
        purl: "pkg:cargo/inner@1".into(),
        expression: "MIT".into(),
    }];
    let v = evaluate(&sbom(s.clone()), &files);
    assert_eq!(v.status, GateStatus::Pass, "{v:?}");

    s.bans = vec![Ban {
        purl: "pkg:cargo/serde".into(),
        reason: Some("use our fork".into()),
    }];
    let v = evaluate(&sbom(s.clone()), &files);
    assert_eq!(v.status, GateStatus::Fail);
    assert!(v.reasons[0].contains("use our fork"), "{:?}", v.reasons);

    let mut warn = base_sbom();
    warn.allow.push("GPL-3.0-only".into());
    warn.unknown = UnknownLicense::Warn;
    assert_eq!(evaluate(&sbom(warn), &files).status, GateStatus::Warn);
}

#[test]
fn license_with_exception_must_be_allowed_explicitly() {
    let doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.4","components":[{"name":"x","purl":"pkg:cargo/x@1","licenses":[{"expression":"Apache-2.0 WITH LLVM-exception"}]}]}"#;
    assert_eq!(
        evaluate(&sbom(base_sbom()), &[file(doc)]).status,
        GateStatus::Fail
    );
    let mut s = base_sbom();
    s.allow.push("Apache-2.0 WITH LLVM-exception".into());
    assert_eq!(evaluate(&sbom(s), &[file(doc)]).status, GateStatus::Pass);
}

#[test]
fn spdx_prefers_concluded_and_treats_noassertion_as_unknown() {
    let doc = br#"{"spdxVersion":"SPDX-2.3","packages":[
      {"name":"a","versionInfo":"1","licenseConcluded":"MIT","licenseDeclared":"GPL-3.0-only",
       "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/a@1"}]},
      {"name":"b","licenseConcluded":"NOASSERTION","licenseDeclared":"NOASSERTION"}]}"#;
    let c = sbom::parse_spdx(&file(doc)).unwrap();
    assert_eq!(c[0].license.as_deref(), Some("MIT"));
    assert_eq!(c[0].purl.as_deref(), Some("pkg:npm/a@1"));
    assert_eq!(c[1].license, None);
}

#[test]
fn perf_reads_k6_both_shapes_and_plain_metrics() {
    let handle = br#"{"metrics":{"http_req_duration":{"type":"trend","values":{"p(95)":240.7}}}}"#;
    let legacy = br#"{"metrics":{"http_req_duration":{"p(95)":640.7}}}"#;
    let settings = GateSettings::Perf(PerfSettings {
        metric: "http_req_duration.p(95)".into(),
        max: Some(500.0),
        max_regression_percent: None,
    });
    assert_eq!(
        evaluate(&settings, &[file(handle)]).status,
        GateStatus::Pass
    );
    assert_eq!(
        evaluate(&settings, &[file(legacy)]).status,
        GateStatus::Fail
    );
    let missing = br#"{"metrics":{"other":1}}"#;
    let v = evaluate(&settings, &[file(missing)]);
    assert_eq!(v.status, GateStatus::Error);
    assert!(v.summary.contains("it has: other"), "{}", v.summary);
}

#[test]
fn detection_errors_name_the_problem() {
    let deep = vec![b'['; 100_000];
    let cases: [(&[u8], &str); 7] = [
        (b"", "empty"),
        (b"\xff\xfe<x/>", "not UTF-8"),
        (b"hello", "neither a JSON object or array nor XML"),
        (b"[1, 2]", "not an RFC 6902 JSON Patch"),
        (&deep, "not an RFC 6902 JSON Patch"),
        (br#"{"a":1}"#, "unknown evidence format"),
        (br#"{"runs": [}"#, "not valid JSON"),
    ];
    for (bytes, expected) in cases {
        let e = detect(&file(bytes)).unwrap_err().to_string();
        assert!(e.contains(expected), "{e}");
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let open = "[".repeat(100_000);
    let close = "]".repeat(100_000);
    let deep = format!(r#"{{"runs":{open}{close}}}"#);
    let v = evaluate(
        &GateSettings::Sarif(SarifSettings::default()),
        &[file(deep.as_bytes())],
    );
    assert_eq!(v.status, GateStatus::Error);
    let deep = format!(r#"{{"metrics":{{"x":{open}{close}}}}}"#);
    let perf = GateSettings::Perf(PerfSettings {
        metric: "x".into(),
        max: None,
        max_regression_percent: None,
    });
    let v = evaluate(&perf, &[file(deep.as_bytes())]);
    assert_eq!(v.status, GateStatus::Error);
    assert!(v.summary.contains("recursion limit"), "{}", v.summary);
    let xml = format!(
        "<testsuite>{}{}</testsuite>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let v = evaluate(&junit_settings(1), &[file(xml.as_bytes())]);
    assert_eq!(v.status, GateStatus::Fail, "streamed, no recursion: {v:?}");
}

#[test]
fn oversized_evidence_is_refused_with_the_limit() {
    let big = vec![b' '; MAX_EVIDENCE_BYTES + 1];
    let e = detect(&file(&big)).unwrap_err().to_string();
    assert!(e.contains("limited to"), "{e}");
}

#[test]
fn manual_needs_a_stated_status_and_drift_never_passes_empty() {
    let v = evaluate(
        &GateSettings::Manual(crate::policy::gates::ManualSettings {}),
        &[],
    );
    assert_eq!(v.status, GateStatus::Error);
    assert!(v.summary.contains("--status"));
    let v = evaluate(
        &GateSettings::Drift(crate::policy::gates::DriftSettings::default()),
        &[],
    );
    assert_eq!(v.status, GateStatus::Fail);
    assert!(
        v.summary.contains("no environment snapshots"),
        "{}",
        v.summary
    );
    assert!(v.reasons[0].contains("tollgate snapshot submit"));
}

#[test]
fn a_gate_without_evidence_is_an_error_not_a_pass() {
    let v = evaluate(&junit_settings(0), &[]);
    assert_eq!(v.status, GateStatus::Error);
}
