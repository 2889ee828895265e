//! The screenshots in `screenshots/`: the cockpit as the demo's release
//! manager sees the story, driven by the same key events a person would
//! press, drawn by the real renderer into a buffer, written as SVG.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use time::OffsetDateTime;

use super::scenario::Scenario;
use crate::client::evidence::Blobs;
use crate::client::sync::VerifiedLog;
use crate::tui::action::Action;
use crate::tui::app::{App, DetailTab, Msg, RowKey, Session};
use crate::tui::config::ConfigError;
use crate::tui::data::Data;
use crate::tui::detail::Answers;
use crate::tui::{load_keymap, load_theme, render};

/// The size every screenshot is drawn at.
pub const SIZE: (u16, u16) = (120, 40);

/// Why a screenshot could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ShotError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("drawing {0}: {1}")]
    Draw(&'static str, std::io::Error),
    #[error("the story has no row for {0}")]
    Missing(&'static str),
}

/// The clock of the screenshots: the same pictures on every run.
pub const NOW: OffsetDateTime = time::macros::datetime!(2026-11-30 12:00 UTC);

/// One screen of the cockpit, as the renderer drew it.
#[derive(Debug)]
pub struct Screen {
    /// The SVG file's name in `screenshots/`.
    pub file: &'static str,
    pub title: &'static str,
    pub buffer: Buffer,
}

impl Screen {
    /// The screen as an SVG image.
    pub fn svg(&self) -> String {
        super::svg::render(&self.buffer, &format!("tollgate — {}", self.title))
    }
}

/// Why the story's screens could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum StoryError {
    #[error("the demo keys: {0}")]
    Key(#[from] crate::keys::KeyError),
    #[error("the demo policy: {0}")]
    Policy(#[from] crate::policy::PolicyErrors),
    #[error(transparent)]
    Scenario(#[from] super::scenario::ScenarioError),
    #[error(transparent)]
    Shot(#[from] ShotError),
    #[error("the re-judging runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Every screen of the demo's story, drawn with fixed keys at [`NOW`]. The
/// evidence is re-judged as the cockpit's client task would, from an
/// evidence cache under `scratch` (no store needed).
pub fn story(scratch: &std::path::Path) -> Result<Vec<Screen>, StoryError> {
    let keys = super::personas::Keys::fixed()?;
    let policy = super::personas::policy(&keys, NOW)?;
    let log_seed = crate::digest::Digest::of(b"tollgate demo log key");
    let log_key = crate::keys::Signer::from_signing_key(
        &policy.origin,
        ed25519_dalek::SigningKey::from_bytes(log_seed.as_bytes()),
    )?;
    let scenario = super::scenario::build(&keys, &log_key, &policy, NOW)?;
    let mut log = super::scenario::verified(&scenario.steps, &keys, &log_key, &policy)?;
    let cache = crate::client::evidence::BlobCache::new(scratch.join("evidence"));
    for step in &scenario.steps {
        for (_, bytes) in &step.blobs {
            cache.keep(&crate::digest::Digest::of(bytes), bytes);
        }
    }
    let blobs = tokio::runtime::Builder::new_current_thread()
        .build()?
        .block_on(crate::client::evidence::Rejudger::new(cache).rejudge(None, &mut log));
    Ok(screens(log, &blobs, &scenario, NOW)?)
}

/// Every screen. `log` carries this client's re-judgements of the gate
/// results, and `blobs` the evidence documents they were judged on, as the
/// cockpit's client task leaves them.
pub fn screens(
    log: VerifiedLog,
    blobs: &Blobs,
    scenario: &Scenario,
    now: OffsetDateTime,
) -> Result<Vec<Screen>, ShotError> {
    let keymap = load_keymap(None, None)?;
    let theme = load_theme(None, false, None)?;
    let session = Session {
        store: "https://127.0.0.1:8443".into(),
        me: "alice".into(),
        read_only: false,
    };
    let mut app = App::new(session, keymap, theme, now);
    let mut data = Data::from_log(&log, now);
    data.me = Some("alice".into());
    let mut answers = Answers::new(Arc::new(log), data.index.clone());
    for (digest, blob) in blobs {
        answers.add_blob(*digest, blob.clone());
    }
    let a = &mut answers;
    let effects = app.update(Msg::Synced(Box::new(data)));
    a.settle(&mut app, effects);
    app.update(Msg::Resize(SIZE.0, SIZE.1));
    let checkout = scenario.awaiting_release_manager;
    let mut shots = Vec::new();

    app.act(Action::ViewInbox);
    settle(&mut app, a);
    shots.push(draw(&app, "inbox.svg", "inbox — what waits for alice")?);

    app.act(Action::ViewPromotions);
    for (file, promotion, tab, title) in [
        (
            "gates.svg",
            checkout,
            DetailTab::Gates,
            "a promotion's gates",
        ),
        (
            "approvals.svg",
            scenario.drifted,
            DetailTab::Approvals,
            "approvals: stale, expiring",
        ),
        (
            "drift.svg",
            scenario.drifted,
            DetailTab::Drift,
            "drift between staging and prod",
        ),
        ("evidence.svg", checkout, DetailTab::Evidence, "evidence"),
        ("timeline.svg", checkout, DetailTab::Timeline, "timeline"),
    ] {
        select(
            &mut app,
            a,
            |r| *r == RowKey::Promotion(promotion),
            "a promotion",
        )?;
        app.tab = tab;
        shots.push(draw(&app, file, title)?);
    }
    select(
        &mut app,
        a,
        |r| *r == RowKey::Promotion(checkout),
        "checkout",
    )?;
    app.tab = DetailTab::Gates;
    app.act(Action::Approve);
    type_text(&mut app, a, "release notes and evidence reviewed");
    key(&mut app, a, KeyCode::Enter);
    shots.push(draw(
        &app,
        "approve.svg",
        "approve: exactly what will be signed",
    )?);
    app.act(Action::Cancel);
    app.popups.clear();

    app.act(Action::ViewEnvironments);
    settle(&mut app, a);
    select(
        &mut app,
        a,
        |r| {
            matches!(r, RowKey::Service { environment, service }
                if environment == "prod" && service == "search")
        },
        "search in prod",
    )?;
    shots.push(draw(
        &app,
        "environments.svg",
        "environments — what runs where",
    )?);
    app.act(Action::Rollback);
    type_text(&mut app, a, "p99 doubled");
    key(&mut app, a, KeyCode::Enter);
    shots.push(draw(
        &app,
        "rollback.svg",
        "rollback: type the environment to confirm",
    )?);
    app.popups.clear();

    app.act(Action::ViewAudit);
    settle(&mut app, a);
    shots.push(draw(&app, "audit.svg", "the verified audit log")?);
    Ok(shots)
}

/// Presses `code`, and answers what the app asks, as its client task would.
fn key(app: &mut App, answers: &mut Answers, code: KeyCode) {
    let effects = app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    answers.settle(app, effects);
}

fn type_text(app: &mut App, answers: &mut Answers, text: &str) {
    for c in text.chars() {
        key(app, answers, KeyCode::Char(c));
    }
}

/// Answers what the app asks, as its client task would.
fn settle(app: &mut App, answers: &mut Answers) {
    let effects = app.take_effects();
    answers.settle(app, effects);
}

/// Selects the first row that is `wanted`, its detail answered.
fn select(
    app: &mut App,
    answers: &mut Answers,
    wanted: impl Fn(&RowKey) -> bool,
    what: &'static str,
) -> Result<(), ShotError> {
    app.act(Action::Top);
    for _ in 0..app.rows.len() {
        if app.selected_row().as_ref().is_some_and(&wanted) {
            settle(app, answers);
            return Ok(());
        }
        app.act(Action::Down);
    }
    Err(ShotError::Missing(what))
}

fn draw(app: &App, file: &'static str, title: &'static str) -> Result<Screen, ShotError> {
    let mut terminal =
        Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).map_err(|e| ShotError::Draw(title, e))?;
    terminal
        .draw(|f| render::draw(app, f))
        .map_err(|e| ShotError::Draw(title, e))?;
    Ok(Screen {
        file,
        title,
        buffer: terminal.backend().buffer().clone(),
    })
}
