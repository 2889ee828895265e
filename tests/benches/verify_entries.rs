//! Budget (DESIGN.md §7): the production replay (`tollgate::replay`:
//! signature, key ring, observed roots, fold, policy rotations, Merkle tree)
//! must reach at least 85% of the raw ed25519-dalek `verify_strict` rate per
//! core, and scale with cores. The log is realistic: requests, gate
//! results, approvals bound to the real observed root, deployments.
//!
//! `cargo bench --bench verify_entries` (N = 100 000 by default;
//! `TOLLGATE_BENCH_ENTRIES` changes it). Compare `pipeline/one-core` with
//! `raw-verify-strict/one-core`, and `pipeline/all-cores` with it for scaling.
//! `raw-strict-key/one-core` is the pipeline's own signature check alone
//! (`keys::StrictKey`: `verify_strict`'s verdict without its redundant
//! square root), so the part of the pipeline that is not the signature
//! check can be read off too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tollgate::envelope::{Envelope, pae};
use tollgate::replay::Replay;

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("TOLLGATE_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let bulk = common::bulk::Bulk::with_entries(n);
    let (policy, entries) = (bulk.policy, bulk.entries);
    let n = entries.len();
    let genesis = std::sync::Arc::new(policy.clone());
    // The production path: the one verified replay the client's sync and
    // the store's startup run (signatures, key ring, observed roots, fold,
    // policy rotations, Merkle tree).
    // The replay and its verified entries are returned, not dropped inside
    // the measurement: the client's sync keeps both (the entries go to its
    // cache and the cockpit's index), and criterion's
    // `iter_with_large_drop` frees them outside the timing.
    let replay = || {
        let mut replay = Replay::new(std::sync::Arc::clone(&genesis));
        let replayed = replay.extend(&entries).unwrap();
        assert!(replay.refused().is_empty());
        (replay, replayed)
    };
    let keys: BTreeMap<String, _> = policy
        .operators
        .values()
        .map(|o| (o.key.key_id().to_string(), *o.key.verifying_key()))
        .collect();
    // The raw baseline: exactly the signature check, with the key already
    // decoded and the PAE already built.
    let raw: Vec<_> = entries
        .iter()
        .map(|bytes| {
            let envelope = Envelope::from_json(bytes).unwrap();
            let signature = envelope.signatures()[0].clone();
            let key = keys[&signature.keyid];
            (
                key,
                pae(envelope.payload_type(), envelope.unverified_payload()),
                signature.sig,
            )
        })
        .collect();
    let strict: Vec<_> = raw
        .iter()
        .map(|(key, message, sig)| (tollgate::keys::StrictKey::new(key), message, sig))
        .collect();
    let one_core = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();

    let mut group = c.benchmark_group("verify-entries");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("raw-verify-strict/one-core", |b| {
        b.iter(|| {
            for (key, message, sig) in &raw {
                key.verify_strict(message, sig).unwrap();
            }
        });
    });
    group.bench_function("raw-strict-key/one-core", |b| {
        b.iter(|| {
            for (key, message, sig) in &strict {
                assert!(key.verify(message, sig));
            }
        });
    });
    group.bench_function("raw-verify-strict/all-cores", |b| {
        use rayon::prelude::*;
        b.iter(|| {
            raw.par_iter()
                .for_each(|(key, message, sig)| key.verify_strict(message, sig).unwrap());
        });
    });
    group.bench_function("pipeline/one-core", |b| {
        b.iter_with_large_drop(|| one_core.install(replay));
    });
    group.bench_function("pipeline/all-cores", |b| {
        b.iter_with_large_drop(replay);
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
