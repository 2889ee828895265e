//! `tollgate gate eval` as CI runs it: the real binary, the example policy
//! and evidence files produced by real tools (tests/fixtures/evidence,
//! SOURCES.md says which), plus hostile input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ARTIFACT: &str = "sha256:639a7ff22beed47195c4236f50ea008474966e784364fa9f72917754d0d7052d";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/evidence")
        .join(name)
}

fn example_policy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/policy/example.toml")
}

fn eval(policy: &Path, gate: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["gate", "eval", "--gate", gate, "--policy"])
        .arg(policy)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn expect(out: &Output, code: i32, needle: &str) {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "{all}");
    assert!(all.contains(needle), "expected {needle:?} in:\n{all}");
    assert!(
        !text(&out.stderr).contains("thread 'main' panicked"),
        "{all}"
    );
}

#[test]
fn example_policy_gates_judge_real_tool_output_as_a_reader_would() {
    let policy = example_policy();
    let p = |n: &str| fixture(n).display().to_string();
    let cases: Vec<(&str, Vec<String>, i32, &str)> = vec![
        (
            "unit-tests",
            vec![p("pytest-pass.xml")],
            0,
            "PASS — 3 tests: 3 passed",
        ),
        (
            "unit-tests",
            vec![p("pytest-fail.xml")],
            1,
            "test_orders::test_total_discount",
        ),
        ("unit-tests", vec![p("nextest-pass.xml")], 0, "PASS"),
        (
            "unit-tests",
            vec![p("nextest-fail.xml")],
            1,
            "nx::tests::rejects_out_of_range",
        ),
        (
            "unit-tests",
            vec![p("pytest-pass.xml"), p("nextest-pass.xml")],
            0,
            "6 tests",
        ),
        ("sast", vec![p("ruff-clean.sarif")], 0, "PASS"),
        ("sast", vec![p("ruff-findings.sarif")], 1, "error S602 at"),
        (
            "licenses",
            vec![p("cyclonedx-py.cdx.json")],
            1,
            "pkg:pypi/certifi",
        ),
        (
            "licenses",
            vec![p("spdx-tools.spdx.json")],
            1,
            "GPL-3.0-only",
        ),
        (
            "provenance",
            vec![
                p("provenance-good.dsse.json"),
                "--artifact".into(),
                ARTIFACT.into(),
            ],
            0,
            "signed provenance from builder",
        ),
        (
            "provenance",
            vec![
                p("provenance-wrong-subject.dsse.json"),
                "--artifact".into(),
                ARTIFACT.into(),
            ],
            1,
            "no subject has sha256",
        ),
        (
            "provenance",
            vec![
                p("provenance-wrong-ref.dsse.json"),
                "--artifact".into(),
                ARTIFACT.into(),
            ],
            1,
            "not in the gate's `builders` allow-list",
        ),
        (
            "provenance",
            vec![
                p("provenance-untrusted-key.dsse.json"),
                "--artifact".into(),
                ARTIFACT.into(),
            ],
            1,
            "no signature verifies",
        ),
        (
            "perf-budget",
            vec![p("metrics-ok.json")],
            0,
            "within budget",
        ),
        (
            "perf-budget",
            vec![p("metrics-regressed.json")],
            1,
            "regressed 11.0%",
        ),
        (
            "unit-tests",
            vec![p("ruff-clean.sarif")],
            2,
            "a `junit` gate reads JUnit XML",
        ),
        ("drift", vec![], 1, "no environment snapshots"),
    ];
    for (gate, args, code, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = eval(&policy, gate, &args);
        expect(&out, code, needle);
    }
}

