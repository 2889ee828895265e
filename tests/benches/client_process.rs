//! Budgets (issue 7, DESIGN.md §7), measured as a user meets them: the real
//! `tollgate` binary run as a whole process against a real store over
//! HTTPS, with N entries (100 000 by default) in the log:
//!
//! - incremental `tollgate sync` of ONE new entry against the N-entry cache:
//!   ≤ 100 ms;
//! - cold `tollgate sync` (no cache: every entry fetched and verified, the
//!   cache written): ≤ 10 s;
//! - cached start, `tollgate status` with the store down (no network): ≤
//!   300 ms;
//! - and issue 8's live budget: the cockpit, on that cache and following
//!   the store, shows a new entry within 100 ms of the store accepting it.
//!
//! `cargo bench --bench client_process` (its own `main`, not criterion; the
//! binary is the bench-profile build cargo makes for it). Environment:
//! `TOLLGATE_BENCH_ENTRIES` (N, default 100 000), `TOLLGATE_BENCH_RUNS` (R,
//! default 7), `TOLLGATE_BENCH_STORE_TMP` (where the store's database goes;
//! default `/dev/shm` when present, see `store_parent`),
//! `TOLLGATE_BENCH_KEEP_HOME` (set: the client home with its cache is kept
//! and its environment printed, to run or profile `tollgate status` by
//! hand).
//!
//! What it does:
//!
//! 1. builds a realistic log of at least N + 2R entries with
//!    `tests/common/bulk.rs` (services promoted dev → staging, gates,
//!    approvals, deployments), every gate result citing the same real pytest
//!    report by digest with the verdict the evaluator computes from it (so
//!    the clients' re-judging of gate results agrees with each); the first N
//!    are the log, the next 2R are held back;
//! 2. opens a `Store` (SQLite in a temporary directory, on `/dev/shm` by
//!    default) with the bulk policy as its genesis policy and
//!    `server::start`s it on HTTPS 127.0.0.1:0, as `tollgate serve` does;
//!    uploads that report; then appends the N entries through the HTTP
//!    API, each request signed per RFC 9421 by `ci-main`.
//!    The appends are sequential on one keep-alive connection: the bulk log
//!    is one fixed order (every approval observes the log's root at its own
//!    position, gate results name their promotion), so they must reach the
//!    store in that order, which concurrent submitters cannot promise. The
//!    store's clock-skew window is widened to cover the bulk log's
//!    timestamps (it starts at a fixed date; nothing on the client side
//!    looks at the store's clock). Before anything is timed, the store's
//!    checkpoint must be of size N with Bulk's root at N;
//! 3. writes a client home for `alice` (a release manager of the bulk
//!    policy) in a temporary directory: her key file and `key` in
//!    config.toml, then `tollgate join https://… --pin … --yes` run as a
//!    process writes the store URL, pin, log key and policy digest. Every
//!    process runs with `HOME` and `TOLLGATE_{CONFIG,DATA,CACHE}_DIR`
//!    pointing into that home;
//! 4. times whole processes, wall clock from spawn to exit, stdout and
//!    stderr to pipes drained as the process writes (`Command::output`):
//!    `tollgate --version` R times (the process-start baseline); the cold
//!    `tollgate sync --json` once (its JSON must say it fetched N); R
//!    incremental `tollgate sync --json`, each after appending the next
//!    held-back entry (its JSON must say fetched 1 and the new size); then
//!    the cockpit (`tollgate` in a pseudo-terminal at 200×60, its screen
//!    read by vt100) once its event stream is live, R times from the
//!    receipt of the next held-back entry to `log <new size>` in its header
//!    (the screen is read every millisecond); then, with the store stopped, `tollgate status` and `tollgate status
//!    --service svc-0` R times each (exit 0, and the offline "as of
//!    checkpoint" line on stderr);
//! 5. prints min / median / max in ms per figure, each median's ratio to
//!    the `--version` median, the bytes the last run printed on stdout, the
//!    budget verdicts, and the peak RSS of one offline `status`
//!    (`/usr/bin/time -f %M`, when present).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss
)]

#[path = "../common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tollgate::client::config::Trust;
use tollgate::client::http::StoreClient;
use tollgate::keys::Signer;
use tollgate::keys::file;
use tollgate::ledger::{MerkleTree, leaf_hash};
use tollgate::store::server::RunningServer;
use tollgate::store::{DatabaseUrl, Store, StoreConfig};

