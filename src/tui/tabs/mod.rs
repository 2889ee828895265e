//! The detail pane: tabs about the selected promotion (Gates, Approvals,
//! Drift, Evidence, Timeline), or what runs for a selected service.

mod approvals;
mod drift;
mod evidence;
mod gates;
mod timeline;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Tabs, Wrap};

use super::app::{App, DetailTab, Pane, RowKey};
use super::component::Component;
use super::data::{version_of, when};
use super::strings as s;
use super::widgets::pane_border;

/// The component of a detail tab.
pub fn of(tab: DetailTab) -> &'static dyn Component {
    match tab {
        DetailTab::Gates => &gates::Gates,
        DetailTab::Approvals => &approvals::Approvals,
        DetailTab::Drift => &drift::Drift,
        DetailTab::Evidence => &evidence::Evidence,
        DetailTab::Timeline => &timeline::Timeline,
    }
}

/// Draws the detail pane for the selected row.
pub fn draw(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(pane_border(app, Pane::Detail));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.selected_summary().is_some() {
        let [tabs, body] =
            Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(inner);
        let titles: Vec<Line<'_>> = DetailTab::ALL
            .iter()
            .map(|t| Line::from(s::tab_title(*t)))
            .collect();
        let selected = DetailTab::ALL
            .iter()
            .position(|t| *t == app.tab)
            .unwrap_or(0);
        frame.render_widget(
            Tabs::new(titles)
                .select(selected)
                .style(app.theme.style("tab"))
                .highlight_style(app.theme.style("tab_active"))
                .block(
                    Block::default()
                        .borders(Borders::BOTTOM)
                        .border_style(app.theme.style("border")),
                ),
            tabs,
        );
        if app.selected_detail().is_some() {
            of(app.tab).draw(app, frame, body);
        } else {
            frame.render_widget(Paragraph::new(s::JUDGING), body);
        }
        return;
    }
    let lines = match (app.selected_row().as_ref(), &app.data) {
        (Some(RowKey::Service { .. } | RowKey::Inbox(_)), Some(data)) => service_lines(app, data),
        (Some(RowKey::Entry(i)), Some(data)) => data.index.get(*i).map_or_else(Vec::new, |e| {
            vec![
                Line::from(format!("entry {}  {}", e.index, e.id)),
                Line::from(format!("kind {}", e.kind.name())),
                Line::from(format!("signer {}", e.signer)),
                Line::from(e.summary.to_string()),
            ]
        }),
        (_, None) => vec![Line::from(s::LOADING)],
        _ => vec![Line::from(s::NOTHING_SELECTED)],
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn service_lines(app: &App, data: &super::data::Data) -> Vec<Line<'static>> {
    let Some((env, service)) = app.selected_service() else {
        return vec![Line::from(s::NOTHING_SELECTED)];
    };
    let t = &app.theme;
    let mut lines = vec![Line::from(Span::styled(
        format!("{service} in {env}"),
        t.style("title"),
    ))];
    let Some(state) = data.service(&env, &service) else {
        return lines;
    };
    if let Some(r) = &state.running {
        lines.push(Line::from(format!(
            "running        {} ({}) since {}",
            version_of(r),
            r.artifact.short(),
            when(r.at)
        )));
    }
    match state.last_known_good() {
        Some(r) => lines.push(Line::from(format!(
            "last known good {} ({}) — R rolls back to it",
            version_of(r),
            r.artifact.short()
        ))),
        None => lines.push(Line::from(s::NO_KNOWN_GOOD)),
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled("history", t.style("dim"))));
    for r in state.history.iter().rev().take(super::data::HISTORY) {
        lines.push(Line::from(format!(
            "  {}  {} ({})",
            when(r.at),
            version_of(r),
            r.artifact.short()
        )));
    }
    let findings = data.findings(&env, &service);
    if !findings.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled("findings", t.style("fail"))));
        for f in findings {
            lines.push(Line::from(Span::styled(
                format!("  ! {f}"),
                t.style("fail"),
            )));
        }
    }
    lines
}