#[test]
fn sarif_findings_are_waived_by_openvex_for_the_promoted_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let doc = std::fs::read_to_string(example_policy()).unwrap().replace(
        "block_on = { level = \"error\", security_severity = 7.0 }",
        "block_on = { level = \"error\" }\nignore_rules = [\"E401\", \"F401\", \"F841\", \"S105\", \"E711\", \"F821\"]",
    );
    std::fs::write(&policy, doc).unwrap();
    let sarif = fixture("ruff-findings.sarif");
    let vex = fixture("openvex-waive-s602.vex.json");
    let sarif = sarif.to_str().unwrap();
    let vex = vex.to_str().unwrap();
    expect(&eval(&policy, "sast", &[sarif]), 1, "S602");
    expect(
        &eval(&policy, "sast", &[sarif, vex, "--artifact", ARTIFACT]),
        0,
        "1 suppressed or waived",
    );
}

#[test]
fn licence_exceptions_and_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let doc = std::fs::read_to_string(example_policy()).unwrap().replace(
        "# exceptions = [{ purl = \"pkg:pypi/certifi\", allow = [\"MPL-2.0\"] }]",
        "exceptions = [{ purl = \"pkg:pypi/certifi\", allow = [\"MPL-2.0\"] }]",
    );
    std::fs::write(&policy, doc).unwrap();
    let sbom = fixture("cyclonedx-py.cdx.json");
    let out = eval(&policy, "licenses", &["--json", sbom.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "pass");
    assert_eq!(v["evaluator"], tollgate::evidence::EVALUATOR_VERSION);
    assert_eq!(v["inputs"][0]["format"], "cyclonedx");
    assert!(
        v["measurements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "components" && m["value"] == 8.0)
    );
}

#[test]
fn status_is_accepted_only_for_manual_gates() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let doc = std::fs::read_to_string(example_policy()).unwrap()
        + "\n[gates.signoff]\nkind = \"manual\"\nremediation = \"Ask QA.\"\n";
    std::fs::write(&policy, doc).unwrap();
    let junit = fixture("pytest-fail.xml");
    let out = eval(
        &policy,
        "unit-tests",
        &["--status", "pass", junit.to_str().unwrap()],
    );
    expect(&out, 2, "--status is refused");
    expect(
        &eval(&policy, "signoff", &["--status", "pass"]),
        0,
        "stated by a person",
    );
    expect(
        &eval(&policy, "signoff", &["--status", "fail"]),
        1,
        "Ask QA.",
    );
    expect(
        &eval(&policy, "signoff", &[]),
        2,
        "--status pass|fail|warn|error",
    );
}

#[test]
fn hostile_input_gives_a_clear_error_and_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let policy = example_policy();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let laughs = write(
        "laughs.xml",
        br#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<testsuite><testcase name="a">&lol9;</testcase></testsuite>"#,
    );
    let malformed_xml = write("bad.xml", b"<testsuite><testcase name=\"a\"></testsuite>");
    let malformed_json = write("bad.sarif", b"{\"version\": \"2.1.0\", \"runs\": [");
    let not_utf8 = write(
        "latin1.xml",
        b"<testsuite><testcase name=\"caf\xe9\"/></testsuite>",
    );
    let deep = write(
        "deep.json",
        format!(
            "{{\"metrics\":{{\"p99_latency_ms\":{}{}}}}}",
            "[".repeat(50_000),
            "]".repeat(50_000)
        )
        .as_bytes(),
    );
    let huge = dir.path().join("huge.sarif");
    // 100 MB without writing 100 MB: the size check runs before reading.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
    let missing = dir.path().join("missing.xml");

    let cases: [(&str, &Path, &str); 7] = [
        ("unit-tests", &laughs, "entity declarations are refused"),
        ("unit-tests", &malformed_xml, "not valid JUnit XML"),
        ("sast", &malformed_json, "not valid JSON"),
        ("unit-tests", &not_utf8, "not UTF-8"),
        ("perf-budget", &deep, "recursion limit"),
        ("sast", &huge, "limited to"),
        ("unit-tests", &missing, "cannot read evidence file"),
    ];
    for (gate, path, needle) in cases {
        expect(&eval(&policy, gate, &[path.to_str().unwrap()]), 2, needle);
    }
    expect(&eval(&policy, "no-such-gate", &[]), 2, "its gates are");
}

