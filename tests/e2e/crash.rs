//! Crashes and a lying store, against the real binary over HTTPS:
//! - kill -9 during 32 concurrent writers: every acknowledged entry survives,
//!   `log verify` passes, and the new checkpoint is consistent with every
//!   checkpoint handed out before the crash;
//! - a store that forks or rewinds its log is caught by `log verify`, which
//!   saves the evidence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::World;
use common::served::{Db, Served};
use tollgate::client::config::{Trust, parse_pin};
use tollgate::client::http::StoreClient;
use tollgate::digest::Digest;
use tollgate::envelope::Envelope;
use tollgate::keys::file;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::{SignedCheckpoint, verify_consistency};

/// What a writer was told: entry id, index, and the checkpoint handed out.
type Acks = Arc<Mutex<Vec<(Digest, u64, Vec<u8>)>>>;

fn crash_during_concurrent_writes(db: Db, graceful: bool) {
    let world = World::new();
    let mut s = Served::start(&world, db);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let acks: Acks = Arc::default();
    let writers: Vec<_> = (0..32)
        .map(|w| {
            let client = s.client("ci-main");
            let envelopes: Vec<Vec<u8>> =
                (0..400).map(|i| s.request_envelope(w * 1000 + i)).collect();
            let acks = acks.clone();
            runtime.spawn(async move {
                for envelope in envelopes {
                    match client.submit(envelope).await {
                        Ok(receipt) => acks.lock().unwrap().push((
                            receipt.entry_id,
                            receipt.index,
                            receipt.checkpoint.into_bytes(),
                        )),
                        // The store died under us: stop, as a real client would (and retry later).
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    // Let the writers get going, then kill -9 in the middle of the stream.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while acks.lock().unwrap().len() < 300 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    if graceful {
        let status = s.stop();
        assert!(
            status.success(),
            "SIGTERM ends the store cleanly: {status:?}\n{}",
            s.log()
        );
    } else {
        s.kill9();
    }
    for writer in writers {
        runtime.block_on(writer).unwrap();
    }
    let acked = acks.lock().unwrap().clone();
    assert!(
        acked.len() >= 300,
        "the writers made progress before the crash ({} acks)",
        acked.len()
    );

    s.restart();
    let out = s.expect(0, "bob", &["log", "verify", "--json"]);
    let verified: serde_json::Value = serde_json::from_str(&out).unwrap();
    let size = verified["size"].as_u64().unwrap();
    assert!(size >= acked.len() as u64);

    // Every acknowledged entry is in the log at the index it was given.
    let reader = s.client("bob");
    let entries = runtime.block_on(reader.entries(0, size)).unwrap();
    let ids: BTreeMap<Digest, u64> = entries
        .iter()
        .enumerate()
        .map(|(i, bytes)| (Envelope::from_json(bytes).unwrap().entry_id(), i as u64))
        .collect();
    for (id, index, _) in &acked {
        assert_eq!(
            ids.get(id),
            Some(index),
            "acknowledged entry {id} lost or moved"
        );
    }

    // The new checkpoint is consistent with every checkpoint handed out.
    let vkey: NoteVerifierKey = s.vkey.parse().unwrap();
    let latest_bytes = runtime.block_on(reader.checkpoint()).unwrap();
    let latest = SignedCheckpoint::parse_and_verify(&latest_bytes, &vkey).unwrap();
    let latest = latest.checkpoint();
    let mut handed_out: BTreeMap<u64, [u8; 32]> = BTreeMap::new();
    for (_, _, bytes) in &acked {
        let c = SignedCheckpoint::parse_and_verify(bytes, &vkey).unwrap();
        let previous = handed_out.insert(c.checkpoint().size, c.checkpoint().root);
        assert!(
            previous.is_none_or(|root| root == c.checkpoint().root),
            "two roots for one size"
        );
    }
    for (old_size, old_root) in handed_out {
        let proof = runtime
            .block_on(reader.consistency_proof(old_size, latest.size))
            .unwrap();
        verify_consistency(old_size, latest.size, &old_root, &latest.root, &proof).unwrap_or_else(
            |e| {
                panic!(
                    "checkpoint {old_size} is not a prefix of {}: {e}",
                    latest.size
                )
            },
        );
    }
}

#[test]
fn kill9_during_32_writers_on_sqlite() {
    crash_during_concurrent_writes(Db::Sqlite, false);
}

#[test]
fn sigterm_during_32_writers_finishes_what_it_acknowledged() {
    crash_during_concurrent_writes(Db::Sqlite, true);
}

#[test]
fn kill9_during_32_writers_on_postgres() {
    if let Some(db) = Db::postgres() {
        crash_during_concurrent_writes(db, false);
    }
}

fn submit_requests(s: &Served, count: usize, tag: &str) {
    for n in 0..count {
        let digest = Digest::of(format!("{tag}-{n}").as_bytes()).to_string();
        s.expect(
            0,
            "ci-main",
            &[
                "promote",
                "request",
                "--service",
                "web",
                "--version",
                tag,
                "--digest",
                &digest,
                "--to",
                "dev",
            ],
        );
    }
}

fn alarm_files(s: &Served, persona: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(s.data_path(persona).join("evidence"))
        .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default()
}

fn forked_history_is_caught(db: Db, replayed: usize) {
    let world = World::new();
    let mut s = Served::start(&world, db);
    submit_requests(&s, 3, "original");
    s.expect(0, "bob", &["log", "verify"]);
    assert!(alarm_files(&s, "bob").is_empty());

    s.wipe_database();
    // The operator writes another history straight to the store (any client
    // that had synced would refuse to take part: it raises the alarm too).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let writer = s.client("ci-main");
    for n in 0..replayed {
        runtime
            .block_on(writer.submit(s.request_envelope(10_000 + n)))
            .unwrap();
    }
    let out = s.expect(1, "bob", &["log", "verify"]);
    assert!(out.contains("ALARM"), "{out}");
    let evidence = alarm_files(&s, "bob");
    assert_eq!(evidence.len(), 1, "the evidence is saved: {out}");
    let report = std::fs::read_to_string(&evidence[0]).unwrap();
    // Both signed checkpoints are in the report, so it stands on its own.
    assert!(
        report.matches("audit.test/tollgate\n").count() >= 2,
        "{report}"
    );
    // The alarm repeats: the client never silently accepts the new history.
    s.expect(1, "bob", &["log", "verify"]);
}

#[test]
fn a_store_that_rewrites_its_log_at_the_same_size_is_caught_on_sqlite() {
    forked_history_is_caught(Db::Sqlite, 3);
}

#[test]
fn a_store_that_forks_its_log_to_a_longer_history_is_caught_on_postgres() {
    if let Some(db) = Db::postgres() {
        forked_history_is_caught(db, 5);
    }
}

#[test]
fn a_store_that_rewinds_its_log_is_caught_on_sqlite() {
    forked_history_is_caught(Db::Sqlite, 1);
}

#[test]
fn two_store_processes_on_one_postgres_database_keep_one_log() {
    let world = World::new();
    let Some(db) = Db::postgres() else { return };
    let mut s = Served::start(&world, db);
    let twin = s.start_twin();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let signer = Arc::new(file::read(&s.path().join("people/ci-main/key")).unwrap());
    let trust = Trust::Pin(parse_pin(&s.pin).unwrap());
    let acks: Acks = Arc::default();
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let addr = if w % 2 == 0 {
                s.addr.clone()
            } else {
                twin.clone()
            };
            let client =
                StoreClient::with_trust(&format!("https://{addr}"), &trust, signer.clone())
                    .unwrap();
            let envelopes: Vec<Vec<u8>> =
                (0..40).map(|i| s.request_envelope(w * 1000 + i)).collect();
            let acks = acks.clone();
            runtime.spawn(async move {
                for envelope in envelopes {
                    let receipt = client.submit(envelope).await.unwrap();
                    acks.lock().unwrap().push((
                        receipt.entry_id,
                        receipt.index,
                        receipt.checkpoint.into_bytes(),
                    ));
                }
            })
        })
        .collect();
    for writer in writers {
        runtime.block_on(writer).unwrap();
    }
    let acked = acks.lock().unwrap().clone();
    assert_eq!(acked.len(), 640);
    let mut indexes: Vec<u64> = acked.iter().map(|(_, i, _)| *i).collect();
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(indexes.len(), 640, "no index was handed out twice");

    // Every checkpoint either process signed is a prefix of the final tree.
    let vkey: NoteVerifierKey = s.vkey.parse().unwrap();
    let reader = s.client("bob");
    // The twin may need a moment to catch up on the other's last commit.
    std::thread::sleep(Duration::from_millis(1500));
    let latest =
        SignedCheckpoint::parse_and_verify(&runtime.block_on(reader.checkpoint()).unwrap(), &vkey)
            .unwrap();
    let latest = latest.checkpoint().clone();
    assert_eq!(latest.size, 640);
    for (_, _, bytes) in &acked {
        let c = SignedCheckpoint::parse_and_verify(bytes, &vkey).unwrap();
        let c = c.checkpoint();
        let proof = runtime
            .block_on(reader.consistency_proof(c.size, latest.size))
            .unwrap();
        verify_consistency(c.size, latest.size, &c.root, &latest.root, &proof).unwrap();
    }
    let out = s.expect(0, "bob", &["log", "verify", "--json"]);
    let verified: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(verified["size"], 640);
}

/// Item 1 of issue 6: a `reject` the store acknowledged cannot vanish. The
/// receipt's checkpoint becomes the signer's trusted one, so a store that
/// drops the row and grows its log past it is caught (ALARM, exit 1,
/// evidence saved) by the signer's next `log verify`.
fn an_acknowledged_reject_cannot_vanish(db: Db) {
    let world = World::new();
    let mut s = Served::start(&world, db);
    let digest = Digest::of(b"web-1").to_string();
    let request = |to: &str, from: Option<&str>| {
        let mut args = vec![
            "promote",
            "request",
            "--service",
            "web",
            "--version",
            "1",
            "--digest",
            &digest,
            "--to",
            to,
        ];
        if let Some(from) = from {
            args.extend(["--from", from]);
        }
        Served::entry_id(&s.expect(0, "ci-main", &args))
    };
    let dev = request("dev", None);
    s.pass_gate(&dev, "unit-tests");
    s.expect(0, "ci-main", &["deployed", &dev, "--status", "succeeded"]);
    let staging = request("staging", Some("dev"));
    let reject = s.expect(
        0,
        "alice",
        &["reject", &staging, "--rationale", "licence problem"],
    );
    let reject_id = Served::entry_id(&reject);
    // A rejected promotion may not be deployed: `status` says so in its exit code.
    let rejected = s.expect(1, "carol", &["status", &staging]);
    assert!(rejected.contains("[rejected]"), "{rejected}");
    // The receipt's checkpoint is already trusted: nothing new to extend.
    let same = s.expect(0, "alice", &["log", "verify"]);
    assert!(
        same.contains("Same"),
        "the receipt advanced the checkpoint: {same}"
    );
    assert!(
        std::fs::read_to_string(
            s.data_path("alice")
                .join("submitted/audit.test_tollgate.txt")
        )
        .unwrap()
        .contains(&reject_id),
        "the submitted entry is remembered"
    );

    // The operator drops the reject and lets the log grow past it.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reader = s.client("ci-main");
    let size = 5;
    let entries = runtime.block_on(reader.entries(0, size)).unwrap();
    assert_eq!(entries.len(), 5);
    let kept: Vec<Vec<u8>> = entries
        .into_iter()
        .filter(|e| Envelope::from_json(e).unwrap().entry_id().to_string() != reject_id)
        .collect();
    assert_eq!(kept.len(), 4, "the reject was the last entry");
    s.wipe_database();
    let writer = s.client("ci-main");
    for entry in kept {
        runtime.block_on(writer.submit(entry)).unwrap();
    }
    for n in 0..3 {
        runtime
            .block_on(writer.submit(s.request_envelope(20_000 + n)))
            .unwrap();
    }
    // Everyone else sees a log that extends what they saw ...
    s.expect(0, "bob", &["log", "verify"]);
    // ... but the signer of the reject holds the store's signed word for it.
    let out = s.expect(1, "alice", &["log", "verify"]);
    assert!(out.contains("ALARM"), "{out}");
    let evidence = alarm_files(&s, "alice");
    assert_eq!(evidence.len(), 1, "the evidence is saved: {out}");
    let report = std::fs::read_to_string(&evidence[0]).unwrap();
    assert!(
        report.matches("audit.test/tollgate\n").count() >= 2,
        "the receipt's checkpoint and the new one: {report}"
    );
    s.expect(1, "alice", &["log", "verify"]);
}

#[test]
fn an_acknowledged_reject_cannot_vanish_on_sqlite() {
    an_acknowledged_reject_cannot_vanish(Db::Sqlite);
}

#[test]
fn an_acknowledged_reject_cannot_vanish_on_postgres() {
    if let Some(db) = Db::postgres() {
        an_acknowledged_reject_cannot_vanish(db);
    }
}

#[test]
fn reads_through_another_instance_never_show_a_smaller_log_than_a_receipt() {
    let world = World::new();
    let Some(db) = Db::postgres() else { return };
    let mut s = Served::start(&world, db);
    let twin = s.start_twin();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let writer = s.client("ci-main");
    let signer = Arc::new(file::read(&s.path().join("people/bob/key")).unwrap());
    let trust = Trust::Pin(parse_pin(&s.pin).unwrap());
    let reader = StoreClient::with_trust(&format!("https://{twin}"), &trust, signer).unwrap();
    let vkey: NoteVerifierKey = s.vkey.parse().unwrap();
    let mut behind = Vec::new();
    for n in 0..40 {
        let receipt = runtime
            .block_on(writer.submit(s.request_envelope(n)))
            .unwrap();
        let acked = SignedCheckpoint::parse_and_verify(&receipt.checkpoint.into_bytes(), &vkey)
            .unwrap()
            .checkpoint()
            .size;
        // Immediately after the acknowledgment, through the other instance:
        // the checkpoint, a consistency proof up to the receipt's tree and
        // the acknowledged entry itself.
        let seen = SignedCheckpoint::parse_and_verify(
            &runtime.block_on(reader.checkpoint()).unwrap(),
            &vkey,
        )
        .unwrap()
        .checkpoint()
        .size;
        if seen < acked {
            behind.push((n, seen, acked));
        }
        runtime
            .block_on(reader.consistency_proof(1, acked))
            .unwrap();
        let entries = runtime
            .block_on(reader.entries(receipt.index, receipt.index + 1))
            .unwrap();
        assert_eq!(entries.len(), 1);
    }
    assert!(
        behind.is_empty(),
        "the other instance served a smaller log than acknowledged: {behind:?}"
    );
}
