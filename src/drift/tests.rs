#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use time::macros::datetime;

use super::capture::{self, InputFormat, parse, parse_secrets};
use super::snapshot::purl_without_version;
use super::*;
use crate::digest::Digest;
use crate::statement::Snapshot;

const SECRET: &str = "s3cr3t-hunter2-value";

fn key() -> HmacKey {
    HmacKey::new("test.key", b"0123456789abcdef0123456789abcdef\n").unwrap()
}

fn snapshot(env: &str, parts: Parts) -> Snapshot {
    parts
        .into_snapshot(
            Identity {
                environment: env.into(),
                service: "payments".into(),
                artifact: Digest::of(b"a"),
                captured_at: datetime!(2026-11-30 12:00 UTC),
            },
            Some(&key()),
        )
        .unwrap()
}

#[test]
fn keyed_arrays_become_maps_so_reordering_is_not_drift() {
    let a = normalise::keyed_arrays(
        json!({"env": [{"name": "A", "value": 1}, {"name": "B", "value": 2}]}),
    );
    let b = normalise::keyed_arrays(
        json!({"env": [{"name": "B", "value": 2}, {"name": "A", "value": 1}]}),
    );
    assert_eq!(a, json!({"env": {"A": 1, "B": 2}}));
    assert_eq!(a, b);
    // Elements with more than a value keep the rest; plain lists stay lists.
    let c = normalise::keyed_arrays(
        json!({"ports": [{"name": "http", "port": 80, "proto": "TCP"}], "hosts": ["a", "b"]}),
    );
    assert_eq!(
        c,
        json!({"ports": {"http": {"port": 80, "proto": "TCP"}}, "hosts": ["a", "b"]})
    );
    // Duplicate names are not a keyed array.
    let d = normalise::keyed_arrays(json!([{"name": "x"}, {"name": "x"}]));
    assert_eq!(d, json!([{"name": "x"}, {"name": "x"}]));
}

