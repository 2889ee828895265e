//! Environments: what runs where, the last known good, findings; `R` rolls
//! the selected service back.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use crate::tui::action::Action;
use crate::tui::app::{App, Pane, RowKey};
use crate::tui::component::Component;
use crate::tui::data::version_of;
use crate::tui::strings::view_title;
use crate::tui::widgets::VirtualTable;

#[derive(Debug)]
pub struct Environments;

impl Component for Environments {
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        let table = VirtualTable {
            title: view_title(app.view).to_owned(),
            header: vec!["env", "service", "running", "last known good", "findings"],
            widths: vec![
                Constraint::Length(9),
                Constraint::Length(12),
                Constraint::Length(14),
                Constraint::Length(16),
                Constraint::Fill(1),
            ],
            total: app.rows.len(),
            selected: app.selected[2],
            focused: app.pane == Pane::List,
        };
        table.draw(app, frame, area, |i| {
            let key = app.rows.get(i);
            let (
                Some(RowKey::Service {
                    environment,
                    service,
                }),
                Some(data),
            ) = (key.as_ref(), &app.data)
            else {
                return Row::new(Vec::<Cell<'static>>::new());
            };
            let state = data.service(environment, service);
            let running = state
                .and_then(|s| s.running.as_ref())
                .map_or_else(|| "—".to_owned(), version_of);
            let lkg = state
                .and_then(|s| s.last_known_good())
                .map_or_else(|| "—".to_owned(), version_of);
            let findings = data.findings(environment, service).len();
            let findings = if findings == 0 {
                Span::styled("✔ none", app.theme.style("ok"))
            } else {
                Span::styled(format!("! {findings}"), app.theme.style("fail"))
            };
            Row::new(vec![
                Cell::from(environment.clone()),
                Cell::from(service.clone()),
                Cell::from(running),
                Cell::from(lkg),
                Cell::from(findings),
            ])
        });
    }

    fn hints(&self, _app: &App) -> Vec<Action> {
        vec![Action::Rollback]
    }
}
