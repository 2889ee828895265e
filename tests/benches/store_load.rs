//! Budget (DESIGN.md §7): store append over HTTPS, durable, 32 clients —
//! SQLite ≥ 5,000 entries/s with p99 ≤ 50 ms; PostgreSQL reported beside it.
//!
//! `cargo bench --bench store_load` (a load run with its own `main`, not
//! criterion). For each database (SQLite in a temporary directory, WAL +
//! `synchronous=FULL` as the store sets them; then PostgreSQL in a fresh
//! schema of `TOLLGATE_TEST_DATABASE_URL`, dropped afterwards), each run:
//!
//! 1. opens a `Store` and `server::start`s it on HTTPS 127.0.0.1:0 (its own
//!    multi-threaded runtime, as `tollgate serve` builds it);
//! 2. pre-signs N promotion requests by `ci-main` into `dev` (fresh nonce
//!    and artifact each: valid with no prior state);
//! 3. runs C client tasks (their own runtime), each with its own
//!    `StoreClient` (one HTTP/1.1 keep-alive TLS connection, warmed up with
//!    a public checkpoint request), signing every request per RFC 9421 as a
//!    real client does, submitting the next unsent entry as soon as its
//!    previous one is acknowledged, until all N are sent or the time bound;
//! 4. prints entries/s and latency p50/p99/max, and the group commits the
//!    pipeline ran (`Store::stats`, cross-checked with the checkpoints);
//! 5. the ceiling: a fresh database of the same kind, opened directly with
//!    sqlx (same schema, same pragmas), one connection, the same number of
//!    durable transactions with the same batch sizes (the checkpoint sizes
//!    the pipeline wrote), each inserting the same entry rows (multi-row
//!    INSERTs of 100, as the store does) and one checkpoint-sized row.
//!
//! Then the median of each figure over the runs. Environment:
//! `TOLLGATE_LOAD_ENTRIES` (N, default 40 000), `TOLLGATE_LOAD_CLIENTS`
//! (C, default 32), `TOLLGATE_LOAD_SECONDS` (time bound per run, default
//! 60), `TOLLGATE_LOAD_RUNS` (default 3), `TOLLGATE_LOAD_DB` (`sqlite`,
//! `postgres` or `sqlite,postgres`, the default; PostgreSQL is
//! `TOLLGATE_TEST_DATABASE_URL`, by default the local
//! `postgres://postgres@127.0.0.1:5432/test`).
//!
//! `TOLLGATE_LOAD_WITNESSES` (W, default 0): with W > 0 each run also
//! starts W in-process `tollgate witness` servers (HTTPS on 127.0.0.1,
//! their own runtime and state directory, as separate processes would be)
//! and configures the store with them, `witness_quorum` = W, so every
//! group commit is cosigned by all W before its entries are acknowledged.
//! The run then checks that the checkpoint served last carries a valid
//! cosignature by each. The ceiling stays the raw durable commit, without
//! witnesses. (The store records each cosigned note in its next append
//! transaction, not in one of its own, and cosigns while it commits the
//! next batches; so with witnesses its transactions/s may exceed this
//! serial ceiling's.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

#[path = "../common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection as _, Executor as _, Postgres, QueryBuilder, Sqlite};
use time::OffsetDateTime;

use tollgate::client::config::Trust;
use tollgate::client::http::StoreClient;
use tollgate::digest::Digest;
use tollgate::keys::Signer;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::cosignature::{CosignerKey, find_cosignature};
use tollgate::ledger::{Note, SignedCheckpoint, leaf_hash};
use tollgate::store::witnesses::{WitnessEndpoint, Witnesses};
use tollgate::store::{DatabaseUrl, StoreConfig, StoreStats};
use tollgate::witness::state::StateDir;
use tollgate::witness::{self, Witness};

const SQLITE_SCHEMA: &str = include_str!("../../src/store/migrations/sqlite/0001_audit_store.sql");
const POSTGRES_SCHEMA: &str =
    include_str!("../../src/store/migrations/postgres/0001_audit_store.sql");
/// Rows per multi-row INSERT, as `store::storage` writes them.
const INSERT_CHUNK: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
        }
    }
}