#[test]
fn formats_are_detected_and_read() {
    let env = parse(
        "app.env",
        b"# comment\nexport LOG_LEVEL=info\nREGION=\"eu-1\"\n",
        None,
    )
    .unwrap();
    assert_eq!(env.config["LOG_LEVEL"], "info");
    assert_eq!(env.config["REGION"], "eu-1");
    let yaml = parse(
        "c.yaml",
        b"replicas: 3\nfeatures:\n  - name: a\n    value: true\n",
        None,
    )
    .unwrap();
    assert_eq!(yaml.config["replicas"], 3);
    let cm = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"LOG_LEVEL":"debug"}}"#;
    let cm = parse("cm.json", cm, None).unwrap();
    assert_eq!(cm.config.len(), 1);
    assert_eq!(cm.config["LOG_LEVEL"], "debug");
    let secret = br#"{"apiVersion":"v1","kind":"Secret","data":{"DB_PASSWORD":"czNjcjN0LWh1bnRlcjItdmFsdWU="},"stringData":{"API":"x"}}"#;
    let secret = parse("s.json", secret, None).unwrap();
    assert!(secret.config.is_empty());
    assert_eq!(secret.secrets["DB_PASSWORD"].as_slice(), SECRET.as_bytes());
    assert!(!format!("{secret:?}").contains(SECRET));
    assert_eq!(capture::detect("settings", "A=1\n"), InputFormat::Env);
    assert_eq!(capture::detect("settings", "a: 1\n"), InputFormat::Yaml);
    assert_eq!(capture::detect("settings", "{}"), InputFormat::Json);
    let forced = parse(
        "cm.txt",
        b"apiVersion: v1\nkind: ConfigMap\ndata:\n  A: b\n",
        Some(InputFormat::Kubernetes),
    )
    .unwrap();
    assert_eq!(forced.config["A"], "b");
    assert!(parse("x.json", br#"{"a":1}"#, Some(InputFormat::Kubernetes)).is_err());
}

#[test]
fn fingerprints_are_keyed_and_carry_the_key_id() {
    let k = key();
    let f = k.fingerprint(SECRET.as_bytes());
    assert!(f.starts_with(&format!("hmac-sha256:{}:", k.id())));
    assert_eq!(f.len(), "hmac-sha256:".len() + 12 + 1 + 64);
    assert!(!f.contains(SECRET));
    assert_eq!(f, k.fingerprint(SECRET.as_bytes()));
    let other = HmacKey::new("other", b"fedcba9876543210fedcba9876543210").unwrap();
    assert_ne!(other.fingerprint(SECRET.as_bytes()), f);
    assert_ne!(other.id(), k.id());
    assert!(HmacKey::new("short", b"short").is_err());
    assert!(!format!("{k:?}").contains("0123456789"));
}

fn parts(password: &str, flag: bool, tokio: &str) -> Parts {
    let mut p = Parts::default();
    p.add_config(
        "config.yaml",
        parse(
            "config.yaml",
            b"replicas: 3\nlog_level: info\nenv:\n  - name: REGION\n    value: eu-1\n",
            None,
        )
        .unwrap(),
    )
    .unwrap();
    p.add_flags(
        "flags.json",
        parse(
            "flags.json",
            format!(r#"{{"new_checkout": {flag}, "dark_mode": false}}"#).as_bytes(),
            None,
        )
        .unwrap(),
    )
    .unwrap();
    p.add_secrets(
        "secrets.env",
        parse_secrets(
            "secrets.env",
            format!("DB_PASSWORD={password}\nAPI_TOKEN=same\n").as_bytes(),
            None,
        )
        .unwrap(),
    )
    .unwrap();
    p.add_dependencies([
        (
            "tokio",
            Some(format!("pkg:cargo/tokio@{tokio}").leak() as &str),
            tokio,
        ),
        ("serde", Some("pkg:cargo/serde@1.0.200"), "1.0.200"),
    ]);
    p
}

#[test]
fn a_rotated_secret_a_flipped_flag_and_a_moved_dependency_are_exactly_three_rows() {
    let staging = snapshot("staging", parts("old-password-1", false, "1.38.1"));
    let prod = snapshot("prod", parts(SECRET, true, "1.40.0"));
    let c = compare(&staging, &prod, &[]);
    let paths: Vec<(&str, Change)> = c.rows.iter().map(|r| (r.path.as_str(), r.change)).collect();
    assert_eq!(
        paths,
        [
            ("/dependencies/pkg:cargo~1tokio", Change::Changed),
            ("/flags/new_checkout", Change::Changed),
            ("/secrets/DB_PASSWORD", Change::Changed),
        ]
    );
    assert_eq!(c.rows[0].from, Some(json!("1.38.1")));
    assert_eq!(c.patch.0.len(), 3);
    let everything = format!(
        "{}{}{:?}",
        serde_json::to_string(&c).unwrap(),
        c.unified(),
        prod
    );
    assert!(!everything.contains(SECRET));
    assert!(!everything.contains("old-password-1"));
    assert!(c.unified().contains("-    \"new_checkout\": false"));
    // Ignoring the paths leaves nothing.
    let ignore = ["/flags/new_checkout", "/secrets", "/dependencies"].map(str::to_owned);
    assert!(compare(&staging, &prod, &ignore).rows.is_empty());
}

#[test]
fn added_and_removed_keys_are_rows_with_one_side() {
    let a = json!({"config": {"a": 1, "gone": true}});
    let b = json!({"config": {"a": 1, "new": "x"}});
    let rows = diff::rows(&a, &b);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].path.as_str(), rows[0].change, rows[0].to.is_none()),
        ("/config/gone", Change::Removed, true)
    );
    assert_eq!(
        (
            rows[1].path.as_str(),
            rows[1].change,
            rows[1].from.is_none()
        ),
        ("/config/new", Change::Added, true)
    );
}