use common::bulk::Bulk;

/// The store's clock-skew window that accepts every bulk timestamp: they
/// start at `common::T0` and step one second per entry, so the window spans
/// from now to T0 and the log's length after it, plus a day.
fn bulk_clock_skew(entries: usize) -> Duration {
    let span = (time::OffsetDateTime::now_utc() - common::T0).unsigned_abs();
    span + Duration::from_secs(entries as u64) + Duration::from_hours(24)
}

/// The operator whose client is timed.
const OPERATOR: &str = "alice";

/// The operator whose key signs the HTTP requests that append the log.
const APPENDER: &str = "ci-main";

/// The evidence every gate result cites (a real pytest JUnit report, see
/// tests/fixtures/evidence/SOURCES.md).
const EVIDENCE_NAME: &str = "pytest-pass.xml";

fn evidence() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/evidence")
        .join(EVIDENCE_NAME);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The service the filtered `status` shows.
const SERVICE: &str = "svc-0";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A copy of `name`'s signer from the bulk log.
fn signer_of(bulk: &Bulk, name: &str) -> Signer {
    Signer::from_signing_key(name, bulk.signers[name].signing_key().clone()).unwrap()
}

/// Where the store's temporary directory goes: `TOLLGATE_BENCH_STORE_TMP`,
/// else `/dev/shm` when it exists, else the system's temporary directory.
///
/// The appends are sequential, so each one waits for its own durable commit;
/// on a RAM-backed filesystem the fsyncs are free and the N appends are
/// several times faster (on the 2-core development machine: about 600
/// entries/s on disk, 1 500 to 2 800 on `/dev/shm`). Nothing timed waits
/// for the store's disk: every timed process only reads from the store, and
/// each held-back entry is acknowledged before its sync starts. The client home stays on the
/// system's temporary directory (its cache writes are part of the figures).
fn store_parent() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOLLGATE_BENCH_STORE_TMP") {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// The store under test: in-process, HTTPS on 127.0.0.1, SQLite.
struct Served {
    runtime: tokio::runtime::Runtime,
    store: Store,
    running: Option<RunningServer>,
    url: String,
    pin: [u8; 32],
    /// Database and TLS identity, removed last.
    _dir: tempfile::TempDir,
}

impl Served {
    /// Opens an empty store whose genesis policy is the bulk log's.
    fn start(bulk: &Bulk) -> Served {
        let dir = tempfile::tempdir_in(store_parent()).unwrap();
        let (identity, _) = tollgate::tls::self_signed(dir.path(), &[]).unwrap();
        let pin = *identity.fingerprint().as_bytes();
        let database = DatabaseUrl::Sqlite(dir.path().join("store.db"));
        let mut config = StoreConfig::new(
            database,
            bulk.policy.clone(),
            Signer::generate(common::ORIGIN),
        );
        config.max_clock_skew = bulk_clock_skew(bulk.entries.len());
        // The server runtime, as `tollgate serve` builds it.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let (store, running) =
            runtime.block_on(common::served::serve_in_process(config, &identity));
        let url = format!("https://{}", running.addr);
        Served {
            runtime,
            store,
            running: Some(running),
            url,
            pin,
            _dir: dir,
        }
    }

    /// A client of this store signing requests as `signer`.
    fn client(&self, signer: Signer) -> StoreClient {
        StoreClient::with_trust(&self.url, &Trust::Pin(self.pin), Arc::new(signer)).unwrap()
    }

    /// Uploads the evidence file the bulk log's gate results cite.
    fn upload_evidence(&self, client: &StoreClient, bulk: &Bulk) {
        let evidence = bulk.gate_evidence().unwrap();
        self.runtime
            .block_on(client.put_evidence(evidence.bytes.clone(), &evidence.media_type))
            .unwrap_or_else(|e| panic!("the store refused the evidence: {e}"));
    }

    /// Appends `entries` in order; entry k must land at index `first + k`.
    fn append(&self, client: &StoreClient, first: u64, entries: &[Vec<u8>]) {
        self.runtime.block_on(async {
            for (index, entry) in (first..).zip(entries) {
                let receipt = client
                    .submit(entry.clone())
                    .await
                    .unwrap_or_else(|e| panic!("the store refused bulk entry {index}: {e}"));
                assert!(
                    receipt.created && receipt.index == index,
                    "bulk entry {index} landed at index {} (created: {}): the store's log is not Bulk's",
                    receipt.index,
                    receipt.created
                );
            }
        });
    }

