//! Keymaps: per mode, `[[<mode>]] on = "…", run = "ActionName", desc = "…"`.
//! The built-in ones (`keymaps/*.toml`) are compiled in; a user's partial
//! `keymap.toml` adds or replaces bindings, and `run = "Noop"` or
//! `unbind = ["ctrl-d"]` (per mode, `[unbind] normal = [...]`) removes one.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use toml::Spanned;

use super::action::Action;
use super::config::{ConfigError, FileError};

/// Where input goes; each has its own bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// Lists, panes and views.
    Normal,
    /// Confirm dialogs and text prompts (typed text goes to the prompt).
    Dialog,
}

impl Mode {
    pub const ALL: [Self; 2] = [Self::Normal, Self::Dialog];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Dialog => "dialog",
        }
    }
}

/// One key with its modifiers (Shift is folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chord {
    pub code: ChordCode,
    pub ctrl: bool,
    pub alt: bool,
}

/// The key part of a chord (a subset of crossterm's `KeyCode` that orders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChordCode {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Backspace,
}

impl Chord {
    /// The chord of a terminal key event, if it is one we can bind.
    pub fn of(event: &KeyEvent) -> Option<Self> {
        let code = match event.code {
            KeyCode::Char(c) => ChordCode::Char(c),
            KeyCode::F(n) => ChordCode::F(n),
            KeyCode::Enter => ChordCode::Enter,
            KeyCode::Esc => ChordCode::Esc,
            KeyCode::Tab => ChordCode::Tab,
            KeyCode::BackTab => ChordCode::BackTab,
            KeyCode::Up => ChordCode::Up,
            KeyCode::Down => ChordCode::Down,
            KeyCode::Left => ChordCode::Left,
            KeyCode::Right => ChordCode::Right,
            KeyCode::PageUp => ChordCode::PageUp,
            KeyCode::PageDown => ChordCode::PageDown,
            KeyCode::Home => ChordCode::Home,
            KeyCode::End => ChordCode::End,
            KeyCode::Backspace => ChordCode::Backspace,
            _ => return None,
        };
        Some(Self {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// Parses `j`, `G`, `?`, `ctrl-c`, `alt-x`, `shift-tab`, `enter`, `f1`, `space`, …
    pub fn parse(text: &str) -> Option<Self> {
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("shift-") {
                shift = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => ChordCode::Enter,
            "esc" => ChordCode::Esc,
            "tab" if shift => ChordCode::BackTab,
            "tab" => ChordCode::Tab,
            "backtab" => ChordCode::BackTab,
            "up" => ChordCode::Up,
            "down" => ChordCode::Down,
            "left" => ChordCode::Left,
            "right" => ChordCode::Right,
            "pageup" => ChordCode::PageUp,
            "pagedown" => ChordCode::PageDown,
            "home" => ChordCode::Home,
            "end" => ChordCode::End,
            "backspace" => ChordCode::Backspace,
            "space" => ChordCode::Char(' '),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                ChordCode::F(f[1..].parse().ok()?)
            }
            c => {
                let mut chars = c.chars();
                let ch = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                ChordCode::Char(if shift { ch.to_ascii_uppercase() } else { ch })
            }
        };
        Some(Self { code, ctrl, alt })
    }
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            ChordCode::Char(' ') => f.write_str("space"),
            ChordCode::Char(c) => write!(f, "{c}"),
            ChordCode::F(n) => write!(f, "F{n}"),
            ChordCode::Enter => f.write_str("enter"),
            ChordCode::Esc => f.write_str("esc"),
            ChordCode::Tab => f.write_str("tab"),
            ChordCode::BackTab => f.write_str("shift-tab"),
            ChordCode::Up => f.write_str("↑"),
            ChordCode::Down => f.write_str("↓"),
            ChordCode::Left => f.write_str("←"),
            ChordCode::Right => f.write_str("→"),
            ChordCode::PageUp => f.write_str("pgup"),
            ChordCode::PageDown => f.write_str("pgdn"),
            ChordCode::Home => f.write_str("home"),
            ChordCode::End => f.write_str("end"),
            ChordCode::Backspace => f.write_str("backspace"),
        }
    }
}

/// One key bound to an action, with the words the help shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub chord: Chord,
    pub action: Action,
    pub desc: String,
}

/// Bindings per mode, in file order (the help lists them in that order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keymap {
    modes: BTreeMap<Mode, Vec<Binding>>,
}

