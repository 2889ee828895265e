//! Drift tab: a placeholder in this slice, saying what will be there.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::App;
use crate::tui::component::Component;
use crate::tui::strings as s;

#[derive(Debug)]
pub struct Drift;

impl Component for Drift {
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        frame.render_widget(
            Paragraph::new(s::DRIFT_PLACEHOLDER)
                .style(app.theme.style("dim"))
                .wrap(Wrap { trim: true }),
            area,
        );
    }
}
