//! The offline commands as a user runs them: the real binary, real files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::World;
use tollgate::digest::Digest;
use tollgate::statement::DecisionAction;

fn tollgate(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .env("TOLLGATE_DATA_DIR", data_dir)
        .env("TOLLGATE_CONFIG_DIR", data_dir.join("config"))
        .env_remove("TOLLGATE_KEY")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn key_generate_writes_a_private_key_and_key_show_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = tollgate(dir.path(), &["key", "generate", "--name", "alice"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("[operators.alice]"), "{stdout}");

    let show = tollgate(dir.path(), &["key", "show", "--json"]);
    assert_eq!(show.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(value["name"], "alice");
    assert!(stdout.contains(value["public"].as_str().unwrap()));
    assert!(value["vkey"].as_str().unwrap().starts_with("alice+"));

    let again = tollgate(dir.path(), &["key", "generate", "--name", "alice"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("already exists"));
}

#[cfg(unix)]
#[test]
fn key_show_refuses_a_key_others_can_read() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    tollgate(dir.path(), &["key", "generate"]);
    let key = dir.path().join("keys/operator.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = tollgate(dir.path(), &["key", "show"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("chmod 600"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn key_show_without_a_key_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = tollgate(dir.path(), &["key", "show"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("tollgate key generate"));
}

#[test]
fn policy_check_accepts_the_example_and_lists_every_problem_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/src/policy/example.toml");
    let out = tollgate(dir.path(), &["policy", "check", example]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("dev → staging → prod"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "version = 0\norigin = \"\"\nadmins = { role = \"nobody\", threshold = 1 }\n",
    )
    .unwrap();
    let out = tollgate(dir.path(), &["policy", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let located: Vec<_> = stderr.lines().filter(|l| l.contains("bad.toml:")).collect();
    assert!(
        located.len() >= 3,
        "every problem on its own line:\n{stderr}"
    );
    assert!(located[0].contains("bad.toml:1:"), "{stderr}");
}

fn write_world(dir: &Path, world: &World) -> std::path::PathBuf {
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, world.policy.document()).unwrap();
    policy
}

#[test]
fn verify_names_signer_role_and_predicate() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = World::new();
    let p = w.request("ci-main", "app", Digest::of(b"v1"), None, "dev");
    let policy = write_world(dir.path(), &w);
    let envelope = dir.path().join("request.json");
    std::fs::write(&envelope, w.envelopes[0].to_json()).unwrap();
    let out = tollgate(
        dir.path(),
        &[
            "verify",
            envelope.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("signed by ci-main"), "{stdout}");
    assert!(stdout.contains("role:      ci"), "{stdout}");
    assert!(stdout.contains("promotion-request/v1"), "{stdout}");
    assert!(stdout.contains(&p.to_string()), "entry id shown: {stdout}");
}

#[test]
fn verify_refuses_tampering_strangers_and_false_role_claims() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = World::new();
    let p = w.request("ci-main", "app", Digest::of(b"v1"), None, "dev");
    let claim = w.decision("security", DecisionAction::Reject { promotion: p });
    w.decide("carol", Digest::of(b"v1"), claim);
    let policy = write_world(dir.path(), &w);
    let policy = policy.to_str().unwrap();

    let check = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        tollgate(
            dir.path(),
            &["verify", path.to_str().unwrap(), "--policy", policy],
        )
    };

    let role = check("role.json", &w.envelopes[1].to_json());
    assert_eq!(role.status.code(), Some(1));
    assert!(
        text(&role.stderr).contains("claims role `security`"),
        "{}",
        text(&role.stderr)
    );

    let mut value: serde_json::Value = serde_json::from_slice(&w.envelopes[0].to_json()).unwrap();
    let payload = value["payload"].as_str().unwrap().to_owned();
    let mut bytes = tollgate::encoding::decode_standard(&payload).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    value["payload"] = tollgate::encoding::encode(&bytes).into();
    let tampered = check("tampered.json", &serde_json::to_vec(&value).unwrap());
    assert_eq!(tampered.status.code(), Some(1));
    assert!(
        text(&tampered.stderr).contains("no signature verifies"),
        "{}",
        text(&tampered.stderr)
    );

    let stranger = tollgate::keys::Signer::generate("mallory");
    let forged = stranger.sign_statement(tollgate::encoding::decode_standard(&payload).unwrap());
    let out = check("forged.json", &forged.to_json());
    assert_eq!(out.status.code(), Some(1));

    let garbage = check("garbage.json", b"{\"payload\": 1}");
    assert_eq!(garbage.status.code(), Some(2));
    assert!(text(&garbage.stderr).contains("not a DSSE envelope"));
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["key", "--help"],
        vec!["key", "generate", "--help"],
        vec!["key", "show", "--help"],
        vec!["policy", "check", "--help"],
        vec!["verify", "--help"],
    ] {
        let out = tollgate(dir.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(text(&out.stdout).contains("Usage:"), "{args:?}");
    }
    // `status` is a gate for scripts: its exit codes are documented.
    let out = tollgate(dir.path(), &["status", "--help"]);
    let help = text(&out.stdout);
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("superseded"), "{help}");
}

#[test]
fn init_writes_a_key_a_valid_starter_policy_and_a_config_to_fill_in() {
    let dir = tempfile::tempdir().unwrap();
    let out = tollgate(dir.path(), &["init", "--name", "zoe"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(dir.path().join("keys/operator.key").exists(), "{said}");
    let config_dir = dir.path().join("config");
    let policy = config_dir.join("policy.toml");
    let check = tollgate(dir.path(), &["policy", "check", policy.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert!(config_dir.join("config.toml").exists());
    // zoe is an operator of the starter policy, holding the new key.
    let public = text(&tollgate(dir.path(), &["key", "show"]).stdout);
    let policy_text = std::fs::read_to_string(&policy).unwrap();
    let zoe = policy_text
        .find("[operators.zoe]")
        .expect("zoe is an operator");
    let key_line = policy_text[zoe..].lines().nth(1).unwrap();
    let key = key_line.trim_start_matches("key = ").trim_matches('"');
    assert!(public.contains(key), "{key_line} vs {public}");

    // Until `tollgate join` fills the configuration, store commands say so.
    let status = tollgate(dir.path(), &["status"]);
    assert_eq!(status.status.code(), Some(2));
    let said = text(&status.stderr);
    assert!(
        said.contains("config.toml") && said.contains("tollgate join"),
        "{said}"
    );

    let again = tollgate(dir.path(), &["init"]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "never overwrites without --force"
    );
}

#[cfg(unix)]
#[test]
fn serve_refuses_a_tls_key_others_can_read_and_a_zero_connection_limit() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let world = World::new();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, world.policy.document()).unwrap();
    let tls_dir = dir.path().join("tls-material");
    tollgate::tls::self_signed(&tls_dir, &[]).unwrap();
    let (cert, key) = tollgate::tls::self_signed_paths(&tls_dir);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let serve = |extra: &[&str]| {
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--policy",
            policy.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        tollgate(dir.path(), &args)
    };
    let out = serve(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("chmod 600 {}", key.display())),
        "{}",
        text(&out.stderr)
    );

    let config = dir.path().join("serve.toml");
    std::fs::write(&config, "max_connections = 0\n").unwrap();
    let out = serve(&["--self-signed", "--serve-config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("max_connections"),
        "{}",
        text(&out.stderr)
    );
}
