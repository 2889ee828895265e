//! Draws the whole cockpit from the app state: header, alarm banner, view
//! tabs, list and detail panes, hint bar, popups. No I/O.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Tabs, Wrap};

use super::app::{App, View};
use super::strings as s;
use super::{tabs, views, widgets};

/// Below this the layout cannot show a list and its details.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 20;

pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        frame.render_widget(
            Paragraph::new(s::too_small(area.width, area.height, MIN_WIDTH, MIN_HEIGHT))
                .style(app.theme.style("warn"))
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    // The banner wraps, so the evidence path is never cut off.
    let alarm_height = app
        .alarm
        .as_ref()
        .map_or(0, |summary| widgets::alarm_lines(summary, area.width) + 2);
    let [header, alarm, tabs_area, body, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(alarm_height),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    widgets::header(app, frame, header);
    if let Some(summary) = &app.alarm {
        widgets::alarm(app, frame, alarm, summary);
    }
    let titles: Vec<Line<'_>> = View::ALL
        .iter()
        .enumerate()
        .map(|(i, v)| Line::from(format!("{} {}", i + 1, s::view_title(*v))))
        .collect();
    let selected = View::ALL.iter().position(|v| *v == app.view).unwrap_or(0);
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .style(app.theme.style("tab"))
            .highlight_style(app.theme.style("tab_active")),
        tabs_area,
    );
    // The audit log's lines are long; its details are short.
    let list_share = if app.view == View::Audit { 70 } else { 55 };
    let [list, detail] = Layout::horizontal([
        Constraint::Percentage(list_share),
        Constraint::Percentage(100 - list_share),
    ])
    .areas(body);
    if app.data.is_none() {
        frame.render_widget(
            Paragraph::new(s::LOADING).style(app.theme.style("dim")),
            list,
        );
    } else {
        views::of(app.view).draw(app, frame, list);
    }
    tabs::draw(app, frame, detail);
    widgets::hints(app, frame, hints);
    for popup in &app.popups {
        popup.draw(app, frame, area);
    }
}
