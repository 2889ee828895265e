//! Timeline tab: every entry of this promotion, in log order.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::App;
use crate::tui::component::Component;
use crate::tui::data::when;

#[derive(Debug)]
pub struct Timeline;

impl Component for Timeline {
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        let (Some(p), Some(data)) = (app.selected_promotion(), &app.data) else {
            return;
        };
        let t = &app.theme;
        let rows = app.timeline_of(p);
        let lines: Vec<Line<'_>> = rows
            .iter()
            .filter_map(|&i| data.index.get(i))
            .map(|e| {
                Line::from(vec![
                    Span::styled(format!("{:>4} ", e.index), t.style("dim")),
                    Span::styled(
                        format!("{} ", e.signed_at.map(when).unwrap_or_default()),
                        t.style("dim"),
                    ),
                    Span::styled(format!("{:<8} ", e.signer), t.style("text")),
                    Span::raw(e.summary.to_string()),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }
}
