//! Witnesses against the real binaries over HTTPS (`tollgate witness` ×2,
//! `tollgate serve` on SQLite and PostgreSQL, the CLI as a fresh client):
//! - every receipt and the served checkpoint carry both cosignatures, and a
//!   client that never synced accepts them;
//! - a rewound log re-signed with the real log key is refused by the
//!   witnesses (409), so the store cannot get it cosigned, and a fresh
//!   client with witness_quorum = 2 refuses it (a refusal, not an alarm);
//! - kill -9 of a witness while entries are appended loses nothing: every
//!   acknowledged entry is present and cosigned after it restarts, and the
//!   restarted witness refuses to go backwards;
//! - kill -9 of the store while witnesses cosign loses no acknowledged
//!   entry, and the restarted store serves them under a cosigned checkpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::World;
use common::served::{Db, Served, bin};
use tollgate::client::config::{Trust, parse_pin};
use tollgate::client::http::{StoreClient, tls_config};
use tollgate::digest::Digest;
use tollgate::keys::file;
use tollgate::ledger::cosignature::{CosignerKey, check_quorum};
use tollgate::ledger::{Checkpoint, SignedCheckpoint, leaf_hash};

/// A running `tollgate witness` with its own data directory.
struct WitnessProc {
    dir: tempfile::TempDir,
    name: String,
    log_vkey: String,
    child: Option<Child>,
    addr: String,
    pin: String,
    vkey: String,
}

impl WitnessProc {
    fn start(name: &str, log_vkey: &str) -> Self {
        let mut w = Self {
            dir: tempfile::tempdir().unwrap(),
            name: name.to_owned(),
            log_vkey: log_vkey.to_owned(),
            child: None,
            addr: String::new(),
            pin: String::new(),
            vkey: String::new(),
        };
        w.launch("127.0.0.1:0");
        w
    }

    fn launch(&mut self, listen: &str) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("witness.log"))
            .unwrap();
        let mut child = Command::new(bin())
            .args(["witness", "--self-signed", "--listen", listen, "--name"])
            .arg(&self.name)
            .args(["--log", &self.log_vkey])
            .env("TOLLGATE_DATA_DIR", self.dir.path().join("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let value = |line: &str, key: &str| {
            line.strip_prefix(key)
                .map(|rest| rest.trim().trim_matches('"').to_owned())
        };
        loop {
            let Some(Ok(line)) = lines.next() else {
                let log = std::fs::read_to_string(self.dir.path().join("witness.log"))
                    .unwrap_or_default();
                panic!("tollgate witness exited before it was ready:\n{log}");
            };
            if let Some(v) = value(&line, "url = ") {
                v.trim_start_matches("https://").clone_into(&mut self.addr);
            } else if let Some(v) = value(&line, "vkey = ") {
                self.vkey = v;
            } else if let Some(v) = value(&line, "pin = ") {
                self.pin = v;
            } else if line.starts_with("witnesses = ") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again from its data directory, on the same address.
    fn restart(&mut self) {
        let addr = self.addr.clone();
        self.launch(&addr);
    }

    fn key(&self) -> CosignerKey {
        self.vkey.parse().unwrap()
    }

    /// POSTs an add-checkpoint body; returns status, content type and body.
    fn add_checkpoint(&self, body: Vec<u8>) -> (u16, String, String) {
        let tls = tls_config(&Trust::Pin(parse_pin(&self.pin).unwrap())).unwrap();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .build()
            .unwrap();
        let url = format!("https://{}/add-checkpoint", self.addr);
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let response = http.post(url).body(body).send().await.unwrap();
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                (status, content_type, response.text().await.unwrap())
            })
    }
}

