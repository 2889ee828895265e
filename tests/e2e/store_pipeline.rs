#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The audit store's core (`tollgate::store`): append pipeline, receipts,
//! refusals, reopen, group commit, two instances on one database, policy
//! rotation, tamper detection and evidence — every scenario on SQLite (a
//! temporary file) and on PostgreSQL (a fresh schema per test, from
//! `common::pg`: skipped with one line when PostgreSQL does not answer,
//! unless `TOLLGATE_REQUIRE_POSTGRES=1`).

use crate::common;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use sqlx::Connection as _;
use time::Duration;

use common::{ORIGIN, T0, World, policy_text};
use tollgate::digest::Digest;
use tollgate::keys::Signer;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::{
    SignedCheckpoint, leaf_hash, root_of, verify_consistency, verify_inclusion,
};
use tollgate::policy::Policy;
use tollgate::state::KeyRing;
use tollgate::statement::{GateResult, GateStatus, Predicate, Statement};
use tollgate::store::{
    Acknowledgement as Receipt, DatabaseError, DatabaseUrl, MAX_EVIDENCE_BYTES, Refused, Store,
    StoreConfig,
};

/// One test's database: a temporary SQLite file or a fresh PostgreSQL schema.
#[derive(Clone)]
struct Db {
    database: DatabaseUrl,
    _dir: Option<Arc<tempfile::TempDir>>,
    pg: Option<(String, String)>,
}

impl Db {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            database: DatabaseUrl::Sqlite(dir.path().join("data").join("store.db")),
            _dir: Some(Arc::new(dir)),
            pg: None,
        }
    }

    /// A fresh schema, or `None` when PostgreSQL does not answer (see
    /// `common::pg`).
    fn postgres() -> Option<Self> {
        let url = common::pg::url()?;
        let schema = format!("tg_{}", &tollgate::statement::new_nonce()[..16]);
        Some(Self {
            database: DatabaseUrl::parse(&url).with_schema(&schema),
            _dir: None,
            pg: Some((url, schema)),
        })
    }

    async fn cleanup(&self) {
        if let Some((url, schema)) = &self.pg {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }

    /// Runs SQL statements behind the store's back (one per string).
    async fn execute(&self, sqlite: &[&str], postgres: &[&str]) {
        match (&self.database, &self.pg) {
            (DatabaseUrl::Sqlite(path), _) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                for sql in sqlite {
                    sqlx::query(sql).execute(&mut conn).await.unwrap();
                }
            }
            (DatabaseUrl::Postgres { .. }, Some((url, schema))) => {
                let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
                let options = options.options([("search_path", schema.as_str())]);
                let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
                for sql in postgres {
                    sqlx::query(sql).execute(&mut conn).await.unwrap();
                }
            }
            _ => unreachable!(),
        }
    }

    /// Rewrites one stored entry behind the store's back.
    async fn tamper(&self, index: i64, body: &[u8], leaf: Option<&[u8]>) {
        match (&self.database, &self.pg) {
            (DatabaseUrl::Sqlite(path), _) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                sqlx::query("UPDATE entries SET body = ? WHERE idx = ?")
                    .bind(body)
                    .bind(index)
                    .execute(&mut conn)
                    .await
                    .unwrap();
                if let Some(leaf) = leaf {
                    sqlx::query("UPDATE entries SET leaf_hash = ? WHERE idx = ?")
                        .bind(leaf)
                        .bind(index)
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
            }
            (DatabaseUrl::Postgres { .. }, Some((url, schema))) => {
                let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
                let options = options.options([("search_path", schema.as_str())]);
                let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
                sqlx::query("UPDATE entries SET body = $1 WHERE idx = $2")
                    .bind(body)
                    .bind(index)
                    .execute(&mut conn)
                    .await
                    .unwrap();
                if let Some(leaf) = leaf {
                    sqlx::query("UPDATE entries SET leaf_hash = $1 WHERE idx = $2")
                        .bind(leaf)
                        .bind(index)
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
            }
            _ => unreachable!(),
        }
    }
}

