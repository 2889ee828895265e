//! The full promotion flow, driven through the CLI against a running
//! `tollgate serve` over real HTTPS, on SQLite and on PostgreSQL: CI requests
//! and submits gates and a snapshot, two operators with distinct roles
//! approve, readiness flips, deployments are recorded, and a rollback works.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::World;
use common::receiver::Receiver;
use common::served::{Db, Served, passing_evidence};
use tollgate::digest::Digest;
use tollgate::keys::vkey::NoteVerifierKey;

fn digest(name: &str) -> String {
    Digest::of(name.as_bytes()).to_string()
}

/// Requests `artifact` into `to` and returns the promotion id.
fn request(s: &Served, artifact: &str, version: &str, from: Option<&str>, to: &str) -> String {
    let d = digest(artifact);
    let mut args = vec![
        "promote",
        "request",
        "--service",
        "payments",
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
    args.extend([
        "--repo",
        "git@example.com:payments.git",
        "--commit",
        "4f2a9c1",
    ]);
    Served::entry_id(&s.expect(0, "ci-main", &args))
}

fn pass(s: &Served, promotion: &str, gate: &str) {
    s.pass_gate(promotion, gate);
}

fn deployed(s: &Served, id: &str) {
    s.expect(0, "ci-main", &["deployed", id, "--status", "succeeded"]);
}

/// Takes `artifact` from dev through staging into prod.
fn ship(s: &Served, artifact: &str, version: &str) -> String {
    let dev = request(s, artifact, version, None, "dev");
    pass(s, &dev, "unit-tests");
    deployed(s, &dev);
    let staging = request(s, artifact, version, Some("dev"), "staging");
    pass(s, &staging, "unit-tests");
    s.expect(
        0,
        "alice",
        &[
            "approve",
            &staging,
            "--role",
            "release-manager",
            "--rationale",
            "staging soak is clean",
        ],
    );
    deployed(s, &staging);
    let prod = request(s, artifact, version, Some("staging"), "prod");
    pass(s, &prod, "unit-tests");
    pass(s, &prod, "sast");
    prod
}

fn wait_for_event(hooks: &Receiver, event: &str) -> common::receiver::Received {
    for _ in 0..150 {
        if let Some(found) = hooks.received().into_iter().find(|r| r.event == event) {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "no `{event}` notification within 15 s; got {:?}",
        hooks
            .received()
            .iter()
            .map(|r| &r.event)
            .collect::<Vec<_>>()
    );
}

fn full_flow(db: Db) {
    let world = World::new();
    // The receiver refuses its first delivery: the store must retry.
    let hooks = Receiver::start(1);
    let s = Served::start_with(
        &world,
        db,
        &format!(
            "[[hooks]]\nurl = \"{}\"\npin = \"{}\"\n",
            hooks.url, hooks.pin
        ),
    );

    // Evidence travels with a gate result.
    let dev = request(&s, "payments-1.0.0", "1.0.0", None, "dev");
    // The status is computed from the report: a report without test cases
    // cannot pass, and --status is refused for a junit gate.
    let empty = s.path().join("empty.xml");
    std::fs::write(&empty, "<testsuite tests=\"3\" failures=\"0\"/>").unwrap();
    let empty = empty.to_str().unwrap();
    s.expect(
        2,
        "ci-main",
        &[
            "gate",
            "submit",
            &dev,
            "--gate",
            "unit-tests",
            "--status",
            "pass",
            empty,
        ],
    );
    let out = s.expect(
        0,
        "ci-main",
        &["gate", "submit", &dev, "--gate", "unit-tests", empty],
    );
    assert!(out.contains("FAIL"), "{out}");
    let report = passing_evidence("unit-tests").display().to_string();
    s.expect(
        0,
        "ci-main",
        &[
            "gate",
            "submit",
            &dev,
            "--gate",
            "unit-tests",
            "--summary",
            "3 tests",
            &report,
        ],
    );
    deployed(&s, &dev);

    let staging = request(&s, "payments-1.0.0", "1.0.0", Some("dev"), "staging");
    pass(&s, &staging, "unit-tests");
    s.expect(
        0,
        "alice",
        &[
            "approve",
            &staging,
            "--role",
            "release-manager",
            "--rationale",
            "staging soak is clean",
        ],
    );
    deployed(&s, &staging);

    let prod = request(&s, "payments-1.0.0", "1.0.0", Some("staging"), "prod");
    pass(&s, &prod, "unit-tests");
    pass(&s, &prod, "sast");
    let config = s.path().join("prod.yaml");
    std::fs::write(&config, "replicas: 3\nopenssl: 3.0.13\n").unwrap();
    let flags = s.path().join("flags.json");
    std::fs::write(&flags, r#"{"new-checkout": false}"#).unwrap();
    let artifact = digest("payments-0.9.0");
    s.expect(
        0,
        "ci-main",
        &[
            "snapshot",
            "submit",
            "--env",
            "prod",
            "--service",
            "payments",
            "--artifact",
            &artifact,
            "--flags",
            flags.to_str().unwrap(),
            config.to_str().unwrap(),
        ],
    );

    // Blocked until two people with distinct roles approve.
    let blocked = s.expect(1, "alice", &["status", &prod]);
    assert!(
        blocked.contains("needs 1 more approval from role release-manager"),
        "{blocked}"
    );
    assert!(
        blocked.contains("needs 1 more approval from role security"),
        "{blocked}"
    );

    // The requester's pipeline key cannot approve, and alice cannot claim security.
    let wrong_role = s.expect(
        1,
        "alice",
        &[
            "approve",
            &prod,
            "--role",
            "security",
            "--rationale",
            "lgtm",
        ],
    );
    assert!(
        wrong_role.contains("does not hold role `security`"),
        "{wrong_role}"
    );

    s.expect(
        0,
        "alice",
        &[
            "approve",
            &prod,
            "--role",
            "release-manager",
            "--rationale",
            "release notes reviewed",
        ],
    );
    let half = s.expect(1, "dana", &["status", &prod]);
    assert!(!half.contains("from role release-manager"), "{half}");
    s.expect(
        0,
        "dana",
        &[
            "approve",
            &prod,
            "--role",
            "security",
            "--rationale",
            "SAST clean, SBOM licences allowed",
        ],
    );
    let ready = s.expect(0, "carol", &["status", &prod]);
    assert!(ready.contains("ready"), "{ready}");
    let event = format!("promotion-ready:{prod}");
    let received = wait_for_event(&hooks, &event);
    let log_key: NoteVerifierKey = s.vkey.parse().unwrap();
    assert!(
        tollgate::store::hooks::verify(log_key.key(), &received.body, &received.signature),
        "the notification is signed by the log key"
    );
    let body: serde_json::Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(body["notification"]["environment"], "prod");
    deployed(&s, &prod);
    // `status` is a gate for scripts: a deployed promotion may not be
    // deployed again.
    let done = s.expect(1, "carol", &["status", &prod]);
    assert!(done.contains("[deployed]"), "{done}");

    // A second release reaches prod, then on-call rolls back to the first.
    let prod2 = ship(&s, "payments-1.1.0", "1.1.0");
    s.expect(
        0,
        "erin",
        &[
            "approve",
            &prod2,
            "--role",
            "release-manager",
            "--rationale",
            "ok",
        ],
    );
    s.expect(
        0,
        "bob",
        &["approve", &prod2, "--role", "security", "--rationale", "ok"],
    );
    deployed(&s, &prod2);
    let rollback = s.expect(
        0,
        "carol",
        &[
            "rollback",
            "--env",
            "prod",
            "--service",
            "payments",
            "--role",
            "oncall",
            "--rationale",
            "p99 latency doubled after 1.1.0",
        ],
    );
    assert!(
        rollback.contains(&Digest::of(b"payments-1.0.0").short()),
        "rolls back to the last known good:\n{rollback}"
    );
    let rollback_id = Served::entry_id(&rollback);
    wait_for_event(&hooks, &format!("rollback-accepted:{rollback_id}"));
    deployed(&s, &rollback_id);

    // Anyone can verify the whole log, and it folds to the same story.
    let out = s.run("bob", &["log", "verify", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verified: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verified["verified"], true);
    assert_eq!(
        // 29 plus the computed `fail` of the empty JUnit report.
        verified["size"],
        30,
        "every statement of the flow is in the log: {verified}"
    );
    assert_eq!(
        verified["ignored_entries"], 0,
        "the store accepted nothing the fold refuses"
    );
    assert_eq!(verified["findings"], serde_json::json!([]), "{verified}");
    let status = s.expect(0, "bob", &["status", "--json"]);
    assert!(status.contains(&prod2), "{status}");

    // CI alone reports a staging deployment nobody approved: recorded, but
    // an audit finding, and not a successful run for prod.
    let dev3 = request(&s, "payments-1.2.0", "1.2.0", None, "dev");
    pass(&s, &dev3, "unit-tests");
    deployed(&s, &dev3);
    let staging3 = request(&s, "payments-1.2.0", "1.2.0", Some("dev"), "staging");
    pass(&s, &staging3, "unit-tests");
    let unapproved = Served::entry_id(&s.expect(
        0,
        "ci-main",
        &["deployed", &staging3, "--status", "succeeded"],
    ));
    let out = s.run("bob", &["log", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let verified: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verified["findings"][0]["kind"], "unapproved deployment");
    assert_eq!(verified["findings"][0]["deployment"], unapproved.as_str());
    let listed = s.expect(0, "bob", &["status"]);
    assert!(
        listed.contains(&format!("unapproved deployment {unapproved}")),
        "{listed}"
    );
    let prod3 = request(&s, "payments-1.2.0", "1.2.0", Some("staging"), "prod");
    let blocked = s.expect(1, "bob", &["status", &prod3]);
    assert!(
        blocked.contains("has not been deployed to staging yet"),
        "{blocked}"
    );

    // Every delivery attempt is recorded: the refused first one, then the retry.
    let database = match &s.db {
        Db::Sqlite => tollgate::store::DatabaseUrl::Sqlite(s.server_data().join("store.db")),
        Db::Postgres { url, schema } => {
            tollgate::store::DatabaseUrl::parse(url).with_schema(schema)
        }
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let read = || {
        runtime.block_on(async {
            let storage = tollgate::store::Storage::connect(&database).await.unwrap();
            let deliveries = storage.hook_deliveries().await.unwrap();
            storage.close().await;
            deliveries
        })
    };
    // The retry waits a second of backoff; give it (bounded) time.
    let mut deliveries = read();
    for _ in 0..100 {
        let retried = deliveries.first().is_some_and(|first| {
            deliveries
                .iter()
                .any(|d| d.event == first.event && d.attempt == 2)
        });
        if retried {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(150));
        deliveries = read();
    }
    let first = &deliveries[0];
    assert_eq!(
        (first.attempt, first.status),
        (1, Some(503)),
        "{deliveries:?}"
    );
    let retry = deliveries
        .iter()
        .find(|d| d.event == first.event && d.attempt == 2)
        .unwrap_or_else(|| panic!("a retry: {deliveries:#?}"));
    assert_eq!(retry.status, Some(204));
    assert!(deliveries.iter().any(|d| d.event == format!("rollback-accepted:{rollback_id}") && d.status == Some(204)));
}

/// Gated and deployed in quick succession: ready for only a moment, yet
/// notified, exactly once (on PostgreSQL with two store instances), and not
/// again after a restart.
fn a_moment_of_readiness_is_notified_once(db: Db) {
    use std::sync::Arc;
    use tollgate::client::config::{Trust, parse_pin};
    use tollgate::client::http::StoreClient;
    use tollgate::statement::GateStatus;

    let mut world = World::new();
    let hooks = Receiver::start(0);
    let mut s = Served::start_with(
        &world,
        db,
        &format!(
            "[[hooks]]\nurl = \"{}\"\npin = \"{}\"\n",
            hooks.url, hooks.pin
        ),
    );
    // On PostgreSQL, a second instance with the same hooks on the same
    // database: a notification is still sent once, not once per instance.
    let twin = matches!(s.db, Db::Postgres { .. }).then(|| s.start_twin());
    let signer =
        tollgate::keys::file::read(&s.path().join("people").join("ci-main").join("key")).unwrap();
    let trust = Trust::Pin(parse_pin(&s.pin).unwrap());
    let client =
        StoreClient::with_trust(&format!("https://{}", s.addr), &trust, Arc::new(signer)).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let flash = |world: &mut World, name: &str| {
        world.clock = time::OffsetDateTime::now_utc();
        let promotion = world.request("ci-main", "flash", Digest::of(name.as_bytes()), None, "dev");
        world.gate(promotion, "unit-tests", GateStatus::Pass);
        world.deployed(promotion, true);
        let sent = world.envelopes.len() - 3;
        // Back to back, no pause: ready between the gate and the deployment.
        for envelope in &world.envelopes[sent..] {
            runtime.block_on(client.submit(envelope.to_json())).unwrap();
        }
        format!("promotion-ready:{promotion}")
    };
    let first = flash(&mut world, "flash-1");
    wait_for_event(&hooks, &first);

    s.stop();
    s.restart();
    // After the restart, the next one is notified; the first is not again.
    // On PostgreSQL it is written through the twin, whose hooks then fold
    // past the first one too.
    let addr = twin.unwrap_or_else(|| s.addr.clone());
    let client = StoreClient::with_trust(
        &format!("https://{addr}"),
        &trust,
        Arc::new(
            tollgate::keys::file::read(&s.path().join("people").join("ci-main").join("key"))
                .unwrap(),
        ),
    )
    .unwrap();
    world.clock = time::OffsetDateTime::now_utc();
    let promotion = world.request("ci-main", "flash", Digest::of(b"flash-2"), None, "dev");
    world.gate(promotion, "unit-tests", GateStatus::Pass);
    for envelope in &world.envelopes[world.envelopes.len() - 2..] {
        runtime.block_on(client.submit(envelope.to_json())).unwrap();
    }
    wait_for_event(&hooks, &format!("promotion-ready:{promotion}"));
    let events: Vec<String> = hooks.received().into_iter().map(|r| r.event).collect();
    assert_eq!(
        events.iter().filter(|e| **e == first).count(),
        1,
        "exactly one notification of the first promotion: {events:?}"
    );
    assert_eq!(events.len(), 2, "{events:?}");
}

#[test]
fn a_moment_of_readiness_is_notified_once_on_sqlite() {
    a_moment_of_readiness_is_notified_once(Db::Sqlite);
}

#[test]
fn a_moment_of_readiness_is_notified_once_on_postgres() {
    if let Some(db) = Db::postgres() {
        a_moment_of_readiness_is_notified_once(db);
    }
}

#[test]
fn full_flow_on_sqlite() {
    full_flow(Db::Sqlite);
}

#[test]
fn full_flow_on_postgres() {
    if let Some(db) = Db::postgres() {
        full_flow(db);
    }
}