impl Drop for WitnessProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A store with two witnesses and `witness_quorum = quorum`, for the store
/// and for every persona's client configuration. The witnesses need the
/// log's vkey, which the store prints on its first start, so the store is
/// started once, stopped, configured, and started again.
fn with_witnesses(world: &World, db: Db, quorum: usize) -> (Served, Vec<WitnessProc>) {
    let mut s = Served::start(world, db);
    let witnesses: Vec<WitnessProc> = ["w1.test/witness", "w2.test/witness"]
        .iter()
        .map(|name| WitnessProc::start(name, &s.vkey))
        .collect();
    s.stop();
    let mut serve_toml = format!("witness_quorum = {quorum}\n");
    for w in &witnesses {
        let _ = write!(
            serve_toml,
            "\n[[witnesses]]\nurl = \"https://{}\"\nvkey = \"{}\"\npin = \"{}\"\n",
            w.addr, w.vkey, w.pin
        );
    }
    std::fs::write(s.path().join("serve.toml"), serve_toml).unwrap();
    s.restart();
    let list = witnesses
        .iter()
        .map(|w| format!("\"{}\"", w.vkey))
        .collect::<Vec<_>>()
        .join(", ");
    for name in world.signers.keys() {
        let config = s
            .path()
            .join("people")
            .join(name)
            .join("config/config.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        let _ = write!(text, "witnesses = [{list}]\nwitness_quorum = {quorum}\n");
        std::fs::write(&config, text).unwrap();
    }
    (s, witnesses)
}

fn keys(witnesses: &[WitnessProc]) -> Vec<CosignerKey> {
    witnesses.iter().map(WitnessProc::key).collect()
}

/// An add-checkpoint body.
fn body(old: u64, note: &[u8]) -> Vec<u8> {
    let mut out = format!("old {old}\n\n").into_bytes();
    out.extend_from_slice(note);
    out
}

fn cosigned_receipts_and_checkpoint(db: Db) {
    let world = World::new();
    let (mut s, mut witnesses) = with_witnesses(&world, db, 2);
    let keys = keys(&witnesses);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Concurrent writers: every receipt's checkpoint carries both cosignatures.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let c = s.client("ci-main");
            let envelopes: Vec<_> = (0..5).map(|i| s.request_envelope(w * 100 + i)).collect();
            runtime.spawn(async move {
                let mut receipts = Vec::new();
                for envelope in envelopes {
                    receipts.push(c.submit(envelope).await.unwrap());
                }
                receipts
            })
        })
        .collect();
    for writer in writers {
        for receipt in runtime.block_on(writer).unwrap() {
            assert_eq!(
                check_quorum(receipt.checkpoint.as_bytes(), &keys, 2).unwrap(),
                ["w1.test/witness", "w2.test/witness"]
            );
        }
    }
    // Rough added latency per commit, sequential submissions (reported, not asserted).
    let c = s.client("ci-main");
    let started = Instant::now();
    for n in 0..10 {
        runtime
            .block_on(c.submit(s.request_envelope(1000 + n)))
            .unwrap();
    }
    eprintln!(
        "{}: mean sequential append with 2 witnesses: {:?}",
        s.db.name(),
        started.elapsed() / 10
    );
    let note = runtime.block_on(c.checkpoint()).unwrap();
    let text = String::from_utf8(note.clone()).unwrap();
    assert_eq!(
        text.matches("\n\u{2014} w1.test/witness ").count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.matches("\n\u{2014} w2.test/witness ").count(),
        1,
        "{text}"
    );
    let size: u64 = text.lines().nth(1).unwrap().parse().unwrap();
    assert!(size >= 30, "{text}");
    check_quorum(&note, &keys, 2).unwrap();
    // Fresh clients with witnesses configured: verify, and submit through the CLI.
    s.expect(0, "bob", &["log", "verify"]);
    let digest = Digest::of(b"cli").to_string();
    s.expect(
        0,
        "ci-main",
        &[
            "promote",
            "request",
            "--service",
            "web",
            "--version",
            "2",
            "--digest",
            &digest,
            "--to",
            "dev",
        ],
    );
    // The cosigned checkpoint is stored: restarted while both witnesses are
    // down, the store still serves it, and a fresh client accepts it.
    let served = runtime.block_on(c.checkpoint()).unwrap();
    s.stop();
    for w in &mut witnesses {
        w.kill9();
    }
    s.restart();
    let c = s.client("ci-main");
    assert_eq!(runtime.block_on(c.checkpoint()).unwrap(), served);
    s.expect(0, "dana", &["log", "verify"]);
}