/// Runs a scenario, drops the PostgreSQL schema whatever happened, then
/// reports the scenario's panic if any.
async fn run<F, Fut>(db: Db, scenario: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let result = tokio::spawn(scenario(db.clone())).await;
    db.cleanup().await;
    if let Err(error) = result {
        if error.is_panic() {
            std::panic::resume_unwind(error.into_panic());
        }
        panic!("scenario did not finish: {error}");
    }
}

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::run(super::Db::sqlite(), super::$name).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = super::Db::postgres() {
                    super::run(db, super::$name).await;
                }
            }
        }
    )*};
}

on_both_databases!(
    accepts_with_a_verifiable_receipt,
    refusals_leave_the_log_unchanged,
    reopen_rebuilds_root_and_state,
    concurrent_submits_share_one_log,
    two_stores_on_one_database_keep_one_log,
    policy_rotation_needs_the_admin_threshold,
    tampering_behind_the_store_stops_it_from_starting,
    a_failed_commit_is_unavailable_and_forgotten,
    evidence_is_verified_and_bounded,
);

fn copy_signer(signer: &Signer) -> Signer {
    Signer::from_signing_key(signer.name(), signer.signing_key().clone()).unwrap()
}

async fn open_with(db: &Db, policy: &Policy, log: &Signer) -> Result<Store, DatabaseError> {
    Store::open(StoreConfig::new(
        db.database.clone(),
        policy.clone(),
        copy_signer(log),
    ))
    .await
}

async fn open(db: &Db, world: &World, log: &Signer) -> Store {
    open_with(db, &world.policy, log).await.unwrap()
}

/// Submits every envelope of the world not yet sent; all must be accepted.
async fn flush(store: &Store, world: &World, sent: &mut usize) -> Vec<Receipt> {
    let mut receipts = Vec::new();
    for (envelope, entry) in world.envelopes[*sent..].iter().zip(&world.entries[*sent..]) {
        // Each at the time it was signed, as a client would send it.
        let now = match &entry.statement.predicate {
            Predicate::PromotionRequest(p) => p.requested_at,
            Predicate::GateResult(g) => g.produced_at,
            Predicate::Snapshot(s) => s.captured_at,
            Predicate::Decision(d) => d.issued_at,
            Predicate::Deployment(d) => d.at,
            Predicate::Policy(_) => world.clock,
        } + Duration::seconds(30);
        let receipt = store
            .submit(envelope.to_json(), now)
            .await
            .unwrap_or_else(|e| panic!("refused: {e}"));
        assert!(!receipt.existed);
        receipts.push(receipt);
    }
    *sent = world.envelopes.len();
    receipts
}

/// The receipt's checkpoint is signed by the log key and proves the entry.
fn check_receipt(receipt: &Receipt, bytes: &[u8], log: &Signer) -> SignedCheckpoint {
    let vkey = NoteVerifierKey::of_signer(log).unwrap();
    let signed = SignedCheckpoint::parse_and_verify(receipt.checkpoint.as_bytes(), &vkey)
        .expect("checkpoint signed by the log key");
    let cp = signed.checkpoint();
    verify_inclusion(
        receipt.index,
        cp.size,
        &leaf_hash(bytes),
        &receipt.inclusion_proof,
        &cp.root,
    )
    .expect("inclusion proof verifies against the receipt's checkpoint");
    signed
}

fn refusal<T: std::fmt::Debug>(result: Result<T, Refused>) -> Refused {
    let refused = result.expect_err("the store should refuse this");
    assert!(
        refused.status() < 500,
        "bad input is never a 5xx: {refused}"
    );
    assert!(!refused.remediation().is_empty());
    assert!(!refused.to_string().is_empty());
    refused
}