struct Settings {
    entries: usize,
    clients: usize,
    seconds: u64,
    runs: usize,
    /// Witnesses cosigning each group commit (0: none).
    witnesses: usize,
    kinds: Vec<Kind>,
    pg_url: Option<String>,
}

/// One database of a run: where it is and how to clean it up.
struct Db {
    kind: Kind,
    url: DatabaseUrl,
    /// SQLite: the file. PostgreSQL: (url, schema).
    sqlite_path: Option<std::path::PathBuf>,
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    fn fresh(kind: Kind, settings: &Settings, what: &str) -> Db {
        match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join(format!("{what}.db"));
                Db {
                    kind,
                    url: DatabaseUrl::Sqlite(path.clone()),
                    sqlite_path: Some(path),
                    pg: None,
                    _dir: Some(dir),
                }
            }
            Kind::Postgres => {
                let url = settings.pg_url.clone().unwrap();
                let schema = format!(
                    "tgload_{what}_{}",
                    &tollgate::statement::new_nonce()[..12].to_ascii_lowercase()
                );
                Db {
                    kind,
                    url: DatabaseUrl::parse(&url).with_schema(&schema),
                    sqlite_path: None,
                    pg: Some((url, schema)),
                    _dir: None,
                }
            }
        }
    }

    async fn connect(&self) -> Conn {
        match self.kind {
            Kind::Sqlite => {
                let options = SqliteConnectOptions::new()
                    .filename(self.sqlite_path.as_ref().unwrap())
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true);
                Conn::Sqlite(SqliteConnection::connect_with(&options).await.unwrap())
            }
            Kind::Postgres => {
                let (url, schema) = self.pg.as_ref().unwrap();
                let mut conn = PgConnection::connect(url).await.unwrap();
                conn.execute(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"").as_str())
                    .await
                    .unwrap();
                conn.close().await.unwrap();
                let options = PgConnectOptions::from_str(url)
                    .unwrap()
                    .options([("search_path", schema.as_str())]);
                Conn::Postgres(PgConnection::connect_with(&options).await.unwrap())
            }
        }
    }

    async fn drop_schema(&self) {
        if let Some((url, schema)) = &self.pg {
            let mut conn = PgConnection::connect(url).await.unwrap();
            conn.execute(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE").as_str())
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
    }
}

/// The witnesses of one run: `tollgate witness` servers on their own
/// runtime, each with its own key, certificate and state directory.
struct WitnessFleet {
    runtime: tokio::runtime::Runtime,
    running: Vec<witness::server::RunningWitness>,
    endpoints: Vec<WitnessEndpoint>,
    /// Witness state and TLS, removed once the witnesses stopped.
    dirs: Vec<tempfile::TempDir>,
}

impl WitnessFleet {
    /// Starts `count` witnesses of the log `log`; `None` for 0.
    fn start(count: usize, log: &NoteVerifierKey) -> Option<WitnessFleet> {
        if count == 0 {
            return None;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut fleet = WitnessFleet {
            runtime,
            running: Vec::with_capacity(count),
            endpoints: Vec::with_capacity(count),
            dirs: Vec::with_capacity(count),
        };
        for i in 1..=count {
            let dir = tempfile::tempdir().unwrap();
            let (identity, _) = tollgate::tls::self_signed(dir.path(), &[]).unwrap();
            let signer = Signer::generate(&format!("load.test/witness-{i}"));
            let key = CosignerKey::of_signer(&signer).unwrap();
            let pin = *identity.fingerprint().as_bytes();
            let witness = Arc::new(
                Witness::open(signer, vec![log.clone()], StateDir::new(dir.path())).unwrap(),
            );
            let running = fleet
                .runtime
                .block_on(witness::server::start(
                    witness,
                    &identity,
                    "127.0.0.1:0".parse().unwrap(),
                ))
                .unwrap();
            fleet.endpoints.push(WitnessEndpoint {
                url: format!("https://{}", running.addr),
                key,
                trust: Trust::Pin(pin),
            });
            fleet.running.push(running);
            fleet.dirs.push(dir);
        }
        Some(fleet)
    }

    /// The store's witness configuration: every witness, quorum = all.
    fn config(&self) -> Witnesses {
        Witnesses::new(self.endpoints.clone(), self.endpoints.len()).unwrap()
    }

    /// Panics unless `checkpoint` carries a valid cosignature by each
    /// witness.
    fn assert_cosigned(&self, checkpoint: &SignedCheckpoint) {
        let note = Note::parse(checkpoint.as_bytes()).unwrap();
        for endpoint in &self.endpoints {
            assert!(
                find_cosignature(&note, &endpoint.key).unwrap().is_some(),
                "the served checkpoint of size {} has no cosignature by {}",
                checkpoint.checkpoint().size,
                endpoint.key
            );
        }
    }

    fn shutdown(self) {
        let WitnessFleet {
            runtime,
            running,
            dirs,
            ..
        } = self;
        runtime.block_on(async {
            for witness in running {
                witness.shutdown().await;
            }
        });
        drop(dirs);
    }
}

enum Conn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Conn {
    /// Sizes of the checkpoints the store wrote, ascending.
    async fn checkpoint_sizes(&mut self) -> Vec<u64> {
        let query = "SELECT size FROM checkpoints ORDER BY size";
        let sizes: Vec<i64> = match self {
            Conn::Sqlite(c) => sqlx::query_scalar(query).fetch_all(c).await.unwrap(),
            Conn::Postgres(c) => sqlx::query_scalar(query).fetch_all(c).await.unwrap(),
        };
        sizes.into_iter().map(|s| s as u64).collect()
    }

    async fn create_tables(&mut self) {
        match self {
            Conn::Sqlite(c) => {
                sqlx::raw_sql(SQLITE_SCHEMA).execute(c).await.unwrap();
            }
            Conn::Postgres(c) => {
                sqlx::raw_sql(POSTGRES_SCHEMA).execute(c).await.unwrap();
            }
        }
    }

    /// One durable transaction: the entry rows and one checkpoint row.
    async fn append(&mut self, rows: &[Row], size: i64, checkpoint: &[u8]) {
        match self {
            Conn::Sqlite(c) => {
                let mut tx = c.begin_with("BEGIN IMMEDIATE").await.unwrap();
                for chunk in rows.chunks(INSERT_CHUNK) {
                    let mut query = QueryBuilder::<Sqlite>::new(
                        "INSERT INTO entries (idx, entry_id, leaf_hash, body, accepted_at) ",
                    );
                    query.push_values(chunk, |mut b, r| {
                        b.push_bind(r.index)
                            .push_bind(&r.entry_id[..])
                            .push_bind(&r.leaf[..])
                            .push_bind(&r.body[..])
                            .push_bind(r.accepted_at);
                    });
                    query.build().execute(&mut *tx).await.unwrap();
                }
                sqlx::query("INSERT INTO checkpoints (size, body) VALUES (?, ?)")
                    .bind(size)
                    .bind(checkpoint)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
            Conn::Postgres(c) => {
                let mut tx = c.begin().await.unwrap();
                for chunk in rows.chunks(INSERT_CHUNK) {
                    let mut query = QueryBuilder::<Postgres>::new(
                        "INSERT INTO entries (idx, entry_id, leaf_hash, body, accepted_at) ",
                    );
                    query.push_values(chunk, |mut b, r| {
                        b.push_bind(r.index)
                            .push_bind(&r.entry_id[..])
                            .push_bind(&r.leaf[..])
                            .push_bind(&r.body[..])
                            .push_bind(r.accepted_at);
                    });
                    query.build().execute(&mut *tx).await.unwrap();
                }
                sqlx::query("INSERT INTO checkpoints (size, body) VALUES ($1, $2)")
                    .bind(size)
                    .bind(checkpoint)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
        }
    }

    async fn close(self) {
        match self {
            Conn::Sqlite(c) => c.close().await.unwrap(),
            Conn::Postgres(c) => c.close().await.unwrap(),
        }
    }
}

/// An entry row as the store writes it.
struct Row {
    index: i64,
    entry_id: [u8; 32],
    leaf: [u8; 32],
    body: Vec<u8>,
    accepted_at: i64,
}

/// What one pipeline run measured.
#[derive(Debug, Clone, Default)]
struct Figures {
    acked: usize,
    errors: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    max: Duration,
    stats: StoreStats,
    ceiling_tx: usize,
    ceiling_entries: usize,
    ceiling_elapsed: Duration,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.acked as f64 / self.elapsed.as_secs_f64()
    }
    fn ceiling_tx_rate(&self) -> f64 {
        self.ceiling_tx as f64 / self.ceiling_elapsed.as_secs_f64()
    }
    fn ceiling_entry_rate(&self) -> f64 {
        self.ceiling_entries as f64 / self.ceiling_elapsed.as_secs_f64()
    }
    fn pipeline_tx_rate(&self) -> f64 {
        self.stats.commits as f64 / self.elapsed.as_secs_f64()
    }
    fn mean_batch(&self) -> f64 {
        self.stats.entries as f64 / self.stats.commits.max(1) as f64
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        f64::midpoint(values[n / 2 - 1], values[n / 2])
    }
}

/// N promotion requests by `ci-main` into `dev`, signed now.
fn presign(world: &common::World, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .into_par_iter()
        .map(|i| {
            let artifact = Digest::of(format!("load artifact {i}").as_bytes());
            let statement = world.request_statement("app", artifact, None, "dev");
            world.sign("ci-main", &statement).to_json()
        })
        .collect()
}

/// Submits `envelopes` from `clients` tasks; returns (acked, errors,
/// elapsed, latencies).
async fn drive(
    addr: SocketAddr,
    pin: [u8; 32],
    signer: Arc<Signer>,
    envelopes: Arc<Vec<Vec<u8>>>,
    clients: usize,
    bound: Duration,
) -> (usize, usize, Duration, Vec<Duration>) {
    let base = format!("https://{addr}");
    let mut connected = Vec::with_capacity(clients);
    for _ in 0..clients {
        let client = StoreClient::with_trust(&base, &Trust::Pin(pin), signer.clone()).unwrap();
        // Handshake and keep-alive connection before the clock starts.
        client.checkpoint().await.unwrap();
        connected.push(client);
    }
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + bound;
    let tasks: Vec<_> = connected
        .into_iter()
        .map(|client| {
            let next = next.clone();
            let envelopes = envelopes.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(envelopes.len() / clients + 1);
                let (mut acked, mut errors) = (0usize, 0usize);
                let mut first_error = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= envelopes.len() || Instant::now() >= deadline {
                        break;
                    }
                    let sent = Instant::now();
                    let result = client.submit(envelopes[i].clone()).await;
                    latencies.push(sent.elapsed());
                    match result {
                        Ok(receipt) if receipt.created => acked += 1,
                        Ok(receipt) => {
                            errors += 1;
                            first_error.get_or_insert_with(|| {
                                format!("entry {i} already existed at {}", receipt.index)
                            });
                        }
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert_with(|| e.to_string());
                        }
                    }
                }
                (acked, errors, latencies, first_error)
            })
        })
        .collect();
    let mut all = Vec::new();
    let (mut acked, mut errors) = (0, 0);
    for task in tasks {
        let (a, e, l, first_error) = task.await.unwrap();
        if let Some(error) = first_error {
            eprintln!("  a client saw {e} failure(s); first: {error}");
        }
        acked += a;
        errors += e;
        all.extend(l);
    }
    (acked, errors, start.elapsed(), all)
}

