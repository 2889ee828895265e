//! Budget (DESIGN.md §7, issue 7 item 2): with 100k entries cached, a cached
//! `status` (load the verified cache: no network) ≤ 300 ms whole process,
//! and an incremental sync of one new entry ≤ 100 ms whole process. This
//! bench measures the library parts of both on a realistic log
//! (tests/common/bulk): `load` is `client::cache::Cache::load` (manifest
//! signature, checkpoint, saved replay read and its sha256 checked, fold
//! resumed, tree rebuilt from the saved leaves, root compared);
//! `load-and-state` adds what `status` computes from it (readiness at now);
//! `extend-one` is the verification of one new entry on top of the loaded
//! cache (`verify_log_from`), and `save-one` appends it and re-signs the
//! manifest (with fsync; the saved replay is kept). `save-all` is a first
//! save (every entry and a new saved replay) and `full-verify` the cold path,
//! for comparison.
//!
//! `cargo bench --bench cache` (N = 100 000 by default;
//! `TOLLGATE_BENCH_ENTRIES` changes it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use time::OffsetDateTime;
use tollgate::client::cache::Cache;
use tollgate::client::sync::{Base, LogInputs, verify_log_from, verify_log_snapshot};
use tollgate::keys::Signer;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::{Checkpoint, MerkleTree, SignedCheckpoint, leaf_hash};

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("TOLLGATE_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let bulk = common::bulk::Bulk::with_entries(n + 1);
    let (policy, entries) = (bulk.policy, bulk.entries);
    let operator =
        Signer::from_signing_key("alice", bulk.signers["alice"].signing_key().clone()).unwrap();
    let log_key = Signer::generate(common::ORIGIN);
    let vkey = NoteVerifierKey::of_signer(&log_key).unwrap();
    let tree = MerkleTree::from_leaf_hashes(entries.iter().map(|e| leaf_hash(e)));
    let total = entries.len() as u64;
    let cached = total - 1;
    let checkpoint = |size: u64| {
        let checkpoint = Checkpoint {
            origin: common::ORIGIN.into(),
            size,
            root: tree.root_at(size).unwrap(),
        };
        SignedCheckpoint::sign(&checkpoint, &log_key)
            .unwrap()
            .into_bytes()
    };
    let (old, new) = (checkpoint(cached), checkpoint(total));
    let trusted = SignedCheckpoint::parse_and_verify(&old, &vkey).unwrap();
    let proof = tree.consistency_proof(cached, total).unwrap();
    let split = usize::try_from(cached).unwrap();
    let inputs = |checkpoint, entries, trusted, consistency| LogInputs {
        log_vkey: &vkey,
        policy_digest: policy.digest(),
        served_policy: Some(policy.document()),
        checkpoint,
        entries,
        trusted,
        consistency,
    };

    // The cache as a first sync leaves it. With `TOLLGATE_BENCH_HOME`, a
    // whole client home is written there (config pointing at a closed port,
    // key, trusted checkpoint, cache) for timing `tollgate status` as a
    // process: `TOLLGATE_{CONFIG,DATA,CACHE}_DIR=$HOME/{config,data,cache}`.
    let dir = tempfile::tempdir().unwrap();
    let home = std::env::var_os("TOLLGATE_BENCH_HOME").map(std::path::PathBuf::from);
    let cache_root = home
        .as_ref()
        .map_or(dir.path().to_path_buf(), |h| h.join("cache"));
    if let Some(home) = &home {
        write_home(home, &operator, &vkey, &policy.digest().to_string(), &old);
    }
    let cache = Cache::new(&cache_root, &vkey, &operator.public());
    let first = verify_log_snapshot(&inputs(&old, &entries[..split], None, &[])).unwrap();
    cache
        .save(
            &operator,
            &first.cache_update(None, &entries[..split], OffsetDateTime::now_utc()),
        )
        .unwrap();
    let load = || {
        cache
            .load(&vkey, policy.digest(), &operator.public(), Some(&trusted))
            .unwrap()
            .unwrap()
    };
    let loaded = load();
    let kept = loaded.kept();
    let extended = verify_log_from(
        &inputs(&new, &entries[split..], Some(&old), &proof),
        Some(Base {
            replay: loaded.replay.clone(),
            entries: loaded.entries.clone(),
        }),
    )
    .unwrap();

    let mut group = c.benchmark_group("cache");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15));
    group.bench_function("load", |b| {
        b.iter(|| black_box(load().size()));
    });
    group.bench_function("load-and-state", |b| {
        b.iter(|| {
            // As `status` does: the fold's state taken, not copied.
            let (folder, _, _) = load().replay.into_parts();
            black_box(
                folder
                    .into_state_judged(
                        OffsetDateTime::now_utc(),
                        &tollgate::state::Rejudgements::new(),
                    )
                    .promotions
                    .len(),
            )
        });
    });
    group.bench_function("extend-one", |b| {
        b.iter_batched(
            || Base {
                replay: loaded.replay.clone(),
                entries: loaded.entries.clone(),
            },
            |base| {
                black_box(
                    verify_log_from(
                        &inputs(&new, &entries[split..], Some(&old), &proof),
                        Some(base),
                    )
                    .unwrap()
                    .fetched,
                )
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("save-one", |b| {
        b.iter(|| {
            cache
                .save(
                    &operator,
                    &extended.cache_update(
                        Some(&kept),
                        &entries[split..],
                        OffsetDateTime::now_utc(),
                    ),
                )
                .unwrap();
        });
    });
    let other = tempfile::tempdir().unwrap();
    let other = Cache::new(other.path(), &vkey, &operator.public());
    group.bench_function("save-all", |b| {
        b.iter(|| {
            other
                .save(
                    &operator,
                    &first.cache_update(None, &entries[..split], OffsetDateTime::now_utc()),
                )
                .unwrap();
        });
    });
    group.bench_function("full-verify", |b| {
        b.iter(|| {
            black_box(
                verify_log_snapshot(&inputs(&new, &entries, None, &[]))
                    .unwrap()
                    .fetched,
            )
        });
    });
    group.finish();
    // `save-one` grew the cache past the home's trusted checkpoint: put back
    // the cache a first sync leaves, for timing `tollgate status`.
    cache
        .save(
            &operator,
            &first.cache_update(None, &entries[..split], OffsetDateTime::now_utc()),
        )
        .unwrap();
}

/// A client home whose store is unreachable (a closed port): `status` then
/// answers from the cache.
fn write_home(
    home: &std::path::Path,
    operator: &Signer,
    vkey: &NoteVerifierKey,
    policy_digest: &str,
    checkpoint: &[u8],
) {
    let key = home.join("data").join("keys").join("operator.key");
    tollgate::keys::file::write(&key, operator, true).unwrap();
    let config = format!(
        "store = \"https://127.0.0.1:9\"\npin = \"sha256:{}\"\nkey = \"{}\"\nlog_vkey = \"{vkey}\"\npolicy_digest = \"{policy_digest}\"\n",
        "00".repeat(32),
        key.display(),
    );
    std::fs::create_dir_all(home.join("config")).unwrap();
    std::fs::write(home.join("config").join("config.toml"), config).unwrap();
    let checkpoints = home.join("data").join("checkpoints");
    std::fs::create_dir_all(&checkpoints).unwrap();
    std::fs::write(
        checkpoints.join(format!("{}.note", common::ORIGIN.replace('/', "_"))),
        checkpoint,
    )
    .unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