async fn accepts_with_a_verifiable_receipt(db: Db) {
    let mut world = World::new();
    let log = Signer::generate(ORIGIN);
    let store = open(&db, &world, &log).await;
    assert_eq!(store.checkpoint().checkpoint().size, 0);
    let mut events = store.subscribe();

    world.request("ci-main", "app", Digest::of(b"app-1"), None, "dev");
    let bytes = world.envelopes[0].to_json();
    let receipt = store.submit(bytes.clone(), world.clock).await.unwrap();
    assert_eq!(receipt.index, 0);
    assert!(!receipt.existed);
    assert_eq!(receipt.entry_id, world.envelopes[0].entry_id());
    let signed = check_receipt(&receipt, &bytes, &log);
    assert_eq!(signed.checkpoint().size, 1);
    assert_eq!(signed.checkpoint().origin, ORIGIN);
    assert_eq!(store.checkpoint(), receipt.checkpoint);
    assert_eq!(events.recv().await.unwrap(), receipt.checkpoint);

    // The same entry again: same index, nothing appended.
    let again = store.submit(bytes.clone(), world.clock).await.unwrap();
    assert!(again.existed);
    assert_eq!(again.index, 0);
    assert_eq!(again.entry_id, receipt.entry_id);
    check_receipt(&again, &bytes, &log);
    assert_eq!(store.checkpoint().checkpoint().size, 1);

    // A second entry extends the tree consistently.
    world.gate(receipt.entry_id, "unit-tests", GateStatus::Pass);
    let bytes2 = world.envelopes[1].to_json();
    let second = store.submit(bytes2.clone(), world.clock).await.unwrap();
    assert_eq!(second.index, 1);
    let cp2 = check_receipt(&second, &bytes2, &log);
    let proof = store.consistency_proof(1, 2).unwrap();
    verify_consistency(
        1,
        2,
        &signed.checkpoint().root,
        &cp2.checkpoint().root,
        &proof,
    )
    .unwrap();
    assert!(
        store.inclusion_proof(0, 3).is_err(),
        "no proof past the checkpoint"
    );

    assert_eq!(store.entries(0, 10).await.unwrap(), vec![bytes, bytes2]);
    assert!(store.entries(5, 10).await.unwrap().is_empty());
    let state = store.state(world.clock);
    assert_eq!(state.promotions.len(), 1);
    assert!(state.ignored.is_empty());
    let ci = world.signers["ci-main"].public();
    assert_eq!(
        store.operator_for_key_id(&ci.key_id().to_string()),
        Some(("ci-main".to_owned(), ci))
    );
    assert_eq!(store.operator_for_key_id("0000"), None);
    store.close().await;
}