    /// Panics unless the store's checkpoint is Bulk's log of `entries`.
    fn assert_log_is(&self, entries: &[Vec<u8>]) {
        let served = self.store.checkpoint();
        let checkpoint = served.checkpoint();
        let tree = MerkleTree::from_leaf_hashes(entries.iter().map(|e| leaf_hash(e)));
        assert_eq!(
            checkpoint.size,
            entries.len() as u64,
            "the store's checkpoint size is not the number of bulk entries appended"
        );
        assert!(
            checkpoint.root == tree.root(),
            "the store's checkpoint root at size {} is not Bulk's tree root: the logs differ",
            checkpoint.size
        );
    }

    /// Stops serving (the store is then unreachable: connection refused).
    fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            self.runtime.block_on(running.shutdown());
        }
    }
}

/// A client home: key, configuration, data and cache directories.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    /// `alice`'s home, enrolled with `served` by `tollgate join --yes`.
    fn enrol(bulk: &Bulk, served: &Served) -> Home {
        let home = Home {
            dir: tempfile::tempdir().unwrap(),
        };
        let key = home.path().join("key");
        file::write(&key, &signer_of(bulk, OPERATOR), false).unwrap();
        let config = home.path().join("config");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("config.toml"),
            format!("key = \"{}\"\n", key.display()),
        )
        .unwrap();
        let pin = tollgate::tls::pin_text(&served.pin);
        let key_arg = key.display().to_string();
        let out = home.run(&[
            "join",
            &served.url,
            "--pin",
            &pin,
            "--yes",
            "--key",
            &key_arg,
        ]);
        assert_success("join", &out);
        home
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `tollgate ARGS` as this home's user; stdin closed, stdout and
    /// stderr piped.
    /// The environment every process of this home runs with.
    fn env_paths(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("HOME", self.path().to_path_buf()),
            ("TOLLGATE_CONFIG_DIR", self.path().join("config")),
            ("TOLLGATE_DATA_DIR", self.path().join("data")),
            ("TOLLGATE_CACHE_DIR", self.path().join("cache")),
        ]
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .envs(self.env_paths())
            .env_remove("TOLLGATE_KEY")
            .env_remove("TOLLGATE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(bin(), args).output().unwrap()
    }

    /// Runs `tollgate ARGS` once, timed from spawn to exit (pipes drained).
    fn timed(&self, args: &[&str]) -> (Duration, Output) {
        let mut command = self.command(bin(), args);
        let start = Instant::now();
        let out = command.output().unwrap();
        (start.elapsed(), out)
    }

    /// Peak RSS in KiB of one `tollgate ARGS`, by `/usr/bin/time -f %M`.
    fn peak_rss_kib(&self, args: &[&str]) -> Option<u64> {
        let time = Path::new("/usr/bin/time");
        if !time.exists() {
            return None;
        }
        let report = self.path().join("rss.txt");
        let report_arg = report.display().to_string();
        let mut full = vec!["-f", "%M", "-o", &report_arg, bin()];
        full.extend_from_slice(args);
        let out = self.command("/usr/bin/time", &full).output().ok()?;
        assert_success(&args.join(" "), &out);
        std::fs::read_to_string(&report).ok()?.trim().parse().ok()
    }
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tollgate")
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "`tollgate {what}` failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `fetched` and `log_size` from `tollgate sync --json`.
fn sync_counts(out: &Output) -> (u64, u64) {
    assert_success("sync --json", out);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("`tollgate sync --json` printed no JSON ({e})"));
    let field = |name: &str| {
        value[name]
            .as_u64()
            .unwrap_or_else(|| panic!("`tollgate sync --json` has no {name}: {value}"))
    };
    (field("fetched"), field("log_size"))
}

/// The wall-clock samples of one figure.
struct Figure {
    name: String,
    samples: Vec<Duration>,
    /// The budget it is compared with, in ms.
    budget_ms: Option<f64>,
    /// Bytes the last sample printed on stdout.
    stdout_bytes: usize,
}

