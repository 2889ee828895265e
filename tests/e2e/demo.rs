//! `tollgate demo` as a newcomer runs it: the in-process store and
//! witnesses over HTTPS, the seeded story, the cockpit in a real
//! pseudo-terminal; and the screenshots in `screenshots/`, which must be
//! what the renderer draws today.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use crate::common::pty::Pty;
use crate::common::served::bin;

/// The persona's directories, as `tollgate demo` lays them out.
fn persona_env(workspace: &Path, name: &str) -> Vec<(&'static str, std::path::PathBuf)> {
    let root = workspace.join("personas").join(name);
    vec![
        ("TOLLGATE_CONFIG_DIR", root.join("config")),
        ("TOLLGATE_DATA_DIR", root.join("data")),
        ("TOLLGATE_CACHE_DIR", root.join("cache")),
    ]
}

fn tollgate_as(workspace: &Path, name: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .envs(persona_env(workspace, name))
        .env_remove("TOLLGATE_KEY")
        .env_remove("TOLLGATE_CONFIG")
        .output()
        .unwrap()
}

/// The id of `service` `version`'s promotion into `env`, from `status --json`.
fn promotion_id(
    workspace: &Path,
    service: &str,
    version: &str,
    env: &str,
) -> (String, serde_json::Value) {
    let out = tollgate_as(
        workspace,
        "alice",
        &["status", "--service", service, "--env", env, "--json"],
    );
    assert!(out.status.success(), "{out:?}");
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let promotions = list
        .get("promotions")
        .and_then(|p| p.as_array().cloned())
        .or_else(|| list.as_array().cloned())
        .unwrap();
    let p = promotions
        .into_iter()
        .find(|p| p["service"] == service && p["to"] == env && p["version"] == version)
        .unwrap();
    (p["id"].as_str().unwrap().to_owned(), p)
}

#[test]
fn the_demo_seeds_its_story_and_approves_from_the_cockpit() {
    let tmp = tempfile::tempdir().unwrap();
    let workspace = tmp.path().join("demo");
    let ws = workspace.to_str().unwrap();
    // A key exported for real work is never used by the demo's personas.
    let mut cockpit = Pty::start(
        &["demo", "--dir", ws],
        &[("TOLLGATE_KEY", Path::new("/nonexistent/real-work.key"))],
    );
    cockpit.wait_for("Inbox — alice");
    // How to show the two-person rule is on screen from the start.
    cockpit.wait_for("tollgate demo --join");
    // The inbox's sections, from the story (each waited for: a frame may
    // still be arriving).
    for text in [
        "checkout 2.3.0 → prod",
        "Waiting for my role",
        "Expiring soon",
        "Blocked",
    ] {
        cockpit.wait_for(text);
    }

    // The story is in the store, verified by a second client: checkout
    // waits for a release manager.
    let (id, before) = promotion_id(&workspace, "checkout", "2.3.0", "prod");
    assert_eq!(before["ready"], false, "{before}");
    let blockers = before["blockers"].to_string();
    assert!(blockers.contains("release-manager"), "{blockers}");
    // CI signed "pass" over a failing report for checkout 2.4.0: this
    // client re-judged the evidence from the store and disputes it.
    let (_, lied) = promotion_id(&workspace, "checkout", "2.4.0", "dev");
    let blockers = lied["blockers"].to_string();
    assert!(blockers.contains("disputed"), "{lied}");

    // A second terminal joins the same store as dana, security.
    let second = Pty::start(&["demo", "--join", ws, "--as", "dana"], &[]);
    second.wait_for("Inbox — dana");
    second.wait_for("dana [security]");
    second.quit();

    // Live updates: with the event stream open, a request CI makes now
    // shows up without a keypress (the next poll is half a minute away).
    cockpit.wait_for("· live");
    let out = tollgate_as(
        &workspace,
        "ci-main",
        &[
            "promote",
            "request",
            "--service",
            "search",
            "--version",
            "3.2.1",
            "--digest",
            &format!("sha256:{}", "ab".repeat(32)),
            "--to",
            "dev",
            "--repo",
            "https://git.example.com/shop/platform",
            "--commit",
            "4f2a9c1",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    cockpit.send(b"2");
    cockpit.wait_for("search      3.2.1");
    cockpit.send(b"1");
    cockpit.wait_for("Inbox — alice");

    // Second row of the inbox: checkout. Approve it with a rationale,
    // confirm "Yes" (focus starts on "No").
    cockpit.send(b"j");
    cockpit.send(b"a");
    cockpit.wait_for("Rationale");
    cockpit.send(b"release notes and evidence reviewed");
    cockpit.send(b"\r");
    let confirm = cockpit.wait_for("Yes, sign it");
    assert!(confirm.contains("checkout"), "{confirm}");
    cockpit.send(b"\t");
    cockpit.send(b"\r");
    cockpit.wait_for("outbox 0q 1s 0r");
    // Readiness changes on screen: checkout leaves "waiting for my role".
    cockpit.send(b"2");
    cockpit.wait_for("✔ ready");
    let out = tollgate_as(&workspace, "alice", &["status", &id[..]]);
    assert!(
        out.status.success(),
        "checkout is deployable now: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    cockpit.quit();

    // A filtered status shows that service's environments and findings
    // only: payments' unapproved prod deployment is a finding of payments.
    let text = |args: &[&str]| {
        let out = tollgate_as(&workspace, "alice", args);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let checkout = text(&["status", "--service", "checkout"]);
    assert!(checkout.contains("/checkout: "), "{checkout}");
    assert!(!checkout.contains("/payments: "), "{checkout}");
    assert!(!checkout.contains("unapproved deployment"), "{checkout}");
    let payments = text(&["status", "--service", "payments", "--env", "prod"]);
    assert!(payments.contains("prod/payments: "), "{payments}");
    assert!(!payments.contains("staging/payments: "), "{payments}");
    assert!(payments.contains("unapproved deployment"), "{payments}");
}

#[test]
fn an_unknown_persona_is_named_with_the_choices() {
    let out = Command::new(bin())
        .args(["demo", "--as", "mallory"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mallory") && err.contains("alice, dana"),
        "{err}"
    );
}

#[test]
fn the_screenshots_are_what_the_renderer_draws_today() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["demo", "--screenshots"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    let mut drawn = 0;
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        let fresh = std::fs::read_to_string(&path).unwrap();
        let old = std::fs::read_to_string(committed.join(name)).unwrap_or_default();
        assert!(
            fresh == old,
            "screenshots/{} is out of date; run `cargo run -- demo --screenshots screenshots` and commit",
            name.to_string_lossy()
        );
        drawn += 1;
    }
    assert!(drawn >= 8, "only {drawn} screenshots");
}

/// Every view and detail tab of the demo's story at 120×40, as insta
/// snapshots of the renderer's buffer: the text and, where they carry
/// meaning, the styles (danger, selection, status), cell by cell.
#[test]
fn every_view_and_tab_of_the_demo_story_renders() {
    let scratch = tempfile::tempdir().unwrap();
    let screens = tollgate::demo::shots::story(scratch.path()).unwrap();
    assert!(screens.len() >= 10, "{}", screens.len());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for screen in &screens {
            let name = format!("demo_{}", screen.file.trim_end_matches(".svg"));
            insta::assert_snapshot!(name, format!("{:?}", screen.buffer));
        }
    });
}