async fn refusals_leave_the_log_unchanged(db: Db) {
    let mut world = World::new();
    let log = Signer::generate(ORIGIN);
    let store = open(&db, &world, &log).await;
    let mut sent = 0;
    let artifact = Digest::of(b"app-2");
    world.through("app", artifact, "dev");
    let promotion = world.request("alice", "app", artifact, Some("dev"), "staging");
    world.gate(promotion, "unit-tests", GateStatus::Pass);
    let erin = world.approval_statement("release-manager", promotion);
    let erin_envelope = world.sign("erin", &erin);
    world.submit_envelope(erin_envelope);
    flush(&store, &world, &mut sent).await;
    let before = store.checkpoint();
    let now = world.clock;
    let unchanged = |store: &Store| {
        assert_eq!(
            store.checkpoint(),
            before,
            "a refusal must not change the log"
        );
    };

    // Malformed JSON.
    let r = refusal(store.submit(b"{not json".to_vec(), now).await);
    assert_eq!((r.status(), r.code()), (400, "malformed_entry"));
    unchanged(&store);

    // A signature over other bytes, by a key the policy knows.
    let a = world.sign(
        "alice",
        &world.request_statement("app", artifact, None, "dev"),
    );
    let b = world.sign(
        "alice",
        &world.request_statement("web", artifact, None, "dev"),
    );
    let mut json: serde_json::Value = serde_json::from_slice(&a.to_json()).unwrap();
    let other: serde_json::Value = serde_json::from_slice(&b.to_json()).unwrap();
    json["signatures"][0]["sig"] = other["signatures"][0]["sig"].clone();
    let r = refusal(store.submit(serde_json::to_vec(&json).unwrap(), now).await);
    assert_eq!((r.status(), r.code()), (422, "bad_signature"), "{r}");
    unchanged(&store);

    // A key the policy does not list.
    let mallory = Signer::generate("mallory");
    let stranger = mallory.sign_statement(
        world
            .request_statement("app", artifact, None, "dev")
            .to_payload(),
    );
    let r = refusal(store.submit(stranger.to_json(), now).await);
    assert_eq!((r.status(), r.code()), (403, "unknown_signer"), "{r}");
    unchanged(&store);

    // A role the signer does not hold, and a role the environment does not take.
    let dana_as_rm = world.sign(
        "dana",
        &world.approval_statement("release-manager", promotion),
    );
    let r = refusal(store.submit(dana_as_rm.to_json(), now).await);
    assert_eq!((r.status(), r.code()), (403, "forbidden"), "{r}");
    let carol = world.sign("carol", &world.approval_statement("oncall", promotion));
    let r = refusal(store.submit(carol.to_json(), now).await);
    assert_eq!((r.status(), r.code()), (403, "forbidden"), "{r}");
    unchanged(&store);

    // The requester approving their own promotion.
    let own = world.sign(
        "alice",
        &world.approval_statement("release-manager", promotion),
    );
    let r = refusal(store.submit(own.to_json(), now).await);
    assert_eq!((r.status(), r.code()), (403, "forbidden"), "{r}");
    assert!(r.to_string().contains("cannot approve"), "{r}");
    unchanged(&store);

    // A gate result for a promotion that is not in the log.
    let ghost = Statement::about(
        "app",
        artifact,
        Predicate::GateResult(GateResult {
            promotion: Digest::of(b"no such promotion"),
            gate: "unit-tests".into(),
            status: GateStatus::Pass,
            summary: "ok".into(),
            measurements: Vec::new(),
            evidence: Vec::new(),
            remediation: None,
            produced_at: now,
            evaluator: None,
        }),
    );
    let r = refusal(
        store
            .submit(world.sign("ci-main", &ghost).to_json(), now)
            .await,
    );
    assert_eq!((r.status(), r.code()), (422, "invalid_entry"), "{r}");
    assert!(r.to_string().contains("not in the log"), "{r}");
    unchanged(&store);

    // Erin's nonce again, on a fresh decision.
    let Predicate::Decision(mut replay) = erin.predicate.clone() else {
        unreachable!()
    };
    replay.rationale = "again".into();
    let replayed = Statement::about("app", artifact, Predicate::Decision(replay));
    let r = refusal(
        store
            .submit(world.sign("erin", &replayed).to_json(), now)
            .await,
    );
    assert_eq!((r.status(), r.code()), (422, "invalid_entry"), "{r}");
    assert!(r.to_string().contains("replay"), "{r}");
    unchanged(&store);

    // A decision issued far from the store's clock, either way.
    let grace = world.sign(
        "grace",
        &world.approval_statement("release-manager", promotion),
    );
    for skew in [Duration::minutes(10), Duration::minutes(-10)] {
        let r = refusal(store.submit(grace.to_json(), now + skew).await);
        assert_eq!((r.status(), r.code()), (422, "clock_skew"), "{r}");
    }
    unchanged(&store);

    // A decision bound to gate results that are not the current ones.
    let Predicate::Decision(mut stale) = world
        .approval_statement("release-manager", promotion)
        .predicate
    else {
        unreachable!()
    };
    stale.bound.gate_results = Digest::of(b"what I saw last week");
    let stale = Statement::about("app", artifact, Predicate::Decision(stale));
    let r = refusal(
        store
            .submit(world.sign("grace", &stale).to_json(), now)
            .await,
    );
    assert_eq!((r.status(), r.code()), (422, "invalid_entry"), "{r}");
    assert!(r.to_string().contains("gate results"), "{r}");
    unchanged(&store);

    // A decision that claims to have observed a root this log never had.
    let Predicate::Decision(mut forged) = world
        .approval_statement("release-manager", promotion)
        .predicate
    else {
        unreachable!()
    };
    forged.observed.root = tollgate::statement::RootHash([7; 32]);
    let forged = Statement::about("app", artifact, Predicate::Decision(forged));
    let r = refusal(
        store
            .submit(world.sign("grace", &forged).to_json(), now)
            .await,
    );
    assert_eq!((r.status(), r.code()), (422, "invalid_entry"), "{r}");
    assert!(r.to_string().contains("this log's root at size"), "{r}");
    unchanged(&store);

    // Too large.
    let r = refusal(store.submit(vec![b' '; 70_000], now).await);
    assert_eq!((r.status(), r.code()), (413, "too_large"), "{r}");
    unchanged(&store);

    // The valid decision still lands after all of that.
    let receipt = store.submit(grace.to_json(), now).await.unwrap();
    assert_eq!(receipt.index, before.checkpoint().size);
    store.close().await;
}

