//! The screenshots in `screenshots/`: the cockpit as the demo's release
//! manager sees the story, driven by the same key events a person would
//! press, drawn by the real renderer into a buffer, written as SVG.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::OffsetDateTime;

use super::scenario::Scenario;
use crate::client::sync::VerifiedLog;
use crate::tui::action::Action;
use crate::tui::app::{App, DetailTab, Msg, RowKey, Session};
use crate::tui::config::ConfigError;
use crate::tui::data::Data;
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

/// Every screenshot: file name and SVG text.
pub fn all(
    log: VerifiedLog,
    scenario: &Scenario,
    now: OffsetDateTime,
) -> Result<Vec<(&'static str, String)>, ShotError> {
    let keymap = load_keymap(None, None)?;
    let theme = load_theme(None, false, None)?;
    let session = Session {
        store: "https://127.0.0.1:8443".into(),
        me: "alice".into(),
        read_only: false,
    };
    let mut app = App::new(session, keymap, theme, now);
    let mut data = Data::from_log(Arc::new(log), now);
    data.me = Some("alice".into());
    app.update(Msg::Synced(Box::new(data)));
    app.update(Msg::Resize(SIZE.0, SIZE.1));
    let checkout = scenario.awaiting_release_manager;
    let mut shots = Vec::new();

    app.act(Action::ViewInbox);
    shots.push(("inbox.svg", draw(&app, "inbox — what waits for alice")?));

    app.act(Action::ViewPromotions);
    select(&mut app, |r| *r == RowKey::Promotion(checkout), "checkout")?;
    for (file, tab, title) in [
        ("gates.svg", DetailTab::Gates, "a promotion's gates"),
        ("approvals.svg", DetailTab::Approvals, "approvals"),
        ("drift.svg", DetailTab::Drift, "drift between environments"),
        ("evidence.svg", DetailTab::Evidence, "evidence"),
        ("timeline.svg", DetailTab::Timeline, "timeline"),
    ] {
        app.tab = tab;
        shots.push((file, draw(&app, title)?));
    }
    app.tab = DetailTab::Gates;
    app.act(Action::Approve);
    type_text(&mut app, "release notes and evidence reviewed");
    key(&mut app, KeyCode::Enter);
    shots.push((
        "approve.svg",
        draw(&app, "approve: exactly what will be signed")?,
    ));
    app.act(Action::Cancel);
    app.popups.clear();

    app.act(Action::ViewEnvironments);
    select(
        &mut app,
        |r| {
            matches!(r, RowKey::Service { environment, service }
                if environment == "prod" && service == "search")
        },
        "search in prod",
    )?;
    shots.push((
        "environments.svg",
        draw(&app, "environments — what runs where")?,
    ));
    app.act(Action::Rollback);
    type_text(&mut app, "p99 doubled");
    key(&mut app, KeyCode::Enter);
    shots.push((
        "rollback.svg",
        draw(&app, "rollback: type the environment to confirm")?,
    ));
    app.popups.clear();

    app.act(Action::ViewAudit);
    shots.push(("audit.svg", draw(&app, "the verified audit log")?));
    Ok(shots)
}

fn key(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn select(
    app: &mut App,
    wanted: impl Fn(&RowKey) -> bool,
    what: &'static str,
) -> Result<(), ShotError> {
    app.act(Action::Top);
    for _ in 0..app.rows.len() {
        if app.selected_row().is_some_and(&wanted) {
            return Ok(());
        }
        app.act(Action::Down);
    }
    Err(ShotError::Missing(what))
}

fn draw(app: &App, title: &'static str) -> Result<String, ShotError> {
    let mut terminal =
        Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).map_err(|e| ShotError::Draw(title, e))?;
    terminal
        .draw(|f| render::draw(app, f))
        .map_err(|e| ShotError::Draw(title, e))?;
    Ok(super::svg::render(
        terminal.backend().buffer(),
        &format!("tollgate — {title}"),
    ))
}