#[test]
fn ignore_rules_are_json_pointers() {
    assert!(normalise::pointer_problem("/config/replicas").is_none());
    assert!(
        normalise::pointer_problem("replicas")
            .unwrap()
            .contains("/config/replicas")
    );
    assert!(normalise::pointer_problem("/a~2b").is_some());
    let mut v = json!({"config": {"a/b": 1, "c": {"d": 2, "e": 3}}});
    normalise::ignore(
        &mut v,
        &[
            "/config/a~1b".into(),
            "/config/c/d".into(),
            "/nope/x".into(),
        ],
    );
    assert_eq!(v, json!({"config": {"c": {"e": 3}}}));
}

#[test]
fn purls_lose_their_version_only() {
    assert_eq!(
        purl_without_version("pkg:cargo/serde@1.0.1?x=y#s"),
        "pkg:cargo/serde"
    );
    assert_eq!(
        purl_without_version("pkg:npm/%40scope/left-pad@1.3.0"),
        "pkg:npm/%40scope/left-pad"
    );
    assert_eq!(purl_without_version("pkg:npm/left-pad"), "pkg:npm/left-pad");
}

#[test]
fn two_files_setting_one_key_is_an_error_naming_both() {
    let mut p = Parts::default();
    p.add_config("a.env", parse("a.env", b"X=1\n", None).unwrap())
        .unwrap();
    let err = p
        .add_config("b.env", parse("b.env", b"X=2\n", None).unwrap())
        .unwrap_err();
    assert!(
        err.to_string().contains("a.env") && err.to_string().contains("b.env"),
        "{err}"
    );
}

#[test]
fn secrets_without_a_key_are_refused_naming_the_flag() {
    let mut p = Parts::default();
    p.add_secrets("s.env", parse_secrets("s.env", b"A=1\n", None).unwrap())
        .unwrap();
    let err = p
        .into_snapshot(
            Identity {
                environment: "prod".into(),
                service: "s".into(),
                artifact: Digest::of(b"a"),
                captured_at: datetime!(2026-11-30 12:00 UTC),
            },
            None,
        )
        .unwrap_err();
    assert!(err.to_string().contains("--hmac-key"), "{err}");
}

#[test]
fn hostile_input_is_a_clear_error_never_a_panic() {
    let deep_json = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let deep_yaml = format!("a: {}1{}", "[".repeat(5000), "]".repeat(5000));
    let deep_ok_parser = format!("{}1{}", "[".repeat(60), "]".repeat(60));
    let huge = vec![b'a'; MAX_CAPTURE_BYTES + 1];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bad.json", b"{\"a\": ".to_vec(), "not valid JSON"),
        ("bad.yaml", b"a: [1, 2\nb: {".to_vec(), "not valid YAML"),
        ("bad.env", b"A=1\nthis line is wrong\n".to_vec(), "line 2"),
        ("deep.json", deep_json.into_bytes(), "bad.json"),
        ("deep.yaml", deep_yaml.into_bytes(), "deep.yaml"),
        ("deep2.json", deep_ok_parser.into_bytes(), "deeper than"),
        ("bin.json", vec![b'{', 0xff, 0xfe, b'}'], "not UTF-8"),
        ("huge.json", huge, "limited to"),
        ("empty.json", b"  \n".to_vec(), "empty"),
        ("list.json", b"[1, 2]".to_vec(), "not a map"),
        (
            "badsecret.json",
            br#"{"apiVersion":"v1","kind":"Secret","data":{"A":"!!!"}}"#.to_vec(),
            "not valid base64",
        ),
    ];
    for (name, bytes, needle) in cases {
        let err = parse(name, &bytes, None).unwrap_err().to_string();
        let needle = if needle == "bad.json" {
            "deep.json"
        } else {
            needle
        };
        assert!(err.contains(needle) && err.contains(name), "{name}: {err}");
    }
    // Secrets files: errors give positions, never content.
    for (name, bytes) in [
        ("s.env", format!("A=1\n{SECRET}\n")),
        ("s.json", format!("{{\"A\": \"{SECRET}\" x}}")),
        ("s.yaml", format!("A: \"{SECRET}\n  b: [")),
        ("s2.env", format!("{SECRET} x=1\n")),
    ] {
        let err = parse_secrets(name, bytes.as_bytes(), None)
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains(SECRET) && !err.contains("hunter"),
            "{name}: {err}"
        );
        assert!(err.contains(name), "{err}");
    }
}