async fn reopen_rebuilds_root_and_state(db: Db) {
    let mut world = World::new();
    let log = Signer::generate(ORIGIN);
    let store = open(&db, &world, &log).await;
    let mut sent = 0;
    world.through("app", Digest::of(b"app-3"), "prod");
    flush(&store, &world, &mut sent).await;
    let checkpoint = store.checkpoint();
    let state = store.state(world.clock);
    assert!(checkpoint.checkpoint().size > 10);
    store.close().await;
    let refused = store
        .submit(world.envelopes[0].to_json(), world.clock)
        .await;
    let refused = refused.expect_err("a closed store accepts nothing");
    assert_eq!((refused.status(), refused.code()), (503, "unavailable"));

    let reopened = open(&db, &world, &log).await;
    assert_eq!(reopened.checkpoint(), checkpoint);
    assert_eq!(reopened.state(world.clock), state);
    world.request("ci-main", "web", Digest::of(b"web-1"), None, "dev");
    let receipts = flush(&reopened, &world, &mut sent).await;
    assert_eq!(receipts[0].index, checkpoint.checkpoint().size);
    reopened.close().await;

    // Another genesis policy is not this log's.
    let other = World::new();
    let err = open_with(&db, &other.policy, &log).await.unwrap_err();
    assert!(err.to_string().contains("genesis policy digest"), "{err}");
    // Nor is another log key.
    let err = open_with(&db, &world.policy, &Signer::generate(ORIGIN))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("log key"), "{err}");
}

async fn concurrent_submits_share_one_log(db: Db) {
    let world = World::new();
    let log = Signer::generate(ORIGIN);
    let store = open(&db, &world, &log).await;
    let envelopes: Vec<Vec<u8>> = (0..200)
        .map(|i| {
            let artifact = Digest::of(format!("artifact-{i}").as_bytes());
            world
                .sign(
                    "ci-main",
                    &world.request_statement("app", artifact, None, "dev"),
                )
                .to_json()
        })
        .collect();
    let tasks: Vec<_> = envelopes
        .iter()
        .cloned()
        .map(|bytes| {
            let store = store.clone();
            tokio::spawn(async move { store.submit(bytes, T0).await })
        })
        .collect();
    let mut receipts = Vec::new();
    for task in tasks {
        receipts.push(task.await.unwrap().unwrap());
    }
    let indexes: BTreeSet<u64> = receipts.iter().map(|r| r.index).collect();
    assert_eq!(indexes, (0..200).collect::<BTreeSet<u64>>());
    let last = store.checkpoint();
    assert_eq!(last.checkpoint().size, 200);
    let stored = store.entries(0, 1000).await.unwrap();
    assert_eq!(stored.len(), 200);
    let leaves: Vec<_> = stored.iter().map(|b| leaf_hash(b)).collect();
    assert_eq!(root_of(&leaves), last.checkpoint().root);
    let mut sizes = BTreeSet::new();
    for (bytes, receipt) in envelopes.iter().zip(&receipts) {
        assert_eq!(&stored[usize::try_from(receipt.index).unwrap()], bytes);
        let cp = check_receipt(receipt, bytes, &log);
        let (size, root) = (cp.checkpoint().size, cp.checkpoint().root);
        sizes.insert(size);
        let proof = store.consistency_proof(size, 200).unwrap();
        verify_consistency(size, 200, &root, &last.checkpoint().root, &proof).unwrap();
    }
    // Group commit: far fewer checkpoints than entries.
    assert!(
        sizes.len() < 200,
        "{} checkpoints for 200 entries",
        sizes.len()
    );
    store.close().await;
}

