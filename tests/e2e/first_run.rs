//! A newcomer's first run, command by command, as the README tells it:
//! `init --name`, `serve` with no `--policy` (it finds the starter policy,
//! then remembers it), `join --yes`, `status`, `outbox`, `sync`; and the
//! README's whole "A first session", from `init` to a prod rollback. The
//! real binary, a fresh set of directories, real HTTPS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

fn tollgate(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .env("TOLLGATE_DATA_DIR", home.join("data"))
        .env("TOLLGATE_CONFIG_DIR", home.join("config"))
        .env("TOLLGATE_CACHE_DIR", home.join("cache"))
        .env_remove("TOLLGATE_KEY")
        .env_remove("TOLLGATE_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `tollgate serve --self-signed` on a free port with the server's own
/// directories; returns the process and the `tollgate join …` line it printed.
fn serve(home: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["serve", "--self-signed", "--listen", "127.0.0.1:0"])
        .env("TOLLGATE_DATA_DIR", home.join("server-data"))
        .env("TOLLGATE_CONFIG_DIR", home.join("config"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let join = loop {
        let line = lines
            .next()
            .expect("serve exited before printing how to join")
            .unwrap();
        if line.starts_with("tollgate join https://") {
            break line;
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, join)
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[test]
fn init_serve_join_status_then_a_restart_keeps_the_genesis_policy() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();

    let init = tollgate(home, &["init", "--name", "alice"]);
    assert_eq!(init.status.code(), Some(0), "{}", text(&init.stderr));
    assert!(text(&init.stdout).contains("tollgate join"));

    let (server, join_line) = serve(home);
    let args: Vec<&str> = join_line.split_whitespace().skip(1).collect();

    // Without a terminal and without --yes nothing is written.
    let unconfirmed = tollgate(home, &args);
    assert_eq!(
        unconfirmed.status.code(),
        Some(2),
        "{}",
        text(&unconfirmed.stderr)
    );
    assert!(text(&unconfirmed.stderr).contains("--yes"));

    let mut with_yes = args.clone();
    with_yes.push("--yes");
    let joined = tollgate(home, &with_yes);
    assert_eq!(joined.status.code(), Some(0), "{}", text(&joined.stderr));
    let shown = text(&joined.stdout);
    assert!(
        shown.contains("you are:          alice (release-manager)"),
        "{shown}"
    );
    assert!(
        shown.contains("genesis policy:   version 1, sha256:"),
        "{shown}"
    );

    let status = tollgate(home, &["status"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let outbox = tollgate(home, &["outbox", "--json"]);
    assert_eq!(outbox.status.code(), Some(0), "{}", text(&outbox.stderr));
    let sync = tollgate(home, &["sync"]);
    assert_eq!(sync.status.code(), Some(0), "{}", text(&sync.stderr));
    stop(server);

    // The starter policy is edited afterwards: the store keeps the genesis
    // policy it started with, and the pinned client still agrees with it.
    let policy = home.join("config/policy.toml");
    let mut edited = std::fs::read_to_string(&policy).unwrap();
    edited.push_str("\n# edited after the store started\n");
    std::fs::write(&policy, edited).unwrap();
    let (server, again) = serve(home);
    let config = std::fs::read_to_string(home.join("config/config.toml")).unwrap();
    let port = again.split_whitespace().nth(2).unwrap();
    let config = config
        .lines()
        .map(|l| {
            if l.starts_with("store = ") {
                format!("store = \"{port}\"")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(home.join("config/config.toml"), config).unwrap();
    let status = tollgate(home, &["status"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    stop(server);
}

#[test]
fn serve_without_any_policy_says_how_to_get_one() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["serve", "--self-signed", "--listen", "127.0.0.1:0"])
        .env("TOLLGATE_DATA_DIR", home.path().join("server-data"))
        .env("TOLLGATE_CONFIG_DIR", home.path().join("config"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert!(
        said.contains("tollgate init --name") && said.contains("--policy FILE"),
        "{said}"
    );
}

// ---------------------------------------------------------------------------
// The README's "A first session", command by command.
// ---------------------------------------------------------------------------

/// `tollgate ARGS` as the holder of `key` (`TOLLGATE_KEY`), or with the
/// configuration's key, expecting exit `code`; stdout and stderr together.
#[track_caller]
fn expect(home: &Path, key: Option<&Path>, code: i32, args: &[&str]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .args(args)
        .env("TOLLGATE_DATA_DIR", home.join("data"))
        .env("TOLLGATE_CONFIG_DIR", home.join("config"))
        .env("TOLLGATE_CACHE_DIR", home.join("cache"))
        .env_remove("TOLLGATE_KEY")
        .env_remove("TOLLGATE_CONFIG")
        .stdin(Stdio::null());
    if let Some(key) = key {
        command.env("TOLLGATE_KEY", key);
    }
    let out = command.output().unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "`tollgate {}`{}:\n{all}",
        args.join(" "),
        key.map_or_else(String::new, |k| format!(
            " with TOLLGATE_KEY={}",
            k.display()
        ))
    );
    assert!(!all.contains("panicked"), "{all}");
    assert!(!all.contains("ALARM"), "{all}");
    all
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/evidence")
        .join(name)
        .display()
        .to_string()
}

/// The value after `label` on the first line that starts with it.
#[track_caller]
fn field(output: &str, label: &str) -> String {
    output
        .lines()
        .find_map(|l| {
            l.trim_start()
                .strip_prefix(label)
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {label:?} in:\n{output}"))
}

/// Replaces the one line of `text` that starts with `start`.
#[track_caller]
fn set_line(text: &str, start: &str, line: &str) -> String {
    assert_eq!(
        text.lines().filter(|l| l.starts_with(start)).count(),
        1,
        "{start}"
    );
    let mut out: String = text
        .lines()
        .map(|l| if l.starts_with(start) { line } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// Replaces the key line after `[operators.NAME]`.
#[track_caller]
fn set_operator_key(text: &str, name: &str, public: &str) -> String {
    let header = format!("[operators.{name}]\nkey = \"");
    let at = text.find(&header).unwrap() + header.len();
    let len = text[at..].find('"').unwrap();
    format!("{}{public}{}", &text[..at], &text[at + len..])
}

/// A `tollgate serve` process stopped (SIGTERM) when the test ends, passed
/// or failed.
struct Stopped(Option<Child>);

impl Drop for Stopped {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            stop(child);
        }
    }
}

/// SLSA v1 provenance for `artifact`, DSSE-signed by the builder's key, as
/// the team's build system would write it.
fn provenance(builder: &Path, name: &str, artifact: &tollgate::digest::Digest) -> Vec<u8> {
    let repo = "https://git.example.com/shop/checkout";
    let payload = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": name, "digest": { "sha256": artifact.to_hex() } }],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                "externalParameters": { "workflow": {
                    "ref": "refs/heads/main", "repository": repo,
                    "path": ".github/workflows/release.yml" } },
                "internalParameters": {},
                "resolvedDependencies": [{
                    "uri": format!("git+{repo}@refs/heads/main"),
                    "digest": { "gitCommit": "9f2c1e7b4a3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b" }
                }]
            },
            "runDetails": {
                "builder": { "id": "https://github.com/actions/runner/github-hosted" },
                "metadata": { "invocationId": format!("{repo}/actions/runs/{name}") }
            }
        }
    });
    let signer = tollgate::keys::file::read(builder).unwrap();
    signer
        .sign_statement(serde_json::to_vec(&payload).unwrap())
        .to_json()
}

/// The README's "A first session" run as written, in its order, in a fresh
/// set of directories: `init`, the team's keys into the policy, `policy
/// check`, `serve`, `join`; then two releases of `checkout` each going dev →
/// staging → prod (CI requests, submits gates and snapshots and reports
/// deployments with its own key; people approve with theirs after `status`
/// named the exact command), a rollback of prod to the first and the audit
/// history. The one difference from the README: the store listens on a free
/// port (`--listen 127.0.0.1:0`) instead of 8443.
#[test]
fn the_readme_first_session_runs_command_by_command() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let p = |path: &Path| path.display().to_string();

    // tollgate init --name alice
    let init = expect(home, None, 0, &["init", "--name", "alice"]);
    assert!(init.contains("you are operator `alice`"), "{init}");
    let policy = home.join("config/policy.toml");

    // The team's keys: CI, a security reviewer and the build's provenance
    // signer (each on their own machine in life; here files beside alice's).
    let mut public = std::collections::BTreeMap::new();
    for name in ["ci-main", "dana", "builder"] {
        let key = home.join(format!("{name}.key"));
        let out = expect(
            home,
            None,
            0,
            &["key", "generate", "--name", name, "--key", &p(&key)],
        );
        assert!(out.contains(&format!("[operators.{name}]")), "{out}");
        public.insert(name, field(&out, "public:"));
    }
    let (ci_key, dana_key) = (home.join("ci-main.key"), home.join("dana.key"));
    let (ci, dana) = (Some(ci_key.as_path()), Some(dana_key.as_path()));

    // Edit the policy `init` wrote before the store starts on it.
    let mut text = std::fs::read_to_string(&policy).unwrap();
    text = set_operator_key(&text, "ci-main", &public["ci-main"]);
    text = set_operator_key(&text, "dana", &public["dana"]);
    text = set_line(
        &text,
        "keys = [",
        &format!("keys = [\"{}\"]", public["builder"]),
    );
    text = set_line(
        &text,
        "# exceptions = [",
        "exceptions = [{ purl = \"pkg:pypi/certifi\", allow = [\"MPL-2.0\"] }]",
    );
    text = set_line(&text, "freeze = [", "freeze = []");
    std::fs::write(&policy, text).unwrap();
    let checked = expect(home, None, 0, &["policy", "check", &p(&policy)]);
    assert!(checked.contains("valid"), "{checked}");

    // tollgate serve --self-signed; tollgate join URL --pin … --yes
    let (server, join_line) = serve(home);
    let _server = Stopped(Some(server));
    let mut join: Vec<&str> = join_line.split_whitespace().skip(1).collect();
    join.push("--yes");
    let joined = expect(home, None, 0, &join);
    assert!(
        joined.contains("you are:          alice (release-manager)"),
        "{joined}"
    );

    let staging_yaml = home.join("staging.yaml");
    std::fs::write(
        &staging_yaml,
        "replicas: 2\nlog_level: debug\ntimeout_ms: 800\n",
    )
    .unwrap();
    let prod_yaml = home.join("prod.yaml");
    std::fs::write(
        &prod_yaml,
        "replicas: 6\nlog_level: info\ntimeout_ms: 800\n",
    )
    .unwrap();
    let junit = fixture("pytest-pass.xml");
    let sarif = fixture("ruff-clean.sarif");
    let sbom = fixture("cyclonedx-py.cdx.json");
    let metrics = fixture("metrics-ok.json");

    for version in ["1.4.1", "1.4.2"] {
        let name = format!("checkout-{version}.tar.gz");
        let artifact_bytes = format!("the {name} CI built");
        let artifact = tollgate::digest::Digest::of(artifact_bytes.as_bytes());
        let digest = artifact.to_string();
        let slsa = home.join(format!("{name}.intoto.jsonl"));
        std::fs::write(
            &slsa,
            provenance(&home.join("builder.key"), &name, &artifact),
        )
        .unwrap();
        let slsa = p(&slsa);
        // Each gate prod requires, with its evidence (drift: the snapshots).
        let gates: [(&str, Option<&str>); 6] = [
            ("unit-tests", Some(junit.as_str())),
            ("sast", Some(sarif.as_str())),
            ("licenses", Some(sbom.as_str())),
            ("provenance", Some(slsa.as_str())),
            ("perf-budget", Some(metrics.as_str())),
            ("drift", None),
        ];
        let request = |from: Option<&str>, to: &str| -> String {
            let mut args = vec![
                "promote",
                "request",
                "--service",
                "checkout",
                "--version",
                version,
                "--digest",
                digest.as_str(),
            ];
            if let Some(from) = from {
                args.extend(["--from", from]);
            }
            args.extend(["--to", to]);
            field(&expect(home, ci, 0, &args), "promotion id:")
        };
        let submit = |id: &str, required: &[(&str, Option<&str>)]| {
            for &(gate, file) in required {
                let mut args = vec!["gate", "submit", id, "--gate", gate];
                args.extend(file);
                let out = expect(home, ci, 0, &args);
                assert!(out.contains("PASS"), "{gate}: {out}");
            }
        };
        let deployed = |id: &str| {
            expect(home, ci, 0, &["deployed", id, "--status", "succeeded"]);
        };

        // dev: CI requests, dry-runs and submits its gate, deploys.
        let dev = request(None, "dev");
        let dry = expect(
            home,
            ci,
            0,
            &[
                "gate",
                "eval",
                "--gate",
                "unit-tests",
                "--policy",
                &p(&policy),
                &junit,
            ],
        );
        assert!(dry.contains("PASS"), "{dry}");
        submit(&dev, &gates[..1]);
        expect(home, ci, 0, &["status", &dev]);
        deployed(&dev);

        // staging: the blocker names the approval to sign; alice signs it.
        let staging = request(Some("dev"), "staging");
        submit(&staging, &gates[..3]);
        let blocked = expect(home, None, 1, &["status", &staging]);
        let approve = format!("tollgate approve {staging} --role release-manager --rationale");
        assert!(blocked.contains(&approve), "{blocked}");
        expect(
            home,
            None,
            0,
            &[
                "approve",
                &staging,
                "--role",
                "release-manager",
                "--rationale",
                "release notes reviewed",
            ],
        );
        expect(home, None, 0, &["status", &staging]);
        deployed(&staging);

        // prod: snapshots for the drift gate, six gates, two people.
        let prod = request(Some("staging"), "prod");
        for (env, file) in [("staging", &staging_yaml), ("prod", &prod_yaml)] {
            expect(
                home,
                ci,
                0,
                &[
                    "snapshot",
                    "submit",
                    "--env",
                    env,
                    "--service",
                    "checkout",
                    "--artifact",
                    &digest,
                    &p(file),
                ],
            );
        }
        submit(&prod, &gates);
        let blocked = expect(home, None, 1, &["status", &prod]);
        for role in ["release-manager", "security"] {
            let approve = format!("tollgate approve {prod} --role {role} --rationale");
            assert!(blocked.contains(&approve), "{blocked}");
        }
        expect(
            home,
            None,
            0,
            &[
                "approve",
                &prod,
                "--role",
                "release-manager",
                "--rationale",
                "release notes reviewed",
            ],
        );
        expect(
            home,
            dana,
            0,
            &[
                "approve",
                &prod,
                "--role",
                "security",
                "--rationale",
                "sast and licences reviewed",
            ],
        );
        expect(home, None, 0, &["status", &prod]);
        deployed(&prod);
        let done = expect(home, None, 1, &["status", &prod]);
        assert!(done.contains("[deployed]"), "{done}");
    }

    // alice rolls prod back to the last known good; CI reports it deployed.
    let rollback = expect(
        home,
        None,
        0,
        &[
            "rollback",
            "--env",
            "prod",
            "--service",
            "checkout",
            "--rationale",
            "p99 doubled",
        ],
    );
    assert!(rollback.contains("back to 1.4.1"), "{rollback}");
    let rollback_id = field(&rollback, "entry id:");
    expect(
        home,
        ci,
        0,
        &["deployed", &rollback_id, "--status", "succeeded"],
    );

    // `status` says what runs where now: 1.4.1 again in prod, by rollback.
    let now = expect(home, None, 0, &["status", "--service", "checkout"]);
    let prod_line = now
        .lines()
        .find(|l| l.trim_start().starts_with("prod/checkout:"))
        .unwrap_or_else(|| panic!("no prod line: {now}"));
    assert!(
        prod_line.contains("1.4.1") && prod_line.contains("via rollback"),
        "{prod_line}"
    );
    assert!(now.contains("approval: alice as release-manager"), "{now}");
    assert!(now.contains("requested by ci-main"), "{now}");

    let history = expect(home, None, 0, &["log", "show"]);
    for who in ["alice", "dana", "ci-main"] {
        assert!(history.contains(who), "{who}: {history}");
    }
    assert!(history.contains("rollback"), "{history}");
}
