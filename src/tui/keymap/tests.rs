//! Keymap and theme files: every built-in one parses, partial user files
//! layer over them (rebind, `Noop`, `unbind`), and invalid ones are reported
//! at file:line:column with the offending value.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};

use super::*;
use crate::tui::theme::{self, Theme};

fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

#[test]
fn every_builtin_keymap_parses_and_quits_on_q_and_ctrl_c() {
    for (name, _) in BUILTIN {
        let map = Keymap::builtin(name).unwrap_or_else(|e| unreachable!("{name}: {e}"));
        assert_eq!(
            map.action(Mode::Normal, &press(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit),
            "{name}"
        );
        assert_eq!(
            map.action(
                Mode::Normal,
                &press(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit),
            "{name}"
        );
        assert_eq!(
            map.action(Mode::Dialog, &press(KeyCode::Esc, KeyModifiers::NONE)),
            Some(Action::Cancel),
            "{name}"
        );
        // No signing action on a navigation chord.
        for b in map.bindings(Mode::Normal) {
            assert!(
                !(b.action.is_write() && is_navigation_chord(b.chord)),
                "{name}: {b:?}"
            );
        }
    }
}

#[test]
fn default_binds_vim_keys_and_arrows() {
    let map = Keymap::builtin("default").unwrap_or_default();
    for (code, action) in [
        (KeyCode::Char('j'), Action::Down),
        (KeyCode::Down, Action::Down),
        (KeyCode::Char('k'), Action::Up),
        (KeyCode::Up, Action::Up),
        (KeyCode::Char('R'), Action::Rollback),
        (KeyCode::Char('/'), Action::Filter),
        (KeyCode::Char(':'), Action::Palette),
        (KeyCode::F(1), Action::Help),
        (KeyCode::BackTab, Action::PrevPane),
    ] {
        assert_eq!(
            map.action(Mode::Normal, &press(code, KeyModifiers::NONE)),
            Some(action)
        );
    }
}

#[test]
fn a_partial_user_keymap_rebinds_and_unbinds() {
    let mut map = Keymap::builtin("default").unwrap_or_default();
    map.apply(
        include_str!("../../../tests/fixtures/tui/keymap-valid.toml"),
        "keymap.toml",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let n = KeyModifiers::NONE;
    assert_eq!(
        map.action(Mode::Normal, &press(KeyCode::Char('J'), n)),
        Some(Action::Down)
    );
    assert_eq!(
        map.action(Mode::Normal, &press(KeyCode::Char('x'), n)),
        None
    );
    assert_eq!(
        map.action(
            Mode::Normal,
            &press(KeyCode::Char('d'), KeyModifiers::CONTROL)
        ),
        None
    );
    // Everything else stays.
    assert_eq!(
        map.action(Mode::Normal, &press(KeyCode::Char('a'), n)),
        Some(Action::Approve)
    );
}

fn keymap_error(text: &str) -> String {
    let mut map = Keymap::builtin("default").unwrap_or_default();
    match map.apply(text, "keymap.toml") {
        Ok(()) => unreachable!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_keymaps_name_file_line_column_and_value() {
    let e = keymap_error(include_str!(
        "../../../tests/fixtures/tui/keymap-bad-action.toml"
    ));
    assert!(
        e.starts_with("keymap.toml:3:7: unknown action `Aprove`"),
        "{e}"
    );
    assert!(e.contains("Approve"), "lists the valid names: {e}");
    let e = keymap_error(include_str!(
        "../../../tests/fixtures/tui/keymap-bad-key.toml"
    ));
    assert!(
        e.starts_with("keymap.toml:2:6: `ctrl-shift-hyper-q` is not a key"),
        "{e}"
    );
    let e = keymap_error(include_str!(
        "../../../tests/fixtures/tui/keymap-ctrl-d-rollback.toml"
    ));
    assert!(
        e.starts_with("keymap.toml:2:6: `ctrl-d` is a navigation chord"),
        "{e}"
    );
    let e = keymap_error(include_str!(
        "../../../tests/fixtures/tui/keymap-bad-syntax.toml"
    ));
    assert!(e.starts_with("keymap.toml:3:"), "{e}");
}

#[test]
fn chords_parse_and_print() {
    for text in [
        "j",
        "G",
        "ctrl-c",
        "alt-x",
        "shift-tab",
        "enter",
        "f1",
        "space",
        "?",
    ] {
        assert!(Chord::parse(text).is_some(), "{text}");
    }
    assert_eq!(
        Chord::parse("shift-tab").map(|c| c.code),
        Some(ChordCode::BackTab)
    );
    assert_eq!(
        Chord::parse("ctrl-c").map(|c| c.to_string()).as_deref(),
        Some("ctrl-c")
    );
    for text in ["", "ctrl-", "jj", "f99x", "hyper-q"] {
        assert!(Chord::parse(text).is_none(), "{text}");
    }
}

#[test]
fn every_builtin_theme_parses_and_sets_every_meaningful_slot() {
    for (name, _) in theme::BUILTIN {
        let t = Theme::builtin(name).unwrap_or_else(|e| unreachable!("{name}: {e}"));
        for slot in ["selection", "danger", "alarm", "fail", "button_focus"] {
            assert_ne!(
                t.style(slot),
                ratatui::style::Style::default(),
                "{name}: {slot}"
            );
        }
    }
}

#[test]
fn a_partial_user_theme_overrides_only_its_slots_and_no_color_keeps_modifiers() {
    let mut t = Theme::builtin("dark").unwrap_or_default();
    let ok_before = t.style("ok");
    t.apply(
        include_str!("../../../tests/fixtures/tui/theme-valid.toml"),
        "theme.toml",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(t.style("danger").fg, Some(Color::Rgb(255, 0, 0)));
    assert!(
        t.style("danger")
            .add_modifier
            .contains(Modifier::UNDERLINED)
    );
    assert_eq!(t.style("ok"), ok_before);
    let mono = t.without_color();
    assert_eq!(mono.style("danger").fg, None);
    assert!(mono.style("danger").add_modifier.contains(Modifier::BOLD));
}

#[test]
fn invalid_themes_name_file_line_column_and_value() {
    let mut t = Theme::default();
    let e = t
        .apply(
            include_str!("../../../tests/fixtures/tui/theme-bad-color.toml"),
            "theme.toml",
        )
        .map_or_else(|e| e.to_string(), |()| String::new());
    assert!(
        e.starts_with("theme.toml:2:15: `reddish` is not a colour"),
        "{e}"
    );
    let e = t
        .apply(
            include_str!("../../../tests/fixtures/tui/theme-unknown-slot.toml"),
            "theme.toml",
        )
        .map_or_else(|e| e.to_string(), |()| String::new());
    assert!(
        e.starts_with("theme.toml:2:1: unknown style slot `dangr`"),
        "{e}"
    );
}
