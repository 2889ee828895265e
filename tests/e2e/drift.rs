//! Drift end to end: CI captures staging and prod from real configuration
//! files (YAML, .env, JSON flags, a CycloneDX SBOM, a Kubernetes Secret)
//! with `tollgate snapshot submit`, `snapshot diff` shows exactly what
//! moved, the drift gate judges the snapshots from the verified log and
//! `gate recheck` re-judges them. No secret value reaches any output, the
//! signed statements, the store's database or the client's files. Hostile
//! inputs are clear errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;

use common::World;
use common::served::{Db, Served};
use tollgate::digest::Digest;

/// The prod database password after rotation, and the one before.
const ROTATED: &str = "pr0d-rotated-Zq81-password";
const OLD: &str = "st4ging-old-Kx27-password";
const TOKEN: &str = "shared-api-token-Vb55";

fn digest(name: &str) -> String {
    Digest::of(name.as_bytes()).to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn sbom(tokio: &str) -> String {
    format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
            {{"name":"tokio","version":"{tokio}","purl":"pkg:cargo/tokio@{tokio}"}},
            {{"name":"serde","version":"1.0.200","purl":"pkg:cargo/serde@1.0.200"}}]}}"#
    )
}

/// Configuration files of one environment; `env` lists keyed entries in a
/// different order per environment (a reorder is not drift).
struct Inputs {
    config: PathBuf,
    flags: PathBuf,
    secrets: PathBuf,
    kube_secret: PathBuf,
    sbom: PathBuf,
}

fn inputs(
    dir: &Path,
    env: &str,
    replicas: u32,
    checkout: bool,
    password: &str,
    tokio: &str,
) -> Inputs {
    let env_list = if env == "staging" {
        "  - name: REGION\n    value: eu-1\n  - name: LOG_FORMAT\n    value: json\n"
    } else {
        "  - name: LOG_FORMAT\n    value: json\n  - name: REGION\n    value: eu-1\n"
    };
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    Inputs {
        config: write(
            dir,
            &format!("{env}.yaml"),
            &format!("replicas: {replicas}\nlog_level: info\nenv:\n{env_list}"),
        ),
        flags: write(
            dir,
            &format!("{env}-flags.json"),
            &format!(r#"{{"new_checkout": {checkout}, "dark_mode": false}}"#),
        ),
        secrets: write(
            dir,
            &format!("{env}-secrets.env"),
            &format!("API_TOKEN={TOKEN}\n"),
        ),
        kube_secret: write(
            dir,
            &format!("{env}-secret.json"),
            &format!(
                r#"{{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"db"}},"type":"Opaque","data":{{"DB_PASSWORD":"{}"}}}}"#,
                b64(password)
            ),
        ),
        sbom: write(dir, &format!("{env}-sbom.cdx.json"), &sbom(tokio)),
    }
}

fn submit_args<'a>(env: &'a str, artifact: &'a str, i: &'a Inputs, key: &'a Path) -> Vec<&'a str> {
    vec![
        "snapshot",
        "submit",
        "--env",
        env,
        "--service",
        "payments",
        "--artifact",
        artifact,
        "--flags",
        i.flags.to_str().unwrap(),
        "--secrets",
        i.secrets.to_str().unwrap(),
        "--sbom",
        i.sbom.to_str().unwrap(),
        "--hmac-key",
        key.to_str().unwrap(),
        i.config.to_str().unwrap(),
        i.kube_secret.to_str().unwrap(),
    ]
}

/// `tollgate snapshot diff` of payments from staging to prod, with `extra`.
fn diff_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let base = [
        "snapshot",
        "diff",
        "--service",
        "payments",
        "--from",
        "staging",
        "--to",
        "prod",
    ];
    [&base[..], extra].concat()
}

/// Requests `artifact` of payments into `to`; returns the promotion id.
fn request(s: &Served, artifact: &str, from: Option<&str>, to: &str) -> String {
    let d = digest(artifact);
    let mut args = vec![
        "promote",
        "request",
        "--service",
        "payments",
        "--version",
        "1.0",
        "--digest",
        &d,
        "--to",
        to,
    ];
    if let Some(from) = from {
        args.extend(["--from", from]);
    }
    Served::entry_id(&s.expect(0, "ci-main", &args))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The secret as it would appear in plain text or base64-encoded at any
/// alignment (DSSE envelopes carry payloads in base64).
fn forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    let mut out = vec![secret.to_owned()];
    for pad in ["", "x", "xx"] {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{pad}{secret}"));
        out.push(encoded[4..encoded.len() - 4].to_owned());
    }
    out
}

