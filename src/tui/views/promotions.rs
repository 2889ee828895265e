//! Promotions: every promotion in log order, filterable.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use crate::state::Summary;
use crate::tui::action::Action;
use crate::tui::app::{App, Pane, RowKey};
use crate::tui::component::Component;
use crate::tui::widgets::{VirtualTable, promotion_glyph};

#[derive(Debug)]
pub struct Promotions;

pub fn row_text(p: &Summary) -> String {
    format!(
        "{} {} {} {} {} {}",
        p.id.short(),
        p.service,
        p.version,
        p.to,
        p.status.label(),
        p.requested_by
    )
}

/// One promotion as a table row.
pub fn promotion_row(app: &App, p: &Summary) -> Row<'static> {
    let (glyph, slot) = promotion_glyph(p.status);
    Row::new(vec![
        Cell::from(Span::styled(
            format!("{glyph} {}", p.status.label()),
            app.theme.style(slot),
        )),
        Cell::from(p.service.to_string()),
        Cell::from(p.version.to_string()),
        Cell::from(format!("{} → {}", p.from.as_deref().unwrap_or("·"), p.to)),
        Cell::from(p.requested_by.to_string()),
        Cell::from(p.id.short()),
    ])
}

pub const HEADER: [&str; 6] = ["status", "service", "version", "route", "by", "id"];

pub fn widths() -> Vec<Constraint> {
    vec![
        Constraint::Length(14),
        Constraint::Length(12),
        Constraint::Length(14),
        Constraint::Length(18),
        Constraint::Length(8),
        Constraint::Length(12),
    ]
}

impl Component for Promotions {
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        let table = VirtualTable {
            title: crate::tui::strings::view_title(app.view).to_owned(),
            header: HEADER.to_vec(),
            widths: widths(),
            total: app.rows.len(),
            selected: app.selected[1],
            focused: app.pane == Pane::List,
        };
        table.draw(app, frame, area, |i| {
            match (app.rows.get(i).as_ref(), &app.data) {
                (Some(RowKey::Promotion(id)), Some(data)) => data.summaries.get(id).map_or_else(
                    || Row::new(Vec::<Cell<'static>>::new()),
                    |p| promotion_row(app, p),
                ),
                _ => Row::new(Vec::<Cell<'static>>::new()),
            }
        });
    }

    fn hints(&self, _app: &App) -> Vec<Action> {
        vec![
            Action::Approve,
            Action::Reject,
            Action::Waive,
            Action::Revoke,
        ]
    }
}