async fn two_stores_on_one_database_keep_one_log(db: Db) {
    let world = World::new();
    let log = Signer::generate(ORIGIN);
    let first = open(&db, &world, &log).await;
    let second = open(&db, &world, &log).await;
    let mut tasks = Vec::new();
    let mut sent = Vec::new();
    for i in 0..120 {
        let artifact = Digest::of(format!("shared-{i}").as_bytes());
        let bytes = world
            .sign(
                "ci-main",
                &world.request_statement("app", artifact, None, "dev"),
            )
            .to_json();
        sent.push(bytes.clone());
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            let receipt = store.submit(bytes.clone(), T0).await.unwrap();
            (bytes, receipt)
        }));
    }
    let mut receipts = Vec::new();
    for task in tasks {
        receipts.push(task.await.unwrap());
    }
    // Reads catch up first: either instance now serves the whole log, not
    // the part it happened to commit or load.
    for store in [&first, &second] {
        store.catch_up().await.unwrap();
        assert_eq!(store.checkpoint().checkpoint().size, 120);
    }
    first.close().await;
    second.close().await;

    // A third instance sees one log of 120 entries that all verify.
    let third = open(&db, &world, &log).await;
    let last = third.checkpoint();
    assert_eq!(last.checkpoint().size, 120);
    let stored = third.entries(0, 1000).await.unwrap();
    let ring = KeyRing::of(&world.policy);
    for (i, bytes) in stored.iter().enumerate() {
        ring.verify(i as u64, bytes).unwrap();
    }
    let leaves: Vec<_> = stored.iter().map(|b| leaf_hash(b)).collect();
    assert_eq!(root_of(&leaves), last.checkpoint().root);
    let indexes: BTreeSet<u64> = receipts.iter().map(|(_, r)| r.index).collect();
    assert_eq!(indexes.len(), 120, "every entry has its own index");
    for (bytes, receipt) in &receipts {
        assert_eq!(&stored[usize::try_from(receipt.index).unwrap()], bytes);
        let cp = check_receipt(receipt, bytes, &log);
        let (size, root) = (cp.checkpoint().size, cp.checkpoint().root);
        let proof = third.consistency_proof(size, 120).unwrap();
        verify_consistency(size, 120, &root, &last.checkpoint().root, &proof)
            .expect("every checkpoint handed out is consistent with the final one");
    }
    let stored_set: BTreeSet<&Vec<u8>> = stored.iter().collect();
    assert!(sent.iter().all(|b| stored_set.contains(b)));
    third.close().await;
}

