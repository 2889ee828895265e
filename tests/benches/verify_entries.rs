//! Budget (DESIGN.md §7): verifying log entries — signature plus Merkle
//! recomputation — must reach at least 80% of the raw ed25519-dalek
//! `verify_strict` rate per core, and scale with cores.
//!
//! `cargo bench --bench verify_entries` (N = 100 000 by default;
//! `TOLLGATE_BENCH_ENTRIES` changes it). Compare `pipeline/one-core` with
//! `raw-verify-strict/one-core`, and `pipeline/all-cores` with it for scaling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tollgate::client::verify::verify_log;
use tollgate::digest::Digest;
use tollgate::envelope::{Envelope, pae};
use tollgate::keys::Signer;
use tollgate::policy::Policy;
use tollgate::state::KeyRing;
use tollgate::statement::{
    Binding, Decision, DecisionAction, ObservedCheckpoint, Predicate, RootHash, Statement,
    new_nonce,
};

fn entries(n: usize) -> (Policy, Vec<Vec<u8>>) {
    let signers: BTreeMap<String, Signer> = common::PEOPLE
        .iter()
        .map(|(n, _)| ((*n).to_owned(), Signer::generate(n)))
        .collect();
    let policy = Policy::parse(&common::policy_text(1, &signers), "policy.toml").unwrap();
    let approvers = ["alice", "erin", "grace"];
    let entries = (0..n)
        .map(|i| {
            let who = &signers[approvers[i % approvers.len()]];
            let decision = Decision {
                action: DecisionAction::Approve {
                    promotion: Digest::of(&i.to_le_bytes()),
                },
                role: "release-manager".into(),
                rationale: "Reviewed the gate results, the drift report and the release notes."
                    .into(),
                issued_at: common::T0,
                expires_at: common::T0 + time::Duration::hours(24),
                nonce: new_nonce(),
                bound: Binding {
                    policy: policy.digest(),
                    gate_results: Digest::of(b"gates"),
                    snapshot: Some(Digest::of(b"snapshot")),
                },
                observed: ObservedCheckpoint {
                    origin: common::ORIGIN.into(),
                    size: i as u64,
                    root: RootHash([9; 32]),
                },
            };
            let statement = Statement::about(
                "payments",
                Digest::of(b"artifact"),
                Predicate::Decision(decision),
            );
            who.sign_statement(statement.to_payload()).to_json()
        })
        .collect();
    (policy, entries)
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("TOLLGATE_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (policy, entries) = entries(n);
    let ring = KeyRing::of(&policy);
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
    group.bench_function("raw-verify-strict/all-cores", |b| {
        use rayon::prelude::*;
        b.iter(|| {
            raw.par_iter()
                .for_each(|(key, message, sig)| key.verify_strict(message, sig).unwrap());
        });
    });
    group.bench_function("pipeline/one-core", |b| {
        b.iter(|| one_core.install(|| black_box(verify_log(&ring, &entries).unwrap().1)));
    });
    group.bench_function("pipeline/all-cores", |b| {
        b.iter(|| black_box(verify_log(&ring, &entries).unwrap().1));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
