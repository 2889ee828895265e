//! Drift tab: what the promotion's target environment runs that differs
//! from its reference environment (`path | from | to | change`), or the
//! unified text of the same diff (toggled with `ToggleText`). The rows were
//! computed when the data was built; drawing does no I/O and no diffing.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use crate::drift::{self, Change};
use crate::tui::app::{App, DriftView};
use crate::tui::component::Component;
use crate::tui::data::DriftPane;
use crate::tui::strings as s;

#[derive(Debug)]
pub struct Drift;

impl Component for Drift {
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        let t = &app.theme;
        let pane = app.selected_detail().map(|d| &d.drift);
        let Some(pane) = pane else {
            frame.render_widget(
                Paragraph::new(s::NOTHING_SELECTED).style(t.style("dim")),
                area,
            );
            return;
        };
        let mut head = vec![Line::from(Span::styled(
            s::drift_title(pane),
            t.style("title"),
        ))];
        if !pane.ignored.is_empty() {
            head.push(Line::from(Span::styled(
                s::drift_ignoring(&pane.ignored),
                t.style("dim"),
            )));
        }
        for env in &pane.missing {
            head.push(Line::from(Span::styled(
                s::drift_missing(env, &pane.service),
                t.style("warn"),
            )));
        }
        if pane.from_env.is_none() {
            head.push(Line::from(Span::styled(
                s::DRIFT_NO_REFERENCE,
                t.style("dim"),
            )));
        }
        if pane.missing.is_empty() && pane.from_env.is_some() && pane.rows.is_empty() {
            head.push(Line::from(Span::styled(s::DRIFT_NONE, t.style("ok"))));
        }
        let head_height = u16::try_from(head.len())
            .unwrap_or(u16::MAX)
            .saturating_add(1);
        let [top, body] =
            Layout::vertical([Constraint::Length(head_height), Constraint::Fill(1)]).areas(area);
        frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), top);
        if pane.rows.is_empty() {
            return;
        }
        if app.drift_view == DriftView::Text {
            draw_text(app, frame, body, pane);
        } else {
            draw_table(app, frame, body, pane);
        }
    }
}

fn draw_table(app: &App, frame: &mut Frame<'_>, area: Rect, pane: &DriftPane) {
    let t = &app.theme;
    let header = Row::new([
        Cell::from(s::DRIFT_PATH),
        Cell::from(pane.from_env.clone().unwrap_or_default()),
        Cell::from(pane.to_env.clone()),
        Cell::from(s::DRIFT_CHANGE),
    ])
    .style(t.style("title"));
    // Rows are grouped under their section (config, flags, dependencies,
    // images, secrets) so the key itself fits a narrow pane.
    let mut rows = Vec::with_capacity(pane.rows.len() + 5);
    let mut section = None;
    for r in &pane.rows {
        let (head, key) = split_path(&r.path);
        if section != Some(head) {
            section = Some(head);
            rows.push(Row::new([Cell::from(head.to_owned())]).style(t.style("dim")));
        }
        let slot = match r.change {
            Change::Changed => "warn",
            Change::Added => "ok",
            Change::Removed => "fail",
        };
        rows.push(
            Row::new([
                Cell::from(format!(" {key}")),
                Cell::from(compact(drift::Row::cell(r.from.as_ref()))),
                Cell::from(compact(drift::Row::cell(r.to.as_ref()))),
                Cell::from(Span::styled(r.change.as_str(), t.style(slot))),
            ])
            .style(t.style("text")),
        );
    }
    let table = Table::new(
        rows,
        [
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Length(7),
        ],
    )
    .header(header)
    .column_spacing(1);
    frame.render_widget(table, area);
}

/// `/flags/new_checkout` → (`flags`, `new_checkout`), pointer escapes
/// undone for reading.
fn split_path(path: &str) -> (&str, String) {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let (head, key) = rest.split_once('/').unwrap_or((rest, ""));
    (head, key.replace("~1", "/").replace("~0", "~"))
}

/// A fingerprint cell without its key id (the text view shows it whole),
/// so two fingerprints can be told apart in a narrow column.
fn compact(cell: String) -> String {
    match cell
        .strip_prefix("hmac:")
        .and_then(|rest| rest.split_once(':'))
    {
        Some((_, hex)) => format!("hmac:{}", hex.chars().take(9).collect::<String>()),
        None => cell,
    }
}

fn draw_text(app: &App, frame: &mut Frame<'_>, area: Rect, pane: &DriftPane) {
    let t = &app.theme;
    let lines: Vec<Line<'_>> = pane
        .text
        .lines()
        .map(|l| {
            let slot = if l.starts_with("@@") || l.starts_with("---") || l.starts_with("+++") {
                "dim"
            } else if l.starts_with('+') {
                "ok"
            } else if l.starts_with('-') {
                "fail"
            } else {
                "text"
            };
            Line::from(Span::styled(l, t.style(slot)))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}