async fn policy_rotation_needs_the_admin_threshold(db: Db) {
    let mut world = World::new();
    let log = Signer::generate(ORIGIN);
    let store = open(&db, &world, &log).await;
    let mut sent = 0;
    let artifact = Digest::of(b"app-4");
    world.through("app", artifact, "dev");
    let promotion = world.request("ci-main", "app", artifact, Some("dev"), "staging");
    world.gate(promotion, "unit-tests", GateStatus::Pass);
    flush(&store, &world, &mut sent).await;
    let old_approval = world.sign(
        "alice",
        &world.approval_statement("release-manager", promotion),
    );
    let before = store.checkpoint();

    let v2 = policy_text(2, &world.signers);
    let statement = Statement::policy(2, &v2);
    // One admin of a threshold of two.
    let lone = world.sign("erin", &statement);
    let r = refusal(store.submit(lone.to_json(), world.clock).await);
    assert_eq!((r.status(), r.code()), (403, "policy_rotation"), "{r}");
    assert_eq!(store.checkpoint(), before);
    assert_eq!(store.policy().version, 1);
    // Two signatures under one keyid: refused as DSSE readers refuse them.
    let mut twice = world.sign("erin", &statement);
    twice.add_signature(
        world.signers["erin"].signing_key(),
        &world.signers["erin"].public().key_id().to_string(),
    );
    let r = refusal(store.submit(twice.to_json(), world.clock).await);
    assert_eq!((r.status(), r.code()), (400, "duplicate_keyid"), "{r}");
    assert_eq!(store.checkpoint(), before);
    // Two signatures by one admin under different keyids are still one.
    let mut twice = world.sign("erin", &statement);
    twice.add_signature(world.signers["erin"].signing_key(), "another-hint");
    let r = refusal(store.submit(twice.to_json(), world.clock).await);
    assert_eq!(r.code(), "policy_rotation", "{r}");
    assert_eq!(store.checkpoint(), before);

    // Two distinct admins.
    let mut signed = world.sign("erin", &statement);
    signed.add_signature(
        world.signers["bob"].signing_key(),
        &world.signers["bob"].public().key_id().to_string(),
    );
    let receipt = store.submit(signed.to_json(), world.clock).await.unwrap();
    assert_eq!(store.policy().version, 2);
    assert_eq!(store.policy().digest(), Digest::of(v2.as_bytes()));
    assert_eq!(store.policy_entries(), vec![receipt.index]);

    // An approval bound to version 1 is stale now; one bound to 2 lands.
    let r = refusal(store.submit(old_approval.to_json(), world.clock).await);
    assert_eq!(r.code(), "invalid_entry", "{r}");
    assert!(r.to_string().contains("policy"), "{r}");
    world.submit_envelope(signed);
    sent += 1;
    world.policy = Policy::parse(&v2, "policy.toml").unwrap();
    world.ring = KeyRing::of(&world.policy);
    world.approve("alice", "release-manager", promotion);
    flush(&store, &world, &mut sent).await;
    let checkpoint = store.checkpoint();
    let state = store.state(world.clock);
    store.close().await;

    // The chain is replayed on open, from the genesis policy.
    let genesis = Policy::parse(&policy_text(1, &world.signers), "policy.toml").unwrap();
    let reopened = open_with(&db, &genesis, &log).await.unwrap();
    assert_eq!(reopened.policy().version, 2);
    assert_eq!(reopened.policy_entries(), vec![receipt.index]);
    assert_eq!(reopened.checkpoint(), checkpoint);
    assert_eq!(reopened.state(world.clock), state);
    reopened.close().await;
}

async fn tampering_behind_the_store_stops_it_from_starting(db: Db) {
    let mut world = World::new();
    let log = Signer::generate(ORIGIN);
    let store = open(&db, &world, &log).await;
    let mut sent = 0;
    world.through("app", Digest::of(b"app-5"), "dev");
    flush(&store, &world, &mut sent).await;
    let original = store.entries(1, 2).await.unwrap().remove(0);
    store.close().await;

    // Same signature, other bytes (a trailing space): the leaf changes.
    let mut edited = original.clone();
    edited.push(b' ');
    db.tamper(1, &edited, None).await;
    let err = open_with(&db, &world.policy, &log).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("entry 1") && text.contains("refusing to start"),
        "{text}"
    );

    // Leaf hash rewritten too: the signed checkpoint no longer matches.
    db.tamper(1, &edited, Some(&leaf_hash(&edited))).await;
    let err = open_with(&db, &world.policy, &log).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("modified behind the store's back"), "{text}");

    // Another statement entirely: its signature does not verify.
    let forged = String::from_utf8(original.clone()).unwrap().replacen(
        "\"payload\":\"",
        "\"payload\":\"eyJ",
        1,
    );
    db.tamper(1, forged.as_bytes(), None).await;
    let err = open_with(&db, &world.policy, &log).await.unwrap_err();
    assert!(err.to_string().contains("entry 1"), "{err}");

    // Put back, it opens again.
    db.tamper(1, &original, Some(&leaf_hash(&original))).await;
    open(&db, &world, &log).await.close().await;
}

