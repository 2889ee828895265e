//! A newcomer's first run, command by command, as the README tells it:
//! `init --name`, `serve` with no `--policy` (it finds the starter policy,
//! then remembers it), `join --yes`, `status`, `outbox`, `sync`. The real
//! binary, a fresh set of directories, real HTTPS.
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