/// A dev promotion of payments at `version`, requested by CI; its id.
fn request_dev(s: &crate::common::served::Served, version: &str) -> String {
    crate::common::served::Served::entry_id(&s.expect(
        0,
        "ci-main",
        &[
            "promote",
            "request",
            "--service",
            "payments",
            "--version",
            version,
            "--digest",
            &payments_artifact().to_string(),
            "--to",
            "dev",
            "--repo",
            "git@example.com:payments.git",
            "--commit",
            "4f2a9c1",
        ],
    ))
}

fn payments_artifact() -> tollgate::digest::Digest {
    tollgate::digest::Digest::of(b"payments-1.0.0")
}

/// The CI key signs `status` for gate unit-tests of `promotion` by hand,
/// bypassing the CLI's evaluation: `upload` is stored first (when given),
/// and the result cites `cited`.
fn forge_gate_result(
    s: &crate::common::served::Served,
    world: &crate::common::World,
    promotion: &str,
    status: tollgate::statement::GateStatus,
    upload: Option<&[u8]>,
    cited: &[u8],
) {
    use std::sync::Arc;
    use tollgate::statement::{EvidenceRef, GateResult, Predicate, Statement};

    let config_file = s.dir.path().join("people/ci-main/config/config.toml");
    let config = tollgate::client::config::load(Some(&config_file)).unwrap();
    let signer = tollgate::keys::Signer::from_signing_key(
        "ci-main",
        world.signers["ci-main"].signing_key().clone(),
    )
    .unwrap();
    let client = tollgate::client::http::StoreClient::new(&config, Arc::new(signer)).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(bytes) = upload {
        runtime
            .block_on(client.put_evidence(bytes.to_vec(), "application/junit+xml"))
            .unwrap();
    }
    let statement = Statement::about(
        "payments",
        payments_artifact(),
        Predicate::GateResult(GateResult {
            promotion: promotion.parse().unwrap(),
            gate: "unit-tests".into(),
            status,
            summary: "all green, trust me".into(),
            measurements: Vec::new(),
            evidence: vec![EvidenceRef {
                kind: "unit-tests".into(),
                media_type: "application/junit+xml".into(),
                digest: tollgate::digest::Digest::of(cited),
            }],
            remediation: None,
            produced_at: time::OffsetDateTime::now_utc(),
            evaluator: None,
        }),
    );
    runtime
        .block_on(client.submit(world.sign("ci-main", &statement).to_json()))
        .unwrap();
}

/// A gate result signed by hand (an old or dishonest CI) whose evidence says
/// otherwise is reported by `gate recheck`; an honest one agrees.
#[test]
fn recheck_reports_a_gate_result_its_own_evidence_contradicts() {
    use crate::common::World;
    use crate::common::served::{Db, Served};
    use tollgate::statement::GateStatus;

    let world = World::new();
    let s = Served::start(&world, Db::Sqlite);
    let failing = fixture("pytest-fail.xml");
    let failing = failing.to_str().unwrap();

    let honest = request_dev(&s, "1.0.0");
    s.expect(
        0,
        "ci-main",
        &["gate", "submit", &honest, "--gate", "unit-tests", failing],
    );
    expect(
        &s.run("ci-main", &["gate", "recheck", &honest]),
        0,
        "gate unit-tests: agrees (Fail",
    );

    // Upload the failing report, then sign `pass` for it by hand.
    let forged = request_dev(&s, "1.0.1");
    let bytes = std::fs::read(failing).unwrap();
    forge_gate_result(&s, &world, &forged, GateStatus::Pass, Some(&bytes), &bytes);
    let out = s.run(
        "ci-main",
        &["gate", "recheck", &forged, "--gate", "unit-tests"],
    );
    expect(&out, 1, "gate unit-tests: DISPUTED");
    expect(&out, 1, "computes Fail");
}

