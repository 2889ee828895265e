//! The cockpit's Evidence tab at 120×40 (insta snapshots, ids filtered), one
//! per kind of evidence: the documents behind each gate, with their digest
//! and signature status, the rows a person reads (failing tests, findings,
//! licences, provenance, budgets), and the raw JSON folded and unfolded.
//!
//! The JUnit case goes the production way: the blob sits in a client's
//! evidence cache, `Rejudger` re-judges offline from it, and the models are
//! built from what it read. The other kinds put a model built from a real
//! tool's output, under the example policy's gate settings, behind the
//! same gate result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossterm::event::KeyCode;
use tollgate::client::evidence::{BlobCache, Blobs, Rejudger};
use tollgate::digest::Digest;
use tollgate::policy::Policy;
use tollgate::statement::GateStatus;
use tollgate::tui::app::DetailTab;
use tollgate::tui::evidence::{GateEvidence, document};

use crate::common::{Cockpit, World};
use crate::tui::{key, select_promotion, snapshot};

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/evidence")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

fn example_policy() -> Policy {
    tollgate::policy::check_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/policy/example.toml"),
    )
    .unwrap()
}

/// A dev promotion whose unit-tests result CI signed `pass` for a failing
/// pytest report; the cockpit re-judged it from its evidence cache.
struct Pane {
    app: Cockpit,
    promotion: Digest,
    result: Digest,
    _cache: tempfile::TempDir,
}

fn pane() -> Pane {
    let mut world = World::new();
    let promotion = world.request("ci-main", "app", Digest::of(b"app 7"), None, "dev");
    let failing = fixture("pytest-fail.xml");
    let statement = world.gate_result(promotion, "unit-tests", GateStatus::Pass, &[&failing]);
    let result = world.submit("ci-main", &statement);

    let cache = tempfile::tempdir().unwrap();
    let blobs = BlobCache::new(cache.path());
    blobs.keep(&Digest::of(&failing), &failing);
    let mut log = world.verified_log();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let read: Blobs = runtime.block_on(Rejudger::new(blobs).rejudge(None, &mut log));

    let mut app = Cockpit::with_evidence(log, read, "alice", false, false, world.clock);
    select_promotion(&mut app, promotion);
    while app.tab != DetailTab::Evidence {
        key(&mut app, KeyCode::Char('l'));
    }
    Pane {
        app,
        promotion,
        result,
        _cache: cache,
    }
}

/// Puts the model of `file` (judged under the example policy's `gate`)
/// behind the pane's gate result.
fn show(p: &mut Pane, gate: &str, file: &str, artifact: Digest) {
    let policy = example_policy();
    let settings = policy.gate(gate).unwrap().typed_settings().unwrap();
    let bytes = fixture(file);
    let model = GateEvidence {
        gate: gate.to_owned(),
        entry: p.result,
        signer: "ci-main".into(),
        stated: GateStatus::Pass,
        rejudged: Some(tollgate::state::Rejudgement::Agrees),
        documents: vec![document(
            Digest::of(&bytes),
            &bytes,
            Some(&settings),
            &artifact,
        )],
    };
    let detail = p.app.detail.as_mut().unwrap();
    detail.evidence.insert(p.result, Arc::new(model));
}

#[test]
fn a_disputed_junit_gate_shows_its_failing_tests_and_the_dispute() {
    let p = pane();
    let promotion = p.app.selected_promotion().unwrap();
    assert_eq!(promotion.id, p.promotion);
    assert_eq!(
        promotion.status,
        tollgate::state::PromotionStatus::Waiting,
        "the cockpit's judgement counts the dispute"
    );
    let disputed = promotion
        .gates
        .values()
        .filter(|g| {
            matches!(
                g.rejudged,
                Some(tollgate::state::Rejudgement::Disputed { .. })
            )
        })
        .count();
    assert_eq!(disputed, 1);
    snapshot("evidence_junit_disputed", &p.app);
    let mut p = p;
    while p.app.tab != DetailTab::Gates {
        key(&mut p.app, KeyCode::Char('l'));
    }
    snapshot("gates_disputed", &p.app);
}

#[test]
fn findings_show_severity_rule_location_message_and_suppression() {
    let mut p = pane();
    show(&mut p, "sast", "ruff-findings.sarif", Digest::of(b"app 7"));
    snapshot("evidence_sarif", &p.app);
}