#[test]
fn two_witnesses_cosign_every_receipt_and_checkpoint_on_sqlite() {
    cosigned_receipts_and_checkpoint(Db::Sqlite);
}

#[test]
fn two_witnesses_cosign_every_receipt_and_checkpoint_on_postgres() {
    if let Some(db) = Db::postgres() {
        cosigned_receipts_and_checkpoint(db);
    }
}

fn rewound_log_is_never_cosigned(db: Db) {
    let world = World::new();
    let (mut s, witnesses) = with_witnesses(&world, db, 2);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let c = s.client("ci-main");
    let first = s.request_envelope(1);
    for envelope in [first.clone(), s.request_envelope(2), s.request_envelope(3)] {
        runtime.block_on(c.submit(envelope)).unwrap();
    }
    // The log key itself re-signs the log at a smaller size: the witnesses
    // have cosigned size 3 and refuse it, telling their size.
    let log_signer = file::read(&s.server_data().join("log.key")).unwrap();
    let rewound = SignedCheckpoint::sign(
        &Checkpoint {
            origin: "audit.test/tollgate".into(),
            size: 1,
            root: leaf_hash(&first),
        },
        &log_signer,
    )
    .unwrap();
    for w in &witnesses {
        for old in [0, 1] {
            let (status, content_type, text) = w.add_checkpoint(body(old, rewound.as_bytes()));
            assert_eq!(
                (status, content_type.as_str(), text.as_str()),
                (409, "text/x.tlog.size", "3\n")
            );
        }
        assert_eq!(w.add_checkpoint(body(3, rewound.as_bytes())).0, 400);
    }

    s.wipe_database();
    // The rewound store appends, but cannot get its checkpoint cosigned.
    let err = runtime
        .block_on(c.submit(s.request_envelope(9)))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("503 witnesses_unavailable") && err.contains("not lost"),
        "{err}"
    );
    assert!(err.contains("beyond this checkpoint"), "{err}");
    // A client that never synced, with witness_quorum = 2, refuses it: a
    // refusal (exit 1) naming the witnesses, not an alarm.
    let out = s.expect(1, "dana", &["log", "verify"]);
    assert!(
        out.contains("is refused")
            && out.contains("witness_quorum is 2")
            && out.contains("cosigned by: none; missing: w1.test/witness, w2.test/witness"),
        "{out}"
    );
    assert!(!out.contains("ALARM"), "{out}");
    assert!(!s.data_path("dana").join("evidence").exists());
    // Nothing was saved: it refuses again.
    s.expect(1, "dana", &["log", "verify"]);
}

#[test]
fn a_rewound_log_is_never_cosigned_and_fresh_clients_refuse_it_on_sqlite() {
    rewound_log_is_never_cosigned(Db::Sqlite);
}

#[test]
fn a_rewound_log_is_never_cosigned_and_fresh_clients_refuse_it_on_postgres() {
    if let Some(db) = Db::postgres() {
        rewound_log_is_never_cosigned(db);
    }
}

/// What writers were told: (envelope, index, checkpoint note) when acknowledged.
type Acks = Arc<Mutex<Vec<(Vec<u8>, u64, Vec<u8>)>>>;