/// Issue 9 §3: a CI key signs `pass` for a failing JUnit report, bypassing
/// the CLI's evaluation. Every other client's `status` re-judges the
/// evidence from the store: the gate is disputed, the promotion blocked
/// (exit 1), and the lie is an audit finding naming the CI key. Evidence
/// the store does not hold is its own blocker, never an ALARM.
fn a_lying_ci_key_is_caught_by_every_client(db: crate::common::served::Db) {
    use crate::common::World;
    use crate::common::served::Served;
    use tollgate::statement::GateStatus;

    let world = World::new();
    let s = Served::start(&world, db);
    let failing = std::fs::read(fixture("pytest-fail.xml")).unwrap();
    let forged = request_dev(&s, "2.0.0");
    forge_gate_result(
        &s,
        &world,
        &forged,
        GateStatus::Pass,
        Some(&failing),
        &failing,
    );

    for persona in ["alice", "bob"] {
        let out = s.run(persona, &["status", &forged]);
        expect(
            &out,
            1,
            "gate unit-tests is disputed: ci-main signed `pass`",
        );
        expect(&out, 1, "gives `fail`");
        expect(&out, 1, "[waiting]");
        expect(&out, 1, "audit finding: disputed gate result");
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains("ALARM"), "{all}");
    }
    // Fetched once into the client's evidence cache, digest-named.
    let cached = s
        .path()
        .join("people/alice/cache/evidence")
        .join(tollgate::digest::Digest::of(&failing).to_hex());
    assert_eq!(std::fs::read(&cached).unwrap(), failing);

    // Every listing shows the finding; --json names the signer.
    let json = s.expect(0, "alice", &["status", "--json"]);
    let value: serde_json::Value =
        serde_json::from_str(&json[..=json.rfind('}').unwrap()]).unwrap();
    let findings = value["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["kind"] == "disputed gate result"
            && f["signer"] == "ci-main"
            && f["stated"] == "pass"
            && f["computed"] == "fail"),
        "{value:#}"
    );
    let verify = s.expect(0, "alice", &["log", "verify"]);
    assert!(verify.contains("audit findings: 1"), "{verify}");
    assert!(verify.contains("disputed gate result"), "{verify}");

    // A gate result citing evidence the store never received.
    let phantom = request_dev(&s, "2.0.1");
    let passing = std::fs::read(fixture("pytest-pass.xml")).unwrap();
    let mut never_uploaded = passing.clone();
    never_uploaded.extend_from_slice(b"\n<!-- not in the store -->\n");
    forge_gate_result(
        &s,
        &world,
        &phantom,
        GateStatus::Pass,
        None,
        &never_uploaded,
    );
    let out = s.run("alice", &["status", &phantom]);
    expect(&out, 1, "holds no evidence");
    expect(&out, 1, "tollgate gate submit");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains("ALARM"), "{all}");

    // An honest CI run of the same gate is confirmed and counts.
    let honest = request_dev(&s, "2.0.2");
    s.pass_gate(&honest, "unit-tests");
    s.expect(0, "alice", &["status", &honest]);

    // With the store down, the verified cache and the evidence cache still
    // judge: the lie stays disputed offline.
    let mut s = s;
    s.stop();
    let out = s.run("alice", &["status", &forged]);
    expect(
        &out,
        1,
        "gate unit-tests is disputed: ci-main signed `pass`",
    );
}

#[test]
fn a_lying_ci_key_is_caught_by_every_client_on_sqlite() {
    a_lying_ci_key_is_caught_by_every_client(crate::common::served::Db::Sqlite);
}

#[test]
fn a_lying_ci_key_is_caught_by_every_client_on_postgres() {
    if let Some(db) = crate::common::served::Db::postgres() {
        a_lying_ci_key_is_caught_by_every_client(db);
    }
}