mod properties {
    use proptest::prelude::*;

    use super::super::capture::{InputFormat, parse, parse_secrets};

    const MARKER: &str = "Zq93-marker-secret-7781";

    fn formats() -> [Option<InputFormat>; 5] {
        [
            None,
            Some(InputFormat::Json),
            Some(InputFormat::Yaml),
            Some(InputFormat::Env),
            Some(InputFormat::Kubernetes),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary bytes and config-shaped text never panic any parser,
        /// and a secret beside them is never echoed in an error.
        #[test]
        fn capture_never_panics_and_never_echoes_a_secret(
            bytes in proptest::collection::vec(any::<u8>(), 0..256),
            text in "[-a-zA-Z0-9_:={}\\[\\]\"', \\n#.!&*|>]{0,200}",
        ) {
            for input in [bytes.as_slice(), text.as_bytes()] {
                for format in formats() {
                    let _ = parse("p", input, format);
                    let mut with_secret = input.to_vec();
                    with_secret.extend_from_slice(format!("\nDB_PASSWORD={MARKER}\n").as_bytes());
                    if let Err(e) = parse_secrets("p", &with_secret, format) {
                        prop_assert!(!e.to_string().contains(MARKER), "{}", e);
                    }
                }
            }
        }
    }
}

#[test]
fn a_drift_gate_checks_the_stored_patch_against_the_snapshots() {
    use crate::evidence::{Context, EvidenceFile, evaluate_with};
    use crate::policy::gates::{DriftSettings, GateSettings};
    use crate::statement::{GateStatus, Predicate, Statement};
    let snap = |env: &str, flag: bool| {
        let s = Snapshot {
            environment: env.into(),
            service: "payments".into(),
            captured_at: datetime!(2026-11-30 12:00 UTC),
            artifact: Digest::of(b"a"),
            config: std::collections::BTreeMap::new(),
            flags: [("card_vault_v2".to_owned(), json!(flag))].into(),
            dependencies: std::collections::BTreeMap::new(),
            secret_fingerprints: std::collections::BTreeMap::new(),
            images: std::collections::BTreeMap::new(),
        };
        Statement::about("payments", Digest::of(b"a"), Predicate::Snapshot(s.clone())).to_payload()
    };
    let (staging, prod) = (snap("staging", false), snap("prod", true));
    let settings = GateSettings::Drift(DriftSettings::default());
    let judge = |patch: &[u8]| {
        let files = [
            EvidenceFile {
                name: "staging",
                bytes: &staging,
            },
            EvidenceFile {
                name: "prod",
                bytes: &prod,
            },
            EvidenceFile {
                name: "patch",
                bytes: patch,
            },
        ];
        evaluate_with(&settings, &files, Context { artifact: None })
    };
    // The true diff: judged as drift (one flag), not an error.
    let honest = br#"[{"op":"replace","path":"/flags/card_vault_v2","value":true}]"#;
    assert_eq!(judge(honest).status, GateStatus::Fail);
    // A patch that hides or invents a change is an error, never a verdict.
    let forged = br#"[{"op":"replace","path":"/flags/card_vault_v2","value":false}]"#;
    let v = judge(forged);
    assert_eq!(v.status, GateStatus::Error, "{}", v.summary);
    assert!(v.summary.contains("not the diff"), "{}", v.summary);
}
