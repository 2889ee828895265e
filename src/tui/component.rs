//! The component contract every view, detail tab and popup follows (after
//! gitui): draw from the app state, take an action and say whether it was
//! consumed, and offer the key hints that are live while it has focus.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::action::Action;
use super::app::App;

/// Whether a component used an event; unconsumed events bubble up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventState {
    Consumed,
    NotConsumed,
}

/// A piece of the screen.
pub trait Component {
    /// Draws from the app state; never does I/O.
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect);

    /// Handles `action`; the default consumes nothing.
    fn event(&self, _app: &mut App, _action: Action) -> EventState {
        EventState::NotConsumed
    }

    /// The actions this component offers now, for the hint bar.
    fn hints(&self, _app: &App) -> Vec<Action> {
        Vec::new()
    }
}