#[test]
fn a_rotated_secret_a_flipped_flag_and_a_moved_dependency_are_exactly_three_rows_and_no_secret_is_kept()
 {
    let world = World::with_drift_gate(&["/config/replicas"]);
    let s = Served::start(&world, Db::Sqlite);
    let dir = s.path().join("capture");
    std::fs::create_dir_all(&dir).unwrap();
    let key = write(
        &dir,
        "hmac.key",
        "c29tZS1yYW5kb20tY29sbGVjdG9yLWtleS0zMmJ5dGVz\n",
    );
    let mut outputs = String::new();

    // payments 1.0 runs in staging; its promotion to prod is requested.
    let dev = request(&s, "payments-1.0", None, "dev");
    s.pass_gate(&dev, "unit-tests");
    s.expect(0, "ci-main", &["deployed", &dev, "--status", "succeeded"]);
    let staging = request(&s, "payments-1.0", Some("dev"), "staging");
    s.pass_gate(&staging, "unit-tests");
    s.expect(
        0,
        "alice",
        &[
            "approve",
            &staging,
            "--role",
            "release-manager",
            "--rationale",
            "ok",
        ],
    );
    s.expect(
        0,
        "ci-main",
        &["deployed", &staging, "--status", "succeeded"],
    );
    let prod = request(&s, "payments-1.0", Some("staging"), "prod");

    // No snapshots: the drift gate fails and says what to capture.
    let empty = s.expect(0, "ci-main", &["gate", "submit", &prod, "--gate", "drift"]);
    assert!(
        empty.contains("gate drift: FAIL — no environment snapshots"),
        "{empty}"
    );
    assert!(
        empty.contains("no snapshot of payments in staging"),
        "{empty}"
    );
    assert!(empty.contains("tollgate snapshot submit"), "{empty}");
    let status = s.expect(1, "alice", &["status", &prod]);
    assert!(status.contains("drift"), "{status}");
    outputs.push_str(&empty);

    // staging: as it runs now (the artifact comes from the verified log).
    let st = inputs(&dir, "staging", 2, false, OLD, "1.38.1");
    let mut args = submit_args("staging", "", &st, &key);
    args.drain(6..8); // no --artifact: what runs in staging
    outputs.push_str(&s.expect(0, "ci-main", &args));
    // prod: the password rotated, the flag flipped, tokio moved, and more
    // replicas (which the gate ignores); the keyed list is reordered.
    let old_prod = digest("payments-0.9");
    let pr = inputs(&dir, "prod", 4, true, ROTATED, "1.40.0");
    let dry = s.expect(
        0,
        "ci-main",
        &[submit_args("prod", &old_prod, &pr, &key), vec!["--dry-run"]].concat(),
    );
    assert!(dry.contains("\"DB_PASSWORD\":\"hmac-sha256:"), "{dry}");
    outputs.push_str(&dry);
    outputs.push_str(&s.expect(0, "ci-main", &submit_args("prod", &old_prod, &pr, &key)));

    // The diff, as a table: exactly the three rows (replicas left out).
    let diff = s.expect(0, "alice", &diff_args(&["--ignore", "/config/replicas"]));
    let rows: Vec<&str> = diff
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(diff.lines().next().unwrap().starts_with("path"), "{diff}");
    assert_eq!(rows.len(), 3, "{diff}");
    assert!(
        rows[0].starts_with("/dependencies/pkg:cargo~1tokio")
            && rows[0].contains("1.38.1")
            && rows[0].contains("1.40.0")
            && rows[0].ends_with("changed"),
        "{diff}"
    );
    assert!(
        rows[1].starts_with("/flags/new_checkout")
            && rows[1].contains("false")
            && rows[1].contains("true"),
        "{diff}"
    );
    assert!(
        rows[2].starts_with("/secrets/DB_PASSWORD") && rows[2].contains("hmac:"),
        "{diff}"
    );
    outputs.push_str(&diff);
    // JSON: the same rows and the RFC 6902 patch to store.
    let json = s.expect(0, "alice", &diff_args(&["--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 4, "{json}");
    assert_eq!(v["patch"].as_array().unwrap().len(), 4, "{json}");
    assert_eq!(v["patch"][0]["op"], "replace");
    outputs.push_str(&json);
    let text = s.expect(0, "alice", &diff_args(&["--text"]));
    assert!(
        text.contains("--- staging") && text.contains("+++ prod"),
        "{text}"
    );
    assert!(
        text.contains("-    \"new_checkout\": false")
            && text.contains("+    \"new_checkout\": true"),
        "{text}"
    );
    outputs.push_str(&text);

    // The gate binds both snapshots from the verified log and fails on the
    // three drifted paths; replicas are ignored by the policy.
    let gate = s.expect(0, "ci-main", &["gate", "submit", &prod, "--gate", "drift"]);
    assert!(gate.contains("FAIL — 3 path(s) of payments differ between staging and prod, ignoring /config/replicas"), "{gate}");
    assert!(
        gate.contains("changed /secrets/DB_PASSWORD: hmac:"),
        "{gate}"
    );
    assert!(
        gate.contains("snapshot of payments in staging (entry"),
        "{gate}"
    );
    assert!(
        gate.contains("remediation: Reconcile prod with staging"),
        "{gate}"
    );
    outputs.push_str(&gate);
    // Every reviewer re-judges the same content-addressed snapshots.
    let recheck = s.expect(0, "alice", &["gate", "recheck", &prod, "--gate", "drift"]);
    assert!(recheck.contains("gate drift: agrees (Fail"), "{recheck}");
    outputs.push_str(&recheck);

    // No secret value anywhere: outputs, the store's files (SQLite database
    // and WAL), every client's files (outbox, cache, receipts).
    for secret in [ROTATED, OLD, TOKEN] {
        assert!(!outputs.contains(secret), "{secret} printed:\n{outputs}");
    }
    let mut files = Vec::new();
    files_under(s.path(), &mut files);
    let mut databases = 0;
    for file in files {
        if file.starts_with(&dir) {
            continue; // the inputs themselves
        }
        let bytes = std::fs::read(&file).unwrap();
        if file
            .extension()
            .is_some_and(|e| e == "db" || e == "sqlite" || e == "db-wal")
            || contains(&bytes, "SQLite format 3")
        {
            databases += 1;
        }
        for secret in [ROTATED, OLD, TOKEN] {
            for form in forms(secret) {
                assert!(
                    !contains(&bytes, &form),
                    "{secret} ({form}) found in {}",
                    file.display()
                );
            }
        }
    }
    assert!(
        databases > 0,
        "no SQLite database found under {}",
        s.path().display()
    );
}

fn capture(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args([
            "snapshot",
            "submit",
            "--env",
            "prod",
            "--service",
            "payments",
            "--dry-run",
            "--artifact",
            &digest("x"),
        ])
        .args(args)
        .env("TOLLGATE_CONFIG_DIR", "/nonexistent/tollgate-test")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("panicked"), "{text}");
    (out.status.code().unwrap(), text)
}

#[test]
fn hostile_capture_input_is_a_clear_error_that_never_quotes_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let huge = d.join("huge.json");
    std::fs::write(
        &huge,
        format!("{{\"a\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)),
    )
    .unwrap();
    let binary = d.join("bin.yaml");
    std::fs::write(&binary, [b'a', b':', b' ', 0xff, 0xfe, b'\n']).unwrap();
    let deep_json = write(
        d,
        "deep.json",
        &format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
    );
    let deep_yaml = write(
        d,
        "deep.yaml",
        &format!("a: {}1{}", "[".repeat(100_000), "]".repeat(100_000)),
    );
    let nested = write(
        d,
        "nested.json",
        &format!("{}1{}", "{\"a\":".repeat(40), "}".repeat(40)),
    );
    let bad_yaml = write(d, "bad.yaml", "a: [1, 2\nb: {\n");
    let bad_json = write(d, "bad.json", "{\"a\": 1,");
    let bad_env = write(d, "bad.env", "A=1\nnot a setting\n");
    let bad_secret = write(d, "s.env", &format!("A=1\n{ROTATED}\n"));
    let bad_secret_json = write(d, "s.json", &format!("{{\"A\": \"{ROTATED}\" oops}}"));
    let key = write(d, "k", "0123456789abcdef0123456789abcdef");
    let short_key = write(d, "short", "abc");
    let good_secret = write(d, "ok.env", "A=1\n");
    let p = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![p(&huge)], "limited to"),
        (vec![p(&binary)], "not UTF-8"),
        (vec![p(&deep_json)], "deep.json: not valid JSON"),
        (vec![p(&deep_yaml)], "deep.yaml: not valid YAML"),
        (vec![p(&nested)], "nested deeper than"),
        (vec![p(&bad_yaml)], "bad.yaml: not valid YAML"),
        (vec![p(&bad_json)], "bad.json: not valid JSON"),
        (vec![p(&bad_env)], "line 2 is not `KEY=value`"),
        (
            vec![
                "--secrets".into(),
                p(&bad_secret),
                "--hmac-key".into(),
                p(&key),
            ],
            "s.env: not valid .env: line 2",
        ),
        (
            vec![
                "--secrets".into(),
                p(&bad_secret_json),
                "--hmac-key".into(),
                p(&key),
            ],
            "s.json: not valid JSON: syntax error at line 1",
        ),
        (vec!["--secrets".into(), p(&good_secret)], "--hmac-key"),
        (
            vec![
                "--secrets".into(),
                p(&good_secret),
                "--hmac-key".into(),
                p(&short_key),
            ],
            "at least 16 random bytes",
        ),
        (
            vec!["--image".into(), "envoy=latest".into()],
            "--image envoy=latest",
        ),
        (vec!["--sbom".into(), p(&bad_json)], "bad.json"),
        (
            vec!["--format".into(), "k8s".into(), p(&bad_env)],
            "bad.env",
        ),
        (vec![], "nothing to capture"),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, text) = capture(&args);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(
            text.contains(needle),
            "{args:?}: expected {needle:?} in {text}"
        );
        assert!(!text.contains(ROTATED), "{args:?} quoted a secret: {text}");
    }
    // The same inputs, well formed, capture fine (offline, --dry-run).
    let good = write(d, "good.yaml", "a: 1\n");
    let (code, text) = capture(&[
        good.to_str().unwrap(),
        "--image",
        &format!("envoy={}", digest("envoy")),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("\"images\":{\"envoy\":\"sha256:"), "{text}");
}

