//! Inbox: role-aware: waiting for my role, blocked and why, approvals
//! expiring soon, recently promoted, rollback candidates.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use crate::tui::action::Action;
use crate::tui::app::{App, Pane, RowKey};
use crate::tui::component::Component;
use crate::tui::data::{Data, InboxItem, Target, version_of};
use crate::tui::strings::{section_title, view_title};
use crate::tui::widgets::{VirtualTable, promotion_glyph, shorten_digests};

#[derive(Debug)]
pub struct Inbox;

pub fn row_text(data: &Data, item: &InboxItem) -> String {
    match &item.target {
        Target::Promotion(id) => data
            .summaries
            .get(id)
            .map(super::promotions::row_text)
            .unwrap_or_default(),
        Target::Service {
            environment,
            service,
        } => format!("{environment} {service}"),
    }
}

fn row(app: &App, data: &Data, item: &InboxItem) -> Row<'static> {
    let t = &app.theme;
    let section = Cell::from(Span::styled(section_title(item.section), t.style("dim")));
    match &item.target {
        Target::Promotion(id) => {
            let Some(p) = data.summaries.get(id) else {
                return Row::new(vec![section]);
            };
            let (glyph, slot) = promotion_glyph(p.status);
            let why = p
                .why()
                .map_or_else(|| p.status.label().to_owned(), shorten_digests);
            Row::new(vec![
                section,
                Cell::from(Span::styled(glyph, t.style(slot))),
                Cell::from(format!("{} {} → {}", p.service, p.version, p.to)),
                Cell::from(why),
            ])
        }
        Target::Service {
            environment,
            service,
        } => {
            let state = data.service(environment, service);
            let lkg = state
                .and_then(|s| s.last_known_good())
                .map(version_of)
                .unwrap_or_default();
            let running = state
                .and_then(|s| s.running.as_ref())
                .map(version_of)
                .unwrap_or_default();
            Row::new(vec![
                section,
                Cell::from(Span::styled("↺", t.style("warn"))),
                Cell::from(format!("{service} in {environment}")),
                Cell::from(format!("runs {running}; last known good {lkg} (R)")),
            ])
        }
    }
}

impl Component for Inbox {
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        let table = VirtualTable {
            title: format!("{} — {}", view_title(app.view), app.session.me),
            header: vec!["", "", "promotion", "why"],
            widths: vec![
                Constraint::Length(19),
                Constraint::Length(1),
                Constraint::Length(24),
                Constraint::Fill(1),
            ],
            total: app.rows.len(),
            selected: app.selected[0],
            focused: app.pane == Pane::List,
        };
        table.draw(app, frame, area, |i| {
            match (app.rows.get(i).as_ref(), &app.data) {
                (Some(RowKey::Inbox(item)), Some(data)) => row(app, data, item),
                _ => Row::new(Vec::<Cell<'static>>::new()),
            }
        });
    }

    fn hints(&self, app: &App) -> Vec<Action> {
        match app.selected_row().as_ref() {
            Some(RowKey::Inbox(InboxItem {
                target: Target::Service { .. },
                ..
            })) => vec![Action::Rollback],
            _ => vec![Action::Approve, Action::Reject, Action::Waive],
        }
    }
}
