//! The verified local cache as a user meets it: the real binary against a
//! real `tollgate serve`. A sync downloads only what is new; a tampered
//! cache is refused with a message and rebuilt; with the store down the
//! read commands answer from the cache "as of checkpoint N"; decisions made
//! offline wait in the outbox and arrive exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::World;
use common::served::{Db, Served};
use tollgate::digest::Digest;

/// Requests `service` at `version` into `to` and returns the promotion id.
fn request(s: &Served, service: &str, version: &str, from: Option<&str>, to: &str) -> String {
    let d = Digest::of(format!("{service}-{version}").as_bytes()).to_string();
    let mut args = vec![
        "promote",
        "request",
        "--service",
        service,
        "--version",
        version,
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

fn pass(s: &Served, promotion: &str) {
    s.pass_gate(promotion, "unit-tests");
}

/// A promotion of `service` into staging, waiting for its approval.
fn staging_request(s: &Served, service: &str) -> String {
    let dev = request(s, service, "1.0.0", None, "dev");
    pass(s, &dev);
    s.expect(0, "ci-main", &["deployed", &dev, "--status", "succeeded"]);
    let staging = request(s, service, "1.0.0", Some("dev"), "staging");
    pass(s, &staging);
    staging
}

fn json(s: &Served, code: i32, persona: &str, args: &[&str]) -> serde_json::Value {
    let out = s.run(persona, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "`tollgate {}`:\n{}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `log verify --json` as `persona`: (size, entries fetched, stderr).
fn verify(s: &Served, persona: &str) -> (u64, u64, String) {
    let out = s.run(persona, &["log", "verify", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        value["size"].as_u64().unwrap(),
        value["fetched"].as_u64().unwrap(),
        stderr,
    )
}

fn cache_dir(s: &Served, persona: &str) -> std::path::PathBuf {
    let root = s.data_path(persona).with_file_name("cache");
    // The log's cache; `evidence/` beside it holds evidence blobs.
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("evidence"))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().unwrap()
}

#[test]
fn a_sync_fetches_only_new_entries_and_a_tampered_cache_is_refused_and_rebuilt() {
    let world = World::new();
    let s = Served::start(&world, Db::Sqlite);
    let promotion = request(&s, "payments", "1.0.0", None, "dev");

    // Cold: everything is fetched and verified.
    let (size, fetched, _) = verify(&s, "alice");
    assert_eq!((size, fetched), (1, 1));
    // Nothing new: nothing fetched.
    let (size, fetched, _) = verify(&s, "alice");
    assert_eq!((size, fetched), (1, 0));
    // One new entry: exactly one fetched.
    pass(&s, &promotion);
    let (size, fetched, stderr) = verify(&s, "alice");
    assert_eq!((size, fetched), (2, 1), "{stderr}");
    assert!(!stderr.contains("refused"), "{stderr}");

    // A byte flipped inside a cached entry: refused, said so, rebuilt from
    // the store in full, and the view is still the store's verified log.
    let entries = cache_dir(&s, "alice").join("entries.bin");
    let mut bytes = std::fs::read(&entries).unwrap();
    let at = bytes.len() - 40;
    bytes[at] ^= 0x01;
    std::fs::write(&entries, &bytes).unwrap();
    let (size, fetched, stderr) = verify(&s, "alice");
    assert_eq!((size, fetched), (2, 2), "{stderr}");
    assert!(
        stderr.contains("was refused") && stderr.contains("rebuilt from the store"),
        "{stderr}"
    );
    let (_, fetched, stderr) = verify(&s, "alice");
    assert_eq!(fetched, 0, "the rebuilt cache is used: {stderr}");

    // A manifest edited by hand (here: an older time) no longer carries
    // the operator's signature: refused and rebuilt the same way.
    let manifest = cache_dir(&s, "alice").join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let edited = text.replacen("verified_at\\\":\\\"20", "verified_at\\\":\\\"19", 1);
    assert_ne!(text, edited, "{text}");
    std::fs::write(&manifest, edited).unwrap();
    let (size, fetched, stderr) = verify(&s, "alice");
    assert_eq!((size, fetched), (2, 2), "{stderr}");
    assert!(
        stderr.contains("does not verify under your key"),
        "{stderr}"
    );

    // A byte flipped in the saved replay (the fold a cached start resumes
    // from): refused and rebuilt the same way.
    let state = std::fs::read_dir(cache_dir(&s, "alice"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("state-")
        })
        .unwrap();
    let mut bytes = std::fs::read(&state).unwrap();
    let at = bytes.len() - 10;
    bytes[at] ^= 0x01;
    std::fs::write(&state, &bytes).unwrap();
    let (size, fetched, stderr) = verify(&s, "alice");
    assert_eq!((size, fetched), (2, 2), "{stderr}");
    assert!(
        stderr.contains("was refused") && stderr.contains("is not the file its manifest lists"),
        "{stderr}"
    );

    // Offline, a tampered cache is never shown: the command says why.
    let entries_bytes = std::fs::read(&entries).unwrap();
    let mut bytes = entries_bytes.clone();
    let at = bytes.len() - 40;
    bytes[at] ^= 0x01;
    std::fs::write(&entries, &bytes).unwrap();
    let out = s.expect(2, "alice", &["log", "verify", "--offline"]);
    assert!(out.contains("was refused"), "{out}");
    std::fs::write(&entries, &entries_bytes).unwrap();
}

#[test]
fn with_the_store_down_read_commands_answer_from_the_cache() {
    let world = World::new();
    let mut s = Served::start(&world, Db::Sqlite);
    let staging = staging_request(&s, "payments");
    let (size, _, _) = verify(&s, "alice");
    s.kill9();

    let out = s.expect(0, "alice", &["status"]);
    assert!(out.contains(&format!("as of checkpoint {size}")), "{out}");
    assert!(
        out.contains(&staging[..20]) || out.contains("payments"),
        "{out}"
    );
    let out = s.expect(0, "alice", &["log", "verify", "--offline"]);
    assert!(out.contains(&format!("as of checkpoint {size}")), "{out}");
    let shown = json(&s, 0, "alice", &["log", "show", "--json"]);
    assert_eq!(shown["entries"].as_array().unwrap().len() as u64, size);
    let status = json(&s, 0, "alice", &["status", "--json"]);
    assert_eq!(status["log"]["offline"], true, "{status}");

    // Someone who never synced has nothing verified to show: exit 3.
    s.expect(3, "bob", &["status"]);
    s.expect(2, "bob", &["log", "verify", "--offline"]);
}

#[test]
fn decisions_made_while_the_store_is_down_arrive_exactly_once() {
    let world = World::new();
    let mut s = Served::start(&world, Db::Sqlite);
    let payments = staging_request(&s, "payments");
    let billing = staging_request(&s, "billing");
    let (before, _, _) = verify(&s, "alice");
    s.kill9();

    // Two decisions from the cached verified log, each queued (exit 3).
    for promotion in [&payments, &billing] {
        let out = s.expect(
            3,
            "alice",
            &[
                "approve",
                promotion,
                "--role",
                "release-manager",
                "--rationale",
                "soak is clean",
            ],
        );
        assert!(out.contains("queued"), "{out}");
    }
    // A new CLI process sees both waiting in the outbox.
    let outbox = json(&s, 0, "alice", &["outbox", "--json"]);
    let queued = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["state"] == "queued")
        .count();
    assert_eq!(queued, 2, "{outbox:#}");

    s.restart();
    let synced = json(&s, 0, "alice", &["sync", "--json"]);
    assert_eq!(synced["delivered"].as_array().unwrap().len(), 2, "{synced}");
    assert_eq!(synced["log_size"].as_u64().unwrap(), before + 2, "{synced}");

    // Each approval is in the log exactly once.
    let shown = json(&s, 0, "alice", &["log", "show", "--json"]);
    let entries = shown["entries"].as_array().unwrap();
    assert_eq!(entries.len() as u64, before + 2);
    let decisions: Vec<_> = entries.iter().filter(|e| e["kind"] == "decision").collect();
    assert_eq!(decisions.len(), 2, "{shown:#}");
    assert!(decisions.iter().all(|e| e["signer"] == "alice"));

    // A second sync has nothing to send.
    let again = json(&s, 0, "alice", &["sync", "--json"]);
    assert_eq!(again["delivered"].as_array().unwrap().len(), 0, "{again}");
    assert_eq!(again["log_size"].as_u64().unwrap(), before + 2);
}