fn one_run(kind: Kind, settings: &Settings, run: usize, world: &mut common::World) -> Figures {
    let data_dir = tempfile::tempdir().unwrap();
    let (identity, _) = tollgate::tls::self_signed(data_dir.path(), &[]).unwrap();
    let pin = *identity.fingerprint().as_bytes();
    let db = Db::fresh(kind, settings, "pipeline");

    // The server runtime, as `tollgate serve` builds it.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // Clients on their own runtime, as separate processes would be.
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    let log_signer = Signer::generate(common::ORIGIN);
    let fleet = WitnessFleet::start(
        settings.witnesses,
        &NoteVerifierKey::of_signer(&log_signer).unwrap(),
    );
    let mut config = StoreConfig::new(db.url.clone(), world.policy.clone(), log_signer);
    config.witnesses = fleet.as_ref().map(WitnessFleet::config);
    let (store, running) = server_rt.block_on(common::served::serve_in_process(config, &identity));

    world.clock = OffsetDateTime::now_utc();
    let signing = Instant::now();
    let envelopes = Arc::new(presign(world, settings.entries));
    let signed_in = signing.elapsed();
    let ci = &world.signers["ci-main"];
    let signer = Arc::new(Signer::from_signing_key(ci.name(), ci.signing_key().clone()).unwrap());

    let (acked, errors, elapsed, mut latencies) = client_rt.block_on(drive(
        running.addr,
        pin,
        signer,
        envelopes.clone(),
        settings.clients,
        Duration::from_secs(settings.seconds),
    ));
    let stats = store.stats();
    let served = store.checkpoint();
    let checkpoint_len = served.as_bytes().len();
    server_rt.block_on(running.shutdown());
    drop(server_rt);
    if let Some(fleet) = fleet {
        fleet.assert_cosigned(&served);
        fleet.shutdown();
    }

    latencies.sort_unstable();
    let mut figures = Figures {
        acked,
        errors,
        elapsed,
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        max: latencies.last().copied().unwrap_or_default(),
        stats,
        ..Figures::default()
    };
    println!(
        "{:<8} run {run}: {acked} entries acknowledged in {:.2} s = {:.0} entries/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} commits (mean batch {:.1}, {:.0} commits/s){}  [pre-signed {} in {:.2} s]",
        kind.name(),
        elapsed.as_secs_f64(),
        figures.rate(),
        ms(figures.p50),
        ms(figures.p99),
        ms(figures.max),
        stats.commits,
        figures.mean_batch(),
        figures.pipeline_tx_rate(),
        if errors > 0 {
            format!("; {errors} FAILED")
        } else {
            String::new()
        },
        envelopes.len(),
        signed_in.as_secs_f64(),
    );

    // The batches the pipeline committed, from the checkpoints it wrote.
    let batches = client_rt.block_on(async {
        let mut conn = db.connect().await;
        let sizes = conn.checkpoint_sizes().await;
        conn.close().await;
        db.drop_schema().await;
        sizes
            .windows(2)
            .map(|w| (w[1] - w[0]) as usize)
            .collect::<Vec<_>>()
    });
    assert_eq!(
        batches.len() as u64,
        stats.commits,
        "Store::stats commits disagree with the checkpoints written"
    );
    assert_eq!(
        batches.iter().sum::<usize>() as u64,
        stats.entries,
        "Store::stats entries disagree with the checkpoints written"
    );
    assert_eq!(stats.entries as usize, acked, "acknowledged != committed");

    // The ceiling: the same transactions, straight through sqlx.
    let accepted_at = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let rows: Vec<Row> = envelopes[..acked]
        .iter()
        .enumerate()
        .map(|(i, body)| Row {
            index: i as i64,
            entry_id: *Digest::of(body).as_bytes(),
            leaf: leaf_hash(body),
            body: body.clone(),
            accepted_at,
        })
        .collect();
    let checkpoint = vec![b'c'; checkpoint_len];
    let raw = Db::fresh(kind, settings, "ceiling");
    let ceiling_elapsed = client_rt.block_on(async {
        let mut conn = raw.connect().await;
        conn.create_tables().await;
        let start = Instant::now();
        let mut pos = 0;
        for &batch in &batches {
            conn.append(&rows[pos..pos + batch], (pos + batch) as i64, &checkpoint)
                .await;
            pos += batch;
        }
        let elapsed = start.elapsed();
        conn.close().await;
        raw.drop_schema().await;
        elapsed
    });
    figures.ceiling_tx = batches.len();
    figures.ceiling_entries = acked;
    figures.ceiling_elapsed = ceiling_elapsed;
    println!(
        "{:<8} run {run}: ceiling (sqlx direct, same {} transactions, same batch sizes): {:.2} s = {:.0} transactions/s, {:.0} entries/s; pipeline/ceiling = {:.2} (transactions/s), pipeline {:.0} vs ceiling {:.0} entries/s",
        kind.name(),
        figures.ceiling_tx,
        ceiling_elapsed.as_secs_f64(),
        figures.ceiling_tx_rate(),
        figures.ceiling_entry_rate(),
        figures.pipeline_tx_rate() / figures.ceiling_tx_rate(),
        figures.rate(),
        figures.ceiling_entry_rate(),
    );
    figures
}

