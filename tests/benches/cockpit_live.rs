//! Budget (issue 8): a new entry is on the cockpit's screen within 100 ms
//! of the store accepting it, over the events stream.
//!
//! A real `tollgate serve` (SQLite, HTTPS) and the cockpit's own client
//! task (`tui::worker::run`, exactly as the cockpit runs it: the
//! `/v1/events` follower, the incremental verified sync from the local
//! cache, the evidence re-judgement, the view model). Each iteration CI
//! submits one entry; the clock starts when the store's acknowledgement
//! (a cosigned receipt) is in hand and stops when the client task posts the
//! verified view model that holds it. Drawing that frame is the `cockpit`
//! bench (about 1 ms). `submit` — the acknowledged round trip alone — is
//! the baseline measured in the same run.
//!
//! `cargo bench --bench cockpit_live`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use tokio::sync::mpsc;
use tollgate::tui::app::Msg;
use tollgate::tui::worker;

use common::World;
use common::served::{Db, Served};

fn bench(c: &mut Criterion) {
    let world = World::new();
    let served = Served::start(&world, Db::Sqlite);
    let persona = served.data_path("alice").parent().unwrap().to_path_buf();
    // Everything the client task keeps (cache, outbox, checkpoints) is
    // alice's, as in her cockpit.
    tollgate::paths::use_root(persona.clone());
    let config = tollgate::client::config::load(Some(&persona.join("config/config.toml"))).unwrap();
    let signer = tollgate::keys::file::read(&config.key).unwrap();
    let client = tollgate::client::http::StoreClient::new(&config, Arc::new(signer)).unwrap();
    let ci = served.client("ci-main");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel();
    let (_req_tx, req_rx) = mpsc::unbounded_channel();
    runtime.spawn(worker::run(config, client, msg_tx, req_rx));
    // The size the client task has verified and posted.
    let mut wait_for = move |size: u64| {
        runtime.block_on(async {
            loop {
                match msg_rx.recv().await {
                    Some(Msg::Synced(data))
                        if data.checkpoint.as_ref().is_some_and(|c| c.size >= size) =>
                    {
                        return;
                    }
                    Some(_) => {}
                    None => panic!("the client task stopped"),
                }
            }
        });
    };
    let submit_runtime = tokio::runtime::Runtime::new().unwrap();
    let mut n = 0usize;
    let mut submit = || {
        n += 1;
        let receipt = submit_runtime
            .block_on(ci.submit(served.request_envelope(n)))
            .unwrap();
        receipt.index + 1
    };
    // The first sync, and the stream open.
    let size = submit();
    wait_for(size);
    std::thread::sleep(Duration::from_millis(500));

    let mut group = c.benchmark_group("cockpit-live");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("submit", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let size = submit();
                total += t.elapsed();
                wait_for(size);
            }
            total
        });
    });
    group.bench_function("ack-to-view-model", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let size = submit();
                let acked = Instant::now();
                wait_for(size);
                total += acked.elapsed();
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
