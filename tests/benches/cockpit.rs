//! Budget (DESIGN.md §7, issue 8): a frame of the cockpit renders within
//! 4 ms at 200×60 with 100k promotions and 1M log entries.
//!
//! The log is realistic (tests/common/bulk: promotions dev → staging with
//! gate results, approvals and deployments, every entry one the production
//! fold accepts), verified by the production replay into the
//! `VerifiedLog` the cockpit's worker builds, turned into the screen's
//! `Data` as the worker does, and drawn by the real renderer (`tui::render`)
//! into ratatui's `TestBackend` at 200×60: every view, with the detail pane.
//! `baseline` draws the same screen with no data (header, tabs, hints,
//! borders), so `view / baseline` is what the data costs;
//! `promotions/timeline-tab` is the promotions view with the detail pane
//! on the Timeline tab (every entry about the selected promotion).
//! `bare-table/promotions` draws only a bare ratatui `Table` of the rows
//! the promotions view shows, the design's other bound (`promotions` ≤ 1.5 ×
//! it).
//!
//! `cargo bench --bench cockpit` (1 000 000 entries by default;
//! `TOLLGATE_BENCH_ENTRIES` changes it). Building and verifying a million
//! entries takes a few minutes before the first sample.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Constraint;
use ratatui::widgets::{Row, Table};
use tollgate::client::sync::{LogInputs, verify_log_snapshot};
use tollgate::keys::Signer;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::{Checkpoint, MerkleTree, SignedCheckpoint, leaf_hash};
use tollgate::tui::action::Action;
use tollgate::tui::app::{App, DetailTab, Msg, RowKey};
use tollgate::tui::data::Data;
use tollgate::tui::detail::Answers;
use tollgate::tui::render;

const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;

fn app(now: time::OffsetDateTime) -> App {
    let mut app = common::cockpit("alice", false, false, now);
    app.update(Msg::Resize(WIDTH, HEIGHT));
    app
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("TOLLGATE_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let started = Instant::now();
    let bulk = common::bulk::Bulk::with_entries(n);
    let (policy, entries) = (bulk.policy, bulk.entries);
    let log_key = Signer::generate(common::ORIGIN);
    let vkey = NoteVerifierKey::of_signer(&log_key).unwrap();
    let tree = MerkleTree::from_leaf_hashes(entries.iter().map(|e| leaf_hash(e)));
    let size = entries.len() as u64;
    let checkpoint = SignedCheckpoint::sign(
        &Checkpoint {
            origin: common::ORIGIN.into(),
            size,
            root: tree.root_at(size).unwrap(),
        },
        &log_key,
    )
    .unwrap()
    .into_bytes();
    let log = verify_log_snapshot(&LogInputs {
        log_vkey: &vkey,
        policy_digest: policy.digest(),
        served_policy: Some(policy.document()),
        checkpoint: &checkpoint,
        entries: &entries,
        trusted: None,
        consistency: &[],
    })
    .unwrap();
    drop(entries);
    drop(tree);
    let now = time::OffsetDateTime::now_utc();
    let prepared = Instant::now();
    let data = Data::from_log(&log, now);
    let data_time = prepared.elapsed();
    let promotions = data.summaries.len();
    // The client task's answers: the selected promotion's detail.
    let mut answers = Answers::new(Arc::new(log), data.index.clone());
    eprintln!(
        "cockpit bench: {size} entries, {promotions} promotions; built and verified in {:.1} s; Data::from_log {:.0} ms; RSS holding the verified log and the view model {} MB",
        started.elapsed().as_secs_f64(),
        data_time.as_secs_f64() * 1000.0,
        rss_mb()
    );

    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let mut group = c.benchmark_group("cockpit-frame-200x60");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));

    let empty = app(now);
    group.bench_function("baseline", |b| {
        b.iter(|| {
            terminal.draw(|f| render::draw(&empty, f)).unwrap();
            black_box(terminal.backend().buffer().area);
        });
    });
    let mut full = app(now);
    full.update(Msg::Synced(Box::new(data)));
    for (name, view) in [
        ("inbox", Action::ViewInbox),
        ("promotions", Action::ViewPromotions),
        ("environments", Action::ViewEnvironments),
        ("audit", Action::ViewAudit),
    ] {
        full.act(view);
        // The middle of the list, not the top: virtualisation must hold
        // wherever the selection is.
        full.act(Action::Bottom);
        for _ in 0..(full.rows.len() / 2).min(5000) {
            full.act(Action::Up);
        }
        let effects = full.take_effects();
        answers.settle(&mut full, effects);
        group.bench_function(name, |b| {
            b.iter(|| {
                terminal.draw(|f| render::draw(&full, f)).unwrap();
                black_box(terminal.backend().buffer().area);
            });
        });
    }
    // The promotions view with the detail pane on the Timeline tab, which
    // lists every entry about the selected promotion: moving the selection
    // looks them up once, and the frames after draw what was found.
    full.act(Action::ViewPromotions);
    let effects = full.take_effects();
    answers.settle(&mut full, effects);
    full.tab = DetailTab::Timeline;
    group.bench_function("promotions/timeline-tab", |b| {
        b.iter(|| {
            terminal.draw(|f| render::draw(&full, f)).unwrap();
            black_box(terminal.backend().buffer().area);
        });
    });
    full.tab = DetailTab::Gates;
    // DESIGN.md §7's second bound: a bare ratatui `Table` of the same
    // visible rows (the promotions view's cells and widths, the row strings
    // made per frame as the view makes them), filling the same screen.
    // Compare `promotions` with it.
    full.act(Action::ViewPromotions);
    let data = full.data.as_ref().unwrap();
    let height = usize::from(HEIGHT);
    let first = full.selected[1].saturating_sub(height / 2);
    let visible: Vec<&tollgate::state::Summary> = (first..(first + height).min(full.rows.len()))
        .filter_map(|i| match full.rows.get(i)? {
            RowKey::Promotion(id) => data.summaries.get(&id),
            _ => None,
        })
        .collect();
    let widths = [14, 12, 14, 18, 8, 12].map(Constraint::Length);
    group.bench_function("bare-table/promotions", |b| {
        b.iter(|| {
            let rows = visible.iter().map(|p| {
                Row::new([
                    p.status.label().to_owned(),
                    p.service.to_string(),
                    p.version.to_string(),
                    format!("{} → {}", p.from.as_deref().unwrap_or("·"), p.to),
                    p.requested_by.to_string(),
                    p.id.short(),
                ])
            });
            let table = Table::new(rows, widths).header(Row::new([
                "status", "service", "version", "route", "by", "id",
            ]));
            terminal.draw(|f| f.render_widget(table, f.area())).unwrap();
            black_box(terminal.backend().buffer().area);
        });
    });
    group.finish();
}

/// This process's resident set (Linux), in MB.
fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

criterion_group!(benches, bench);
criterion_main!(benches);