async fn evidence_is_verified_and_bounded(db: Db) {
    let world = World::new();
    let log = Signer::generate(ORIGIN);
    let store = open(&db, &world, &log).await;
    let body = br#"{"version":"2.1.0","runs":[]}"#;
    let digest = Digest::of(body);
    let media = "application/sarif+json";
    assert!(store.put_evidence(digest, media, body).await.unwrap());
    assert!(!store.put_evidence(digest, media, body).await.unwrap());
    assert_eq!(
        store.get_evidence(&digest).await.unwrap(),
        Some((media.to_owned(), body.to_vec()))
    );
    assert_eq!(
        store.get_evidence(&Digest::of(b"none")).await.unwrap(),
        None
    );

    let r = refusal(store.put_evidence(Digest::of(b"other"), media, body).await);
    assert_eq!((r.status(), r.code()), (422, "digest_mismatch"));
    let big = vec![0u8; MAX_EVIDENCE_BYTES + 1];
    let r = refusal(store.put_evidence(Digest::of(&big), media, &big).await);
    assert_eq!((r.status(), r.code()), (413, "too_large"));
    let r = refusal(store.put_evidence(digest, "bad\ntype", body).await);
    assert_eq!((r.status(), r.code()), (400, "bad_media_type"));
    assert_eq!(store.checkpoint().checkpoint().size, 0);
    store.close().await;
}

async fn a_failed_commit_is_unavailable_and_forgotten(db: Db) {
    let mut world = World::new();
    let log = Signer::generate(ORIGIN);
    let store = open(&db, &world, &log).await;
    let mut sent = 0;
    world.through("app", Digest::of(b"app-6"), "dev");
    flush(&store, &world, &mut sent).await;
    let before = store.checkpoint();
    let state = store.state(world.clock);

    // The database starts refusing writes to the log.
    db.execute(
        &["CREATE TRIGGER refuse BEFORE INSERT ON entries BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"],
        &[
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$",
            "CREATE TRIGGER refuse BEFORE INSERT ON entries FOR EACH ROW EXECUTE FUNCTION refuse()",
        ],
    )
    .await;
    let promotion = world.request("ci-main", "app", Digest::of(b"app-7"), None, "dev");
    let bytes = world.envelopes.last().unwrap().to_json();
    let failed = store
        .submit(bytes.clone(), world.clock)
        .await
        .expect_err("the commit failed, so the entry is not accepted");
    assert_eq!(
        (failed.status(), failed.code()),
        (503, "unavailable"),
        "{failed}"
    );
    assert_eq!(
        store.checkpoint(),
        before,
        "nothing unacknowledged is published"
    );
    assert_eq!(store.state(world.clock), state);
    // A gate result for the promotion that failed to commit is unknown.
    world.gate(promotion, "unit-tests", GateStatus::Pass);
    let gate_bytes = world.envelopes.last().unwrap().to_json();
    let r = store
        .submit(gate_bytes.clone(), world.clock)
        .await
        .expect_err("refused");
    assert!(
        r.code() == "unavailable" || r.code() == "invalid_entry",
        "{r}"
    );

    // The database recovers: the same entry lands at the next index.
    db.execute(
        &["DROP TRIGGER refuse"],
        &["DROP TRIGGER refuse ON entries", "DROP FUNCTION refuse()"],
    )
    .await;
    let receipt = store.submit(bytes.clone(), world.clock).await.unwrap();
    assert_eq!(receipt.index, before.checkpoint().size);
    assert!(!receipt.existed);
    check_receipt(&receipt, &bytes, &log);
    let receipt = store.submit(gate_bytes.clone(), world.clock).await.unwrap();
    check_receipt(&receipt, &gate_bytes, &log);
    store.close().await;
    open(&db, &world, &log).await.close().await;
}