impl Figure {
    fn new(name: impl Into<String>, budget_ms: Option<f64>) -> Figure {
        Figure {
            name: name.into(),
            samples: Vec::new(),
            budget_ms,
            stdout_bytes: 0,
        }
    }

    fn sorted_ms(&self) -> Vec<f64> {
        let mut values: Vec<f64> = self.samples.iter().copied().map(ms).collect();
        values.sort_by(f64::total_cmp);
        values
    }

    fn median_ms(&self) -> f64 {
        let values = self.sorted_ms();
        let n = values.len();
        if n % 2 == 1 {
            values[n / 2]
        } else {
            f64::midpoint(values[n / 2 - 1], values[n / 2])
        }
    }

    /// Records one timed process.
    fn push(&mut self, elapsed: Duration, out: &Output) {
        self.samples.push(elapsed);
        self.stdout_bytes = out.stdout.len();
    }

    fn print(&self, baseline_ms: f64) {
        let values = self.sorted_ms();
        let median = self.median_ms();
        let verdict = self.budget_ms.map_or(String::new(), |budget| {
            format!(
                "  budget ≤ {budget:.0} ms: {}",
                if median <= budget { "MET" } else { "NOT MET" }
            )
        });
        println!(
            "{:<42} n={:<2} min {:>8.1}  median {:>8.1}  max {:>8.1} ms  median/--version {:>7.1}×  stdout {:>6.1} KiB{verdict}",
            self.name,
            values.len(),
            values[0],
            median,
            values[values.len() - 1],
            median / baseline_ms,
            self.stdout_bytes as f64 / 1024.0,
        );
    }
}

/// `tollgate --version`, `runs` times.
fn time_version(home: &Home, runs: usize) -> Figure {
    let mut figure = Figure::new("tollgate --version", None);
    for _ in 0..runs {
        let (elapsed, out) = home.timed(&["--version"]);
        assert_success("--version", &out);
        figure.push(elapsed, &out);
    }
    figure
}

/// The first sync: every entry fetched and verified, the cache written.
fn time_cold_sync(home: &Home, size: u64) -> Figure {
    let mut figure = Figure::new(format!("cold sync ({size} entries)"), Some(10_000.0));
    let (elapsed, out) = home.timed(&["sync", "--json"]);
    let (fetched, log_size) = sync_counts(&out);
    assert_eq!(
        (fetched, log_size),
        (size, size),
        "the cold sync did not fetch the whole log"
    );
    println!("cold sync: fetched {fetched} entries, log size {log_size}");
    figure.push(elapsed, &out);
    figure
}

/// Per run: one held-back entry appended, then `tollgate sync --json`.
fn time_incremental_syncs(
    home: &Home,
    served: &Served,
    client: &StoreClient,
    size: u64,
    held_back: &[Vec<u8>],
) -> Figure {
    let mut figure = Figure::new("incremental sync (+1 entry)", Some(100.0));
    for (new_size, entry) in (size + 1..).zip(held_back) {
        served.append(client, new_size - 1, std::slice::from_ref(entry));
        let (elapsed, out) = home.timed(&["sync", "--json"]);
        assert_eq!(
            sync_counts(&out),
            (1, new_size),
            "the incremental sync did not fetch exactly the one new entry"
        );
        figure.push(elapsed, &out);
    }
    figure
}

/// The cockpit (`tollgate`, no command, in a pseudo-terminal at 200×60) on
/// the N-entry cache, following the store live over `/v1/events`: each of
/// `held_back` is appended, and timed from the store's receipt in hand to
/// the cockpit's screen showing the new log size (the header's `log N`):
/// the store's event, the incremental verified sync, the evidence
/// re-judgement, the view model and the frame, as a person sees them.
fn time_live(
    home: &Home,
    served: &Served,
    client: &StoreClient,
    size: u64,
    held_back: &[Vec<u8>],
) -> Figure {
    let paths = home.env_paths();
    let env: Vec<(&str, &Path)> = paths.iter().map(|(k, v)| (*k, v.as_path())).collect();
    let cockpit = common::pty::Pty::start_sized(&[], &env, (60, 200));
    cockpit.wait_for(&format!("log {size} "));
    // Timed only once the event stream is open: before that a new entry
    // waits for the next poll.
    cockpit.wait_for(tollgate::tui::strings::LIVE);
    let mut figure = Figure::new("cockpit: new entry on screen (from receipt)", Some(100.0));
    for (new_size, entry) in (size + 1..).zip(held_back) {
        served.append(client, new_size - 1, std::slice::from_ref(entry));
        let acked = Instant::now();
        cockpit.wait_for_every(&format!("log {new_size} "), Duration::from_millis(1));
        figure.samples.push(acked.elapsed());
    }
    cockpit.quit();
    figure
}