/// Whether witnesses were on, for every summary line.
fn witnesses_label(count: usize) -> String {
    if count == 0 {
        "witnesses OFF".to_owned()
    } else {
        format!("witnesses ON: {count}, quorum {count}")
    }
}

fn main() {
    let kinds = std::env::var("TOLLGATE_LOAD_DB").unwrap_or_else(|_| "sqlite,postgres".into());
    let kinds: Vec<Kind> = kinds
        .split(',')
        .map(|k| match k.trim() {
            "sqlite" => Kind::Sqlite,
            "postgres" | "postgresql" => Kind::Postgres,
            other => panic!("TOLLGATE_LOAD_DB: unknown database {other:?}"),
        })
        .collect();
    let pg_url = Some(common::pg::configured_url());
    let settings = Settings {
        entries: common::env_or("TOLLGATE_LOAD_ENTRIES", 40_000),
        clients: common::env_or("TOLLGATE_LOAD_CLIENTS", 32),
        seconds: common::env_or("TOLLGATE_LOAD_SECONDS", 60),
        runs: common::env_or("TOLLGATE_LOAD_RUNS", 3),
        witnesses: common::env_or("TOLLGATE_LOAD_WITNESSES", 0),
        kinds,
        pg_url,
    };
    let mut world = common::World::new();
    println!(
        "store_load: {} clients over HTTPS (TLS, HTTP/1.1 keep-alive, RFC 9421-signed requests) on 127.0.0.1, durable commits; {}; {} entries per run (bound {} s), {} run(s) per database; {} cores",
        settings.clients,
        if settings.witnesses == 0 {
            witnesses_label(0)
        } else {
            format!(
                "{} (in-process `tollgate witness` over HTTPS, cosigning every group commit)",
                witnesses_label(settings.witnesses)
            )
        },
        settings.entries,
        settings.seconds,
        settings.runs,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
    );
    for &kind in &settings.kinds {
        let runs: Vec<Figures> = (1..=settings.runs)
            .map(|run| one_run(kind, &settings, run, &mut world))
            .collect();
        let med = |f: &dyn Fn(&Figures) -> f64| median(runs.iter().map(f).collect());
        let rate = med(&|f| f.rate());
        let ceiling_tx = med(&|f| f.ceiling_tx_rate());
        let ceiling_entries = med(&|f| f.ceiling_entry_rate());
        let ratio = med(&|f| f.pipeline_tx_rate() / f.ceiling_tx_rate());
        let failed: usize = runs.iter().map(|f| f.errors).sum();
        assert!(failed == 0, "{failed} submissions failed; see above");
        println!(
            "{:<8} MEDIAN of {} ({}): {:.0} entries/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, mean batch {:.1}; ceiling {:.0} transactions/s = {:.0} entries/s; pipeline/ceiling {:.2}",
            kind.name(),
            runs.len(),
            witnesses_label(settings.witnesses),
            rate,
            med(&|f| ms(f.p50)),
            med(&|f| ms(f.p99)),
            med(&|f| ms(f.max)),
            med(&Figures::mean_batch),
            ceiling_tx,
            ceiling_entries,
            ratio,
        );
        if kind == Kind::Sqlite {
            let p99 = med(&|f| ms(f.p99));
            println!(
                "sqlite   budget (DESIGN §7: ≥ 5000 entries/s, p99 ≤ 50 ms; {}): {}",
                witnesses_label(settings.witnesses),
                if rate >= 5000.0 && p99 <= 50.0 {
                    "MET"
                } else {
                    "NOT MET"
                }
            );
        }
    }
}
