//! More of the store's contract, end to end against the real binary:
//! policy rotation by the admins threshold, offline proofs, checkpoints,
//! the server-sent events stream, and the exit code of an unreachable store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::Arc;

use common::served::{Db, Served};
use common::{World, policy_text};
use tollgate::client::config::{Trust, parse_pin};
use tollgate::client::http::{StoreClient, tls_config};
use tollgate::keys::file;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::TlogProof;

fn key_of(s: &Served, persona: &str) -> String {
    s.path()
        .join("people")
        .join(persona)
        .join("key")
        .display()
        .to_string()
}

#[test]
fn a_new_policy_version_needs_the_admins_threshold_of_the_old_one() {
    let world = World::new();
    let s = Served::start(&world, Db::Sqlite);
    let v2 = s.path().join("policy-v2.toml");
    std::fs::write(&v2, policy_text(2, &world.signers)).unwrap();
    let v2_path = v2.to_str().unwrap();
    let signed = format!("{v2_path}.signed");

    // One admin is not enough; the CLI refuses before sending.
    s.expect(
        0,
        "erin",
        &["policy", "sign", v2_path, "--key", &key_of(&s, "erin")],
    );
    // Signing a second time with the same key is refused; the file keeps
    // its one signature (DSSE readers refuse two under one keyid).
    let twice = s.expect(
        2,
        "erin",
        &["policy", "sign", v2_path, "--key", &key_of(&s, "erin")],
    );
    assert!(twice.contains("already carries a signature"), "{twice}");
    let envelope =
        tollgate::envelope::Envelope::from_json(&std::fs::read(&signed).unwrap()).unwrap();
    assert_eq!(envelope.signatures().len(), 1);
    let one = s.expect(1, "erin", &["policy", "submit", &signed]);
    assert!(
        one.contains('1') && one.contains('2'),
        "says how many of how many: {one}"
    );

    // A signature from someone outside policy-admin does not count either.
    s.expect(
        0,
        "alice",
        &["policy", "sign", v2_path, "--key", &key_of(&s, "alice")],
    );
    s.expect(1, "erin", &["policy", "submit", &signed]);

    // The store refuses it on its own too (a client that skips the check).
    let writer = StoreClient::with_trust(
        &format!("https://{}", s.addr),
        &Trust::Pin(parse_pin(&s.pin).unwrap()),
        Arc::new(file::read(std::path::Path::new(&key_of(&s, "erin"))).unwrap()),
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let refused = runtime
        .block_on(writer.submit(std::fs::read(&signed).unwrap()))
        .unwrap_err();
    assert!(refused.to_string().contains("policy"), "{refused}");

    // A second admin makes the threshold.
    s.expect(
        0,
        "bob",
        &["policy", "sign", v2_path, "--key", &key_of(&s, "bob")],
    );
    s.expect(0, "erin", &["policy", "submit", &signed]);
    let out = s.run("dana", &["log", "verify", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verified: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verified["policy_version"], 2);

    // Version 2 again, or a skipped version 4, is refused.
    s.expect(1, "erin", &["policy", "submit", &signed]);
    let v4 = s.path().join("policy-v4.toml");
    std::fs::write(&v4, policy_text(4, &world.signers)).unwrap();
    let v4_path = v4.to_str().unwrap();
    s.expect(
        0,
        "erin",
        &["policy", "sign", v4_path, "--key", &key_of(&s, "erin")],
    );
    s.expect(
        0,
        "bob",
        &["policy", "sign", v4_path, "--key", &key_of(&s, "bob")],
    );
    let skipped = s.expect(
        1,
        "erin",
        &["policy", "submit", &format!("{v4_path}.signed")],
    );
    assert!(skipped.to_lowercase().contains("version"), "{skipped}");
}

#[test]
fn log_proof_prints_an_offline_proof_that_verifies() {
    let world = World::new();
    let s = Served::start(&world, Db::Sqlite);
    for n in 0..5 {
        let digest = tollgate::digest::Digest::of(format!("web-{n}").as_bytes()).to_string();
        s.expect(
            0,
            "ci-main",
            &[
                "promote",
                "request",
                "--service",
                "web",
                "--version",
                "1",
                "--digest",
                &digest,
                "--to",
                "dev",
            ],
        );
    }
    let out = s.run("bob", &["log", "proof", "3"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"c2sp.org/tlog-proof@v1\n"));
    let proof = TlogProof::parse(&out.stdout).unwrap();

    let reader = StoreClient::with_trust(
        &format!("https://{}", s.addr),
        &Trust::Pin(parse_pin(&s.pin).unwrap()),
        Arc::new(file::read(std::path::Path::new(&key_of(&s, "bob"))).unwrap()),
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let entry = runtime.block_on(reader.entries(3, 4)).unwrap().remove(0);
    let vkey: NoteVerifierKey = s.vkey.parse().unwrap();
    let (index, checkpoint) = proof.verify(&entry, &vkey).unwrap();
    assert_eq!((index, checkpoint.size), (3, 5));
    let other = runtime.block_on(reader.entries(2, 3)).unwrap().remove(0);
    assert!(
        proof.verify(&other, &vkey).is_err(),
        "the proof is for entry 3 only"
    );

    let out = s.run("bob", &["log", "checkpoint", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["size"], 5);
}

/// Opens `/v1/events` as bob, with `Last-Event-ID` when given.
fn open_events(
    s: &Served,
    runtime: &tokio::runtime::Runtime,
    last_event_id: Option<u64>,
) -> reqwest::Response {
    let signer = file::read(std::path::Path::new(&key_of(s, "bob"))).unwrap();
    let tls = tls_config(&Trust::Pin(parse_pin(&s.pin).unwrap())).unwrap();
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap();
    let url = format!("https://{}/v1/events", s.addr);
    let headers =
        tollgate::httpsig::sign_request(&signer, "GET", &url, b"", time::OffsetDateTime::now_utc())
            .unwrap();
    let mut request = http.get(&url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let response = runtime.block_on(request.send()).unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    response
}

/// Reads the stream until `wanted` is in it (10 s at most).
fn read_until(
    runtime: &tokio::runtime::Runtime,
    response: &mut reqwest::Response,
    wanted: &str,
) -> String {
    let mut seen = String::new();
    runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !seen.contains(wanted) {
            let chunk = tokio::time::timeout_at(deadline, response.chunk())
                .await
                .unwrap_or_else(|_| panic!("{wanted:?} within 10 s; saw {seen:?}"))
                .unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
    });
    seen
}

fn request_web(s: &Served, version: &str) {
    let digest = tollgate::digest::Digest::of(version.as_bytes()).to_string();
    s.expect(
        0,
        "ci-main",
        &[
            "promote",
            "request",
            "--service",
            "web",
            "--version",
            version,
            "--digest",
            &digest,
            "--to",
            "dev",
        ],
    );
}

#[test]
fn the_events_stream_announces_new_checkpoints() {
    let world = World::new();
    let s = Served::start(&world, Db::Sqlite);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut response = open_events(&s, &runtime, None);
    // The current checkpoint comes at once, its tree size as the event id.
    read_until(&runtime, &mut response, "id: 0");
    request_web(&s, "1");
    let seen = read_until(&runtime, &mut response, "id: 1");
    assert!(seen.contains("event: checkpoint"), "{seen}");
    assert!(seen.contains("data: audit.test/tollgate"), "{seen}");
}

#[test]
fn a_new_subscriber_gets_the_current_checkpoint_and_resumes_from_last_event_id() {
    let world = World::new();
    let s = Served::start(&world, Db::Sqlite);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    request_web(&s, "1");
    request_web(&s, "2");
    // Nothing new is committed: a new subscriber still learns size 2.
    let mut fresh = open_events(&s, &runtime, None);
    let seen = read_until(&runtime, &mut fresh, "id: 2");
    assert!(seen.contains("data: 2"), "{seen}");
    // Resuming from size 2: no repeat of it, the next commit is size 3.
    let mut resumed = open_events(&s, &runtime, Some(2));
    request_web(&s, "3");
    let seen = read_until(&runtime, &mut resumed, "id: 3");
    assert!(!seen.contains("id: 2"), "{seen}");
}

#[test]
fn an_unreachable_store_exits_3() {
    let world = World::new();
    let mut s = Served::start(&world, Db::Sqlite);
    s.expect(0, "bob", &["status"]);
    s.stop();
    // Nothing verified cached (carol never synced): exit 3.
    let out = s.expect(3, "carol", &["status"]);
    assert!(out.to_lowercase().contains("reach"), "{out}");
    // Bob's verified cache answers, marked as such (tests/e2e/cache.rs).
    let out = s.expect(0, "bob", &["status"]);
    assert!(out.contains("as of checkpoint 0"), "{out}");
}
