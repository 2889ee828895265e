//! The cockpit in a pseudo-terminal against a real store that misbehaves:
//! a store that forks its log raises the banner; a store that is down
//! leaves a decision queued in the outbox (shown in the header), delivered
//! once when the store returns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use crate::common::World;
use crate::common::pty::Pty;
use crate::common::served::{Db, Served};

/// The cockpit as `persona` of `s`.
fn cockpit(s: &Served, persona: &str) -> Pty {
    let root: PathBuf = s.data_path(persona).parent().unwrap().to_path_buf();
    Pty::start(
        &[],
        &[
            ("TOLLGATE_CONFIG_DIR", &root.join("config")),
            ("TOLLGATE_DATA_DIR", &root.join("data")),
            ("TOLLGATE_CACHE_DIR", &root.join("cache")),
        ],
    )
}

fn send_requests(s: &Served, range: std::ops::Range<usize>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ci = s.client("ci-main");
    for n in range {
        runtime.block_on(ci.submit(s.request_envelope(n))).unwrap();
    }
}

#[test]
fn a_store_that_forks_its_log_raises_the_banner() {
    let world = World::new();
    let mut s = Served::start(&world, Db::Sqlite);
    send_requests(&s, 0..2);
    let cockpit = cockpit(&s, "alice");
    cockpit.wait_for("log 2");
    // The operator deletes the log and writes another history under the
    // same log key.
    s.wipe_database();
    send_requests(&s, 100..103);
    let screen = cockpit.wait_for("ALARM — the audit log cannot be trusted");
    assert!(screen.contains("evidence"), "{screen}");
    cockpit.quit();
}

#[test]
fn a_decision_made_while_the_store_is_down_waits_in_the_outbox_and_arrives_once() {
    let world = World::new();
    let mut s = Served::start(&world, Db::Sqlite);
    let staging = s.staging_waiting_for_approval();

    let mut cockpit = cockpit(&s, "alice");
    cockpit.wait_for("payments 1.4.2 → staging");
    s.stop();
    cockpit.send(b"a");
    cockpit.wait_for("Rationale");
    cockpit.send(b"approved during the outage");
    cockpit.send(b"\r");
    cockpit.wait_for("Yes, sign it");
    cockpit.send(b"\t");
    cockpit.send(b"\r");
    // Signed and on disk; the header says it waits.
    cockpit.wait_for("outbox 1q 0s 0r");
    s.restart();
    cockpit.wait_for("outbox 0q 1s 0r");
    cockpit.quit();
    // Delivered exactly once: one approval, and the promotion is ready.
    s.expect(0, "alice", &["status", &staging]);
    let json = s.expect(0, "alice", &["status", &staging, "--json"]);
    let value: serde_json::Value =
        serde_json::from_str(&json[..=json.rfind('}').unwrap()]).unwrap();
    let approvals = value["promotions"][0]["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 1, "{value:#}");
}

#[test]
fn with_the_store_down_the_cockpit_shows_the_verified_cache_as_of_its_checkpoint() {
    let world = World::new();
    let mut s = Served::start(&world, Db::Sqlite);
    send_requests(&s, 0..3);
    // alice's last sync verified and cached 3 entries.
    s.expect(0, "alice", &["log", "verify"]);
    s.stop();
    let cockpit = cockpit(&s, "alice");
    cockpit.wait_for("log 3");
    cockpit.wait_for("as of checkpoint 3");
    cockpit.wait_for("web 1.0.2 → dev");
    cockpit.quit();
}