/// `tollgate ARGS` `runs` times with the store down: the cached view.
fn time_offline(home: &Home, args: &[&str], runs: usize, size: u64) -> Figure {
    let name = format!("tollgate {} (offline)", args.join(" "));
    let mut figure = Figure::new(name, Some(300.0));
    let expected = format!("as of checkpoint {size}");
    for _ in 0..runs {
        let (elapsed, out) = home.timed(args);
        assert_success(&args.join(" "), &out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&expected),
            "`tollgate {}` did not say it showed the cache {expected}; stderr:\n{stderr}",
            args.join(" ")
        );
        figure.push(elapsed, &out);
    }
    figure
}

fn main() {
    let entries: usize = common::env_or("TOLLGATE_BENCH_ENTRIES", 100_000);
    let runs: usize = common::env_or("TOLLGATE_BENCH_RUNS", 7);
    assert!(entries > 0 && runs > 0, "N and R must be positive");
    println!(
        "client_process: {entries} entries in the log, {runs} run(s) per figure; {} cores (shared with other work on this machine); every process's stdout and stderr piped and drained",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
    );

    let building = Instant::now();
    let bulk = Bulk::with_entries_and_evidence(entries + 2 * runs, EVIDENCE_NAME, &evidence());
    let (log, held_back) = bulk.entries.split_at(entries);
    let (for_syncs, for_cockpit) = held_back[..2 * runs].split_at(runs);
    println!(
        "built the bulk log: {} entries in {:.1} s",
        bulk.entries.len(),
        building.elapsed().as_secs_f64()
    );

    let mut served = Served::start(&bulk);
    let appender = served.client(signer_of(&bulk, APPENDER));
    let appending = Instant::now();
    served.upload_evidence(&appender, &bulk);
    served.append(&appender, 0, log);
    served.assert_log_is(log);
    println!(
        "appended {entries} entries over HTTPS, one at a time, in {:.1} s ({:.0} entries/s; store database under {}); the store's root is Bulk's",
        appending.elapsed().as_secs_f64(),
        entries as f64 / appending.elapsed().as_secs_f64(),
        store_parent().display()
    );

    let home = Home::enrol(&bulk, &served);
    let size = entries as u64;
    let version = time_version(&home, runs);
    let cold = time_cold_sync(&home, size);
    let incremental = time_incremental_syncs(&home, &served, &appender, size, for_syncs);
    let live = time_live(&home, &served, &appender, size + runs as u64, for_cockpit);
    let final_size = size + 2 * runs as u64;

    served.stop();
    let status = time_offline(&home, &["status"], runs, final_size);
    let filtered = time_offline(&home, &["status", "--service", SERVICE], runs, final_size);
    let rss = home.peak_rss_kib(&["status"]);

    let baseline = version.median_ms();
    println!("\nwall clock, spawn to exit, ms:");
    for figure in [&version, &cold, &incremental, &live, &status, &filtered] {
        figure.print(baseline);
    }
    match rss {
        Some(kib) => println!(
            "peak RSS of one offline `tollgate status`: {:.1} MiB",
            kib as f64 / 1024.0
        ),
        None => println!("peak RSS: /usr/bin/time not found, not measured"),
    }
    if std::env::var_os("TOLLGATE_BENCH_KEEP_HOME").is_some() {
        keep(home);
    }
    drop(served);
}

/// Keeps the client home (its cache of the whole log) for timing or
/// profiling `tollgate status` by hand; the store is gone, so it runs
/// offline, as timed here.
fn keep(home: Home) {
    let path = home.dir.keep();
    println!(
        "client home kept: HOME={p} TOLLGATE_CONFIG_DIR={p}/config TOLLGATE_DATA_DIR={p}/data TOLLGATE_CACHE_DIR={p}/cache",
        p = path.display()
    );
}
