//! Reducer tests that need no log: ticks move the injected clock, views and
//! panes cycle, countdowns read at a glance.

use time::macros::datetime;

use super::*;
use crate::tui::clock::{Clock, FixedClock};
use crate::tui::data::countdown;

fn app() -> App {
    let clock = FixedClock(datetime!(2026-11-27 09:00 UTC));
    App::new(
        Session {
            store: "https://s".into(),
            me: "alice".into(),
            read_only: false,
        },
        Keymap::builtin("default").unwrap_or_default(),
        Theme::builtin("dark").unwrap_or_default(),
        clock.now(),
    )
}

#[test]
fn ticks_move_the_injected_clock() {
    let mut app = app();
    let later = datetime!(2026-11-27 10:30 UTC);
    app.update(Msg::Tick(later));
    assert_eq!(app.now, later);
}

#[test]
fn tabs_cycle_both_ways() {
    let mut app = app();
    app.act(Action::PrevTab);
    assert_eq!(app.tab, DetailTab::Timeline);
    app.act(Action::NextTab);
    assert_eq!(app.tab, DetailTab::Gates);
    app.act(Action::NextPane);
    assert_eq!(app.pane, Pane::Detail);
    app.act(Action::Back);
    assert_eq!(app.pane, Pane::List);
}

#[test]
fn countdowns() {
    assert_eq!(countdown(Duration::seconds(42)), "42s");
    assert_eq!(countdown(Duration::minutes(125)), "2h 05m");
    assert_eq!(countdown(Duration::hours(76)), "3d 4h");
    assert_eq!(countdown(Duration::seconds(-1)), "expired");
}

#[test]
fn a_write_action_without_a_selection_explains_instead_of_signing() {
    let mut app = app();
    app.act(Action::Approve);
    assert!(app.effects.is_empty());
    assert!(matches!(app.popups.last(), Some(Popup::Message { .. })));
}
