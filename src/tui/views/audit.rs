//! Audit log: every verified entry with its signer, kind and signed time,
//! under the verified checkpoint.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row};

use crate::tui::app::{App, Pane, RowKey};
use crate::tui::component::Component;
use crate::tui::data::when;
use crate::tui::index::EntryRow;
use crate::tui::widgets::VirtualTable;

#[derive(Debug)]
pub struct Audit;

pub fn row_text(row: &EntryRow<'_>) -> String {
    format!(
        "{} {} {} {}",
        row.index,
        row.signer,
        row.kind.name(),
        row.summary
    )
}

pub fn entry_row(row: &EntryRow<'_>) -> Row<'static> {
    Row::new(vec![
        Cell::from(row.index.to_string()),
        Cell::from(row.signed_at.map(when).unwrap_or_default()),
        Cell::from(row.signer.to_string()),
        Cell::from(row.kind.name()),
        Cell::from(row.summary.to_string()),
    ])
}

impl Component for Audit {
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        let title = match app.data.as_ref().and_then(|d| d.checkpoint.as_ref()) {
            Some(c) => format!(
                "Audit log — checkpoint {} size {} root {}…",
                c.origin,
                c.size,
                c.root.get(..12).unwrap_or(&c.root)
            ),
            None => "Audit log".to_owned(),
        };
        let table = VirtualTable {
            title,
            header: vec!["#", "signed at", "signer", "kind", "summary"],
            widths: vec![
                Constraint::Length(5),
                Constraint::Length(20),
                Constraint::Length(8),
                Constraint::Length(17),
                Constraint::Fill(1),
            ],
            total: app.rows.len(),
            selected: app.selected[3],
            focused: app.pane == Pane::List,
        };
        table.draw(app, frame, area, |i| {
            match (app.rows.get(i).as_ref(), &app.data) {
                (Some(RowKey::Entry(at)), Some(data)) => data
                    .index
                    .get(*at)
                    .map_or_else(|| Row::new(Vec::<Cell<'static>>::new()), |r| entry_row(&r)),
                _ => Row::new(Vec::<Cell<'static>>::new()),
            }
        });
    }
}