fn killed_witness_loses_nothing(db: Db) {
    let world = World::new();
    let (s, mut witnesses) = with_witnesses(&world, db, 2);
    let keys = keys(&witnesses);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let log_vkey = s.vkey.parse().unwrap();
    let initial = runtime.block_on(s.client("bob").checkpoint()).unwrap();
    let initial = SignedCheckpoint::parse_and_verify(&initial, &log_vkey)
        .unwrap()
        .checkpoint()
        .size;
    let acks: Acks = Arc::default();
    let pending: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let c = s.client("ci-main");
            let envelopes: Vec<_> = (0..40).map(|i| s.request_envelope(w * 1000 + i)).collect();
            let (acks, pending) = (acks.clone(), pending.clone());
            runtime.spawn(async move {
                for envelope in envelopes {
                    match c.submit(envelope.clone()).await {
                        Ok(r) => acks.lock().unwrap().push((
                            envelope,
                            r.index,
                            r.checkpoint.into_bytes(),
                        )),
                        Err(e) => {
                            assert!(e.to_string().contains("witnesses_unavailable"), "{e}");
                            pending.lock().unwrap().push(envelope);
                        }
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_mins(1);
    while acks.lock().unwrap().len() < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    witnesses[0].kill9();
    for writer in writers {
        runtime.block_on(writer).unwrap();
    }
    let before = acks.lock().unwrap().len();
    let unacked = pending.lock().unwrap().clone();
    assert!(before >= 40, "progress before the kill: {before}");
    assert!(
        !unacked.is_empty(),
        "appends after the kill were not acknowledged"
    );
    // Nothing was acknowledged without both cosignatures.
    for (_, _, note) in acks.lock().unwrap().iter() {
        check_quorum(note, &keys, 2).unwrap();
    }

    witnesses[0].restart();
    // Retrying the unacknowledged entries: each is committed exactly once
    // and now gets a cosigned receipt.
    let c = s.client("ci-main");
    for envelope in &unacked {
        let r = runtime.block_on(c.submit(envelope.clone())).unwrap();
        check_quorum(r.checkpoint.as_bytes(), &keys, 2).unwrap();
        acks.lock()
            .unwrap()
            .push((envelope.clone(), r.index, r.checkpoint.into_bytes()));
    }
    let acked = acks.lock().unwrap().clone();
    assert_eq!(acked.len(), 8 * 40, "every submission is acknowledged once");
    let note = runtime.block_on(c.checkpoint()).unwrap();
    check_quorum(&note, &keys, 2).unwrap();
    let size = SignedCheckpoint::parse_and_verify(&note, &log_vkey)
        .unwrap()
        .checkpoint()
        .size;
    assert_eq!(size, initial + 8 * 40, "nothing lost, nothing duplicated");
    let entries = runtime.block_on(c.entries(0, size)).unwrap();
    for (envelope, index, _) in &acked {
        assert_eq!(&entries[usize::try_from(*index).unwrap()], envelope);
    }
    s.expect(0, "bob", &["log", "verify"]);

    // The restarted witness remembers: an older checkpoint is refused.
    let (_, _, early) = acked.iter().min_by_key(|(_, index, _)| *index).unwrap();
    let early_size = SignedCheckpoint::parse_and_verify(early, &log_vkey)
        .unwrap()
        .checkpoint()
        .size;
    assert!(early_size < size);
    let (status, content_type, text) = witnesses[0].add_checkpoint(body(early_size, early));
    assert_eq!(
        (status, content_type.as_str(), text),
        (409, "text/x.tlog.size", format!("{size}\n"))
    );
}

#[test]
fn killing_a_witness_loses_nothing_and_it_never_goes_backwards_on_sqlite() {
    killed_witness_loses_nothing(Db::Sqlite);
}

#[test]
fn killing_a_witness_loses_nothing_and_it_never_goes_backwards_on_postgres() {
    if let Some(db) = Db::postgres() {
        killed_witness_loses_nothing(db);
    }
}

/// kill -9 of the store while 8 writers append through two witnesses:
/// cosigning runs beside the next group commit and the cosigned note is
/// recorded with a later commit, so the kill may lose an unrecorded note,
/// never an entry. Every acknowledged entry is at its index after a
/// restart, and the restarted store gets a checkpoint covering them all
/// cosigned again (the witnesses accept it: the same log, not a rewind).
fn killed_store_loses_nothing(db: Db) {
    let world = World::new();
    let (mut s, witnesses) = with_witnesses(&world, db, 2);
    let keys = keys(&witnesses);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let log_vkey = s.vkey.parse().unwrap();
    let acks: Acks = Arc::default();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let c = s.client("ci-main");
            let envelopes: Vec<_> = (0..200).map(|i| s.request_envelope(w * 1000 + i)).collect();
            let acks = acks.clone();
            runtime.spawn(async move {
                for envelope in envelopes {
                    // After the kill every submission fails; keep the acks.
                    let Ok(r) = c.submit(envelope.clone()).await else {
                        break;
                    };
                    acks.lock()
                        .unwrap()
                        .push((envelope, r.index, r.checkpoint.into_bytes()));
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_mins(1);
    while acks.lock().unwrap().len() < 60 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    s.kill9();
    for writer in writers {
        runtime.block_on(writer).unwrap();
    }
    let acked = acks.lock().unwrap().clone();
    assert!(
        acked.len() >= 60,
        "progress before the kill: {}",
        acked.len()
    );
    for (_, _, note) in &acked {
        check_quorum(note, &keys, 2).unwrap();
    }

    s.restart();
    let c = s.client("ci-main");
    let note = runtime.block_on(c.checkpoint()).unwrap();
    check_quorum(&note, &keys, 2).unwrap();
    let size = SignedCheckpoint::parse_and_verify(&note, &log_vkey)
        .unwrap()
        .checkpoint()
        .size;
    let entries = runtime.block_on(c.entries(0, size)).unwrap();
    for (envelope, index, _) in &acked {
        assert_eq!(
            entries.get(usize::try_from(*index).unwrap()),
            Some(envelope),
            "acknowledged entry {index} is missing from the log of {size} after the restart"
        );
    }
    // Submitting an acknowledged entry again: "existed", at its index, cosigned.
    let (envelope, index, _) = &acked[acked.len() / 2];
    let again = runtime.block_on(c.submit(envelope.clone())).unwrap();
    assert_eq!((again.index, again.created), (*index, false));
    check_quorum(again.checkpoint.as_bytes(), &keys, 2).unwrap();
    s.expect(0, "dana", &["log", "verify"]);
}

#[test]
fn killing_the_store_while_witnesses_cosign_loses_nothing_on_sqlite() {
    killed_store_loses_nothing(Db::Sqlite);
}

#[test]
fn killing_the_store_while_witnesses_cosign_loses_nothing_on_postgres() {
    if let Some(db) = Db::postgres() {
        killed_store_loses_nothing(db);
    }
}

#[test]
fn a_receipt_short_of_the_client_quorum_is_refused() {
    // The store settles for one cosignature; ci-main's client wants two.
    let world = World::new();
    let (s, mut witnesses) = with_witnesses(&world, Db::Sqlite, 1);
    let config = s.path().join("people/ci-main/config/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("witness_quorum = 1", "witness_quorum = 2"),
    )
    .unwrap();
    witnesses[1].kill9();
    let digest = Digest::of(b"one witness").to_string();
    let out = s.expect(
        1,
        "ci-main",
        &[
            "promote",
            "request",
            "--service",
            "web",
            "--version",
            "3",
            "--digest",
            &digest,
            "--to",
            "dev",
        ],
    );
    // The sync before it passed (size 0, cosigned by both); the receipt's
    // checkpoint (size 1) carries w1's cosignature only.
    assert!(
        out.contains("checkpoint of size 1 is refused")
            && out.contains("witness_quorum is 2")
            && out.contains("cosigned by: w1.test/witness; missing: w2.test/witness"),
        "{out}"
    );
    // A client content with one cosignature accepts the same log.
    s.expect(0, "bob", &["log", "verify"]);
}

#[test]
fn two_store_instances_on_one_postgres_database_get_every_checkpoint_cosigned() {
    // Behind a load balancer both instances ask the same witnesses; an
    // instance the witnesses have seen past catches up and cosigns the
    // newer checkpoint, so no submitter is left without a receipt.
    let world = World::new();
    let Some(db) = Db::postgres() else { return };
    let (mut s, witnesses) = with_witnesses(&world, db, 2);
    let keys = keys(&witnesses);
    let twin = s.start_twin();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let signer = Arc::new(file::read(&s.path().join("people/ci-main/key")).unwrap());
    let trust = Trust::Pin(parse_pin(&s.pin).unwrap());
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let addr = if w % 2 == 0 {
                s.addr.clone()
            } else {
                twin.clone()
            };
            let c = StoreClient::with_trust(&format!("https://{addr}"), &trust, signer.clone())
                .unwrap();
            let envelopes: Vec<_> = (0..15).map(|i| s.request_envelope(w * 100 + i)).collect();
            runtime.spawn(async move {
                let mut notes = Vec::new();
                for envelope in envelopes {
                    notes.push(c.submit(envelope).await.unwrap().checkpoint.into_bytes());
                }
                notes
            })
        })
        .collect();
    for writer in writers {
        for note in runtime.block_on(writer).unwrap() {
            check_quorum(&note, &keys, 2).unwrap();
        }
    }
    s.expect(0, "bob", &["log", "verify"]);
}

#[test]
fn the_witness_refuses_bad_arguments_with_clear_messages() {
    // Each run gets its own data directory; none of them may start (one
    // that does is killed and fails the test instead of hanging it).
    let run = |args: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(bin())
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .env("TOLLGATE_DATA_DIR", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("`tollgate {}` started instead of refusing", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["witness", "--self-signed", "--log", "nonsense"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--log \"nonsense\"") && err.contains("log_vkey"),
        "{err}"
    );
    let log = tollgate::keys::Signer::generate("audit.test/tollgate");
    let vkey = tollgate::keys::vkey::NoteVerifierKey::of_signer(&log)
        .unwrap()
        .to_string();
    let (code, err) = run(&["witness", "--log", &vkey]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--self-signed"), "{err}");
    let (code, err) = run(&["witness", "--self-signed", "--log", &vkey, "--log", &vkey]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("same origin"), "{err}");
    let (code, err) = run(&["witness", "--self-signed", "--name", "a b", "--log", &vkey]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--name \"a b\" cannot name a witness key"),
        "{err}"
    );
}

#[test]
fn serve_refuses_a_bad_witness_configuration_with_clear_messages() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, world.policy.document()).unwrap();
    let witness = CosignerKey::of_signer(&tollgate::keys::Signer::generate("w1"))
        .unwrap()
        .to_string();
    let log_vkey =
        tollgate::keys::vkey::NoteVerifierKey::of_signer(&tollgate::keys::Signer::generate("w1"))
            .unwrap()
            .to_string();
    let pin = format!("sha256:{}", "ab".repeat(32));
    let cases = [
        (
            format!(
                "witness_quorum = 2\n[[witnesses]]\nurl = \"https://127.0.0.1:1\"\nvkey = \"{witness}\"\npin = \"{pin}\"\n"
            ),
            "witness_quorum is 2 but 1 witnesses are configured",
        ),
        (
            "witness_quorum = 1\n".to_owned(),
            "witness_quorum but no [[witnesses]]",
        ),
        (
            format!(
                "[[witnesses]]\nurl = \"https://127.0.0.1:1\"\nvkey = \"{log_vkey}\"\npin = \"{pin}\"\n"
            ),
            "a witness vkey has type 0x04 (cosignature/v1)",
        ),
        (
            format!("[[witnesses]]\nurl = \"https://127.0.0.1:1\"\nvkey = \"{witness}\"\n"),
            "give exactly one of `pin` or `ca`",
        ),
        (
            format!(
                "[[witnesses]]\nurl = \"http://127.0.0.1:1\"\nvkey = \"{witness}\"\npin = \"{pin}\"\n"
            ),
            "`url` must be an https:// URL",
        ),
    ];
    for (n, (toml, expected)) in cases.iter().enumerate() {
        let config = dir.path().join(format!("serve-{n}.toml"));
        std::fs::write(&config, toml).unwrap();
        let mut child = Command::new(bin())
            .args([
                "serve",
                "--self-signed",
                "--listen",
                "127.0.0.1:0",
                "--policy",
            ])
            .arg(&policy)
            .arg("--serve-config")
            .arg(&config)
            .env("TOLLGATE_DATA_DIR", dir.path().join(format!("data-{n}")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("serve started with {toml}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{toml}\n{err}");
        assert!(
            err.contains(expected),
            "{toml}\nwanted {expected:?} in:\n{err}"
        );
    }
}