/// Chords that are navigation in vim, tmux or readline: never destructive.
const NAVIGATION_CHORDS: &[char] = &['d', 'u', 'k', 'h', 'j', 'l', 'w'];

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    normal: Vec<Spanned<EntryShape>>,
    #[serde(default)]
    dialog: Vec<Spanned<EntryShape>>,
    #[serde(default)]
    unbind: UnbindShape,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UnbindShape {
    #[serde(default)]
    normal: Vec<Spanned<String>>,
    #[serde(default)]
    dialog: Vec<Spanned<String>>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryShape {
    on: Spanned<String>,
    run: Spanned<String>,
    #[serde(default)]
    desc: String,
}

/// The built-in keymaps, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("emacs", include_str!("../../keymaps/emacs.toml")),
];

impl Keymap {
    /// A built-in keymap by name.
    pub fn builtin(name: &str) -> Result<Self, ConfigError> {
        let (file, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            ConfigError::UnknownBuiltin {
                kind: "keymap",
                name: name.to_owned(),
                known: BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })?;
        let mut map = Self::default();
        map.apply(text, &format!("keymaps/{file}.toml"))?;
        Ok(map)
    }

    /// Layers a (partial) keymap file over this one: a chord bound again
    /// replaces the old binding; `Noop` and `unbind` remove it.
    pub fn apply(&mut self, text: &str, file: &str) -> Result<(), FileError> {
        let shape: FileShape =
            toml::from_str(text).map_err(|e| FileError::from_toml(text, file, &e))?;
        for (mode, entries, unbind) in [
            (Mode::Normal, shape.normal, shape.unbind.normal),
            (Mode::Dialog, shape.dialog, shape.unbind.dialog),
        ] {
            for key in unbind {
                let chord = parse_chord(text, file, &key)?;
                self.modes
                    .entry(mode)
                    .or_default()
                    .retain(|b| b.chord != chord);
            }
            for entry in entries {
                let entry = entry.into_inner();
                let chord = parse_chord(text, file, &entry.on)?;
                let action = Action::from_name(entry.run.get_ref()).ok_or_else(|| {
                    FileError::at(
                        text,
                        file,
                        Some(entry.run.span()),
                        format!(
                            "unknown action `{}`; use one of: {}",
                            entry.run.get_ref(),
                            Action::ALL.map(Action::name).join(", ")
                        ),
                    )
                })?;
                if action.is_write() && is_navigation_chord(chord) {
                    return Err(FileError::at(
                        text,
                        file,
                        Some(entry.on.span()),
                        format!(
                            "`{}` is a navigation chord in vim, tmux and readline; bind {} to another key",
                            entry.on.get_ref(),
                            action.name()
                        ),
                    ));
                }
                let list = self.modes.entry(mode).or_default();
                list.retain(|b| b.chord != chord);
                if action != Action::Noop {
                    list.push(Binding {
                        chord,
                        action,
                        desc: entry.desc,
                    });
                }
            }
        }
        Ok(())
    }

    /// The action `event` runs in `mode`.
    pub fn action(&self, mode: Mode, event: &KeyEvent) -> Option<Action> {
        let chord = Chord::of(event)?;
        self.modes
            .get(&mode)?
            .iter()
            .find(|b| b.chord == chord)
            .map(|b| b.action)
    }

    /// Every binding of `mode`, in file order.
    pub fn bindings(&self, mode: Mode) -> &[Binding] {
        self.modes.get(&mode).map_or(&[], Vec::as_slice)
    }

    /// The first key bound to `action` in `mode`, for hints.
    pub fn key_for(&self, mode: Mode, action: Action) -> Option<Chord> {
        self.bindings(mode)
            .iter()
            .find(|b| b.action == action)
            .map(|b| b.chord)
    }
}

/// Ctrl-D/U/K/H/J/L/W: never bound to something that signs.
fn is_navigation_chord(chord: Chord) -> bool {
    chord.ctrl
        && matches!(chord.code, ChordCode::Char(c) if NAVIGATION_CHORDS.contains(&c.to_ascii_lowercase()))
}

fn parse_chord(text: &str, file: &str, on: &Spanned<String>) -> Result<Chord, FileError> {
    Chord::parse(on.get_ref()).ok_or_else(|| {
        FileError::at(
            text,
            file,
            Some(on.span()),
            format!(
                "`{}` is not a key; write e.g. \"j\", \"G\", \"ctrl-c\", \"shift-tab\", \"enter\", \"f1\"",
                on.get_ref()
            ),
        )
    })
}

#[cfg(test)]
mod tests;