/// `gate eval` judges two snapshot statements offline with the example
/// policy's drift gate: what it ignores passes, anything else blocks.
#[test]
fn the_example_drift_gate_judges_snapshot_statements_offline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let statement = |env: &str, yaml: &str| -> PathBuf {
        let config = write(d, &format!("{env}.yaml"), yaml);
        let (code, text) = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args([
                "snapshot",
                "submit",
                "--env",
                env,
                "--service",
                "payments",
                "--dry-run",
                "--artifact",
                &digest(env),
            ])
            .arg(&config)
            .output()
            .map(|o| {
                (
                    o.status.code().unwrap(),
                    String::from_utf8_lossy(&o.stdout).into_owned(),
                )
            })
            .unwrap();
        assert_eq!(code, 0, "{text}");
        write(d, &format!("{env}.statement.json"), &text)
    };
    let staging = statement("staging", "replicas: 2\nlog_level: debug\nregion: eu-1\n");
    let prod_ok = statement("prod", "replicas: 6\nlog_level: info\nregion: eu-1\n");
    let policy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/policy/example.toml");
    let eval = |files: &[&PathBuf]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(["gate", "eval", "--gate", "drift", "--policy"])
            .arg(&policy)
            .args(files)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (code, text) = eval(&[&staging, &prod_ok]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(
            "PASS — payments in prod matches staging, ignoring /config/replicas, /config/log_level"
        ),
        "{text}"
    );
    let prod_bad = statement("prod", "replicas: 6\nlog_level: info\nregion: us-2\n");
    let (code, text) = eval(&[&staging, &prod_bad]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("changed /config/region: eu-1 → us-2"),
        "{text}"
    );
    // One snapshot, or a file that is not one, never passes.
    let (code, text) = eval(&[&staging]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("only a snapshot of payments in staging"),
        "{text}"
    );
    let (code, text) = eval(&[&prod_bad, &prod_bad]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("both snapshots are of prod"), "{text}");
}