#[test]
fn licences_show_the_verdict_and_the_failing_clause() {
    let mut p = pane();
    show(
        &mut p,
        "licenses",
        "cyclonedx-py.cdx.json",
        Digest::of(b"app 7"),
    );
    snapshot("evidence_sbom_cyclonedx", &p.app);
    show(
        &mut p,
        "licenses",
        "spdx-tools.spdx.json",
        Digest::of(b"app 7"),
    );
    snapshot("evidence_sbom_spdx", &p.app);
}

#[test]
fn provenance_shows_builder_source_and_signature_status() {
    let mut p = pane();
    let artifact = Digest::of(&fixture("provenance-artifact.bin"));
    show(&mut p, "provenance", "provenance-good.dsse.json", artifact);
    snapshot("evidence_provenance", &p.app);
    show(
        &mut p,
        "provenance",
        "provenance-untrusted-key.dsse.json",
        artifact,
    );
    snapshot("evidence_provenance_untrusted", &p.app);
}

#[test]
fn perf_shows_the_budget_table() {
    let mut p = pane();
    show(
        &mut p,
        "perf-budget",
        "metrics-regressed.json",
        Digest::of(b"app 7"),
    );
    snapshot("evidence_perf", &p.app);
}

#[test]
fn the_raw_json_folds_and_unfolds_with_a_key() {
    let mut p = pane();
    show(
        &mut p,
        "perf-budget",
        "metrics-ok.json",
        Digest::of(b"app 7"),
    );
    assert!(!p.app.evidence.unfolded);
    key(&mut p.app, KeyCode::Char('z'));
    assert!(p.app.evidence.unfolded);
    snapshot("evidence_raw_unfolded", &p.app);
    key(&mut p.app, KeyCode::Char('z'));
    assert!(!p.app.evidence.unfolded);
}

#[test]
fn a_suppressed_finding_keeps_its_justification_and_raw_json_folds_by_depth() {
    use tollgate::tui::evidence::Detail;
    let sarif = br#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "scan",
      "rules": [{"id": "R1", "defaultConfiguration": {"level": "error"}}]}},
      "results": [{"ruleId": "R1", "message": {"text": "Variable 'tmp' is never read."},
        "suppressions": [{"kind": "inSource", "justification": "kept for debugging"}],
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/a.rs"},
          "region": {"startLine": 3}}}]}]}]}"#;
    let d = document(Digest::of(sarif), sarif, None, &Digest::of(b"app"));
    let Detail::Findings { rows, more } = &d.detail else {
        panic!("{:?}", d.detail);
    };
    assert_eq!(*more, 0);
    assert_eq!(rows[0].rule, "R1");
    assert_eq!(rows[0].severity, "error");
    assert_eq!(rows[0].location, "src/a.rs:3");
    assert!(
        rows[0]
            .suppression
            .as_deref()
            .is_some_and(|s| s.contains("kept for debugging")),
        "{rows:?}"
    );
    assert_eq!(
        d.raw_folded,
        [
            "{",
            "  \"runs\": […1 item],",
            "  \"version\": \"2.1.0\"",
            "}"
        ]
    );
    assert!(d.raw_open.len() > d.raw_folded.len());
    assert!(
        d.raw_open
            .contains(&"                  \"startLine\": 3".to_owned()),
        "{:#?}",
        d.raw_open
    );
}

#[test]
fn raw_json_views_stay_bounded_and_unknown_bytes_say_why() {
    use tollgate::tui::evidence::{Detail, MAX_RAW_LINES};
    let big = format!("[{}]", vec!["1"; 100_000].join(","));
    let d = document(
        Digest::of(big.as_bytes()),
        big.as_bytes(),
        None,
        &Digest::of(b"app"),
    );
    assert_eq!(d.raw_open.len(), MAX_RAW_LINES + 1);
    assert_eq!(d.raw_folded.len(), MAX_RAW_LINES + 1);
    assert!(d.raw_open.last().unwrap().starts_with("… "), "{d:?}");
    assert!(
        matches!(&d.detail, Detail::Unreadable(why) if why.contains("unknown evidence format")),
        "{:?}",
        d.detail
    );

    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let d = document(
        Digest::of(deep.as_bytes()),
        deep.as_bytes(),
        None,
        &Digest::of(b"app"),
    );
    assert!(d.raw_open.is_empty() && d.raw_folded.is_empty());
    assert!(matches!(d.detail, Detail::Unreadable(_)));
}
