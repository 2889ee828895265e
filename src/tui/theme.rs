//! Themes: semantic style slots (`danger`, `selection`, `gate_fail`, …),
//! each `{ fg, bg, bold, reversed, underline, dim }`. Built-in themes are
//! compiled in; a user's partial `theme.toml` overrides slots. With
//! `NO_COLOR` or `--no-color` colours are dropped and the modifiers stay, so
//! selection and danger remain visible (status also carries a glyph).

use std::collections::BTreeMap;

use ratatui::style::{Color, Modifier, Style};
use toml::Spanned;

use super::config::{ConfigError, FileError};

/// Every slot a theme may set, and what it styles.
pub const SLOTS: &[(&str, &str)] = &[
    ("text", "ordinary text"),
    ("dim", "secondary text"),
    ("border", "pane borders"),
    ("border_focus", "the focused pane's border"),
    ("title", "pane titles"),
    ("selection", "the selected row"),
    ("tab", "inactive tabs"),
    ("tab_active", "the active tab"),
    ("header", "the header line"),
    ("ok", "passed, ready, succeeded"),
    ("fail", "failed, rejected, blocked"),
    ("warn", "expiring, stale, waived"),
    ("danger", "destructive dialogs and their buttons"),
    ("alarm", "the tamper alarm banner"),
    ("key", "keys in the hint bar and help"),
    ("button", "dialog buttons"),
    ("button_focus", "the focused dialog button"),
];

/// The built-in themes, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// Resolved styles by slot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Theme {
    slots: BTreeMap<String, Style>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools)] // the file's own shape: one flag per modifier
struct SlotShape {
    fg: Option<Spanned<String>>,
    bg: Option<Spanned<String>>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    dim: bool,
}

impl Theme {
    pub fn builtin(name: &str) -> Result<Self, ConfigError> {
        let (file, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            ConfigError::UnknownBuiltin {
                kind: "theme",
                name: name.to_owned(),
                known: BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })?;
        let mut theme = Self::default();
        theme.apply(text, &format!("themes/{file}.toml"))?;
        Ok(theme)
    }

    /// Layers a (partial) theme file over this one.
    pub fn apply(&mut self, text: &str, file: &str) -> Result<(), FileError> {
        let table: BTreeMap<Spanned<String>, Spanned<SlotShape>> =
            toml::from_str(text).map_err(|e| FileError::from_toml(text, file, &e))?;
        for (name, slot) in table {
            if !SLOTS.iter().any(|(s, _)| s == name.get_ref()) {
                return Err(FileError::at(
                    text,
                    file,
                    Some(name.span()),
                    format!(
                        "unknown style slot `{}`; use one of: {}",
                        name.get_ref(),
                        SLOTS.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let slot = slot.into_inner();
            let mut style = Style::default();
            if let Some(fg) = &slot.fg {
                style = style.fg(parse_color(text, file, fg)?);
            }
            if let Some(bg) = &slot.bg {
                style = style.bg(parse_color(text, file, bg)?);
            }
            for (on, modifier) in [
                (slot.bold, Modifier::BOLD),
                (slot.reversed, Modifier::REVERSED),
                (slot.underline, Modifier::UNDERLINED),
                (slot.dim, Modifier::DIM),
            ] {
                if on {
                    style = style.add_modifier(modifier);
                }
            }
            self.slots.insert(name.into_inner(), style);
        }
        Ok(())
    }

    /// Drops every colour, keeping bold, reverse, underline and dim.
    #[must_use]
    pub fn without_color(mut self) -> Self {
        for style in self.slots.values_mut() {
            style.fg = None;
            style.bg = None;
        }
        self
    }

    /// The style of `slot` (plain when the theme leaves it unset).
    pub fn style(&self, slot: &str) -> Style {
        self.slots.get(slot).copied().unwrap_or_default()
    }
}

fn parse_color(text: &str, file: &str, value: &Spanned<String>) -> Result<Color, FileError> {
    let raw = value.get_ref();
    let parsed = if raw == "default" {
        Some(Color::Reset)
    } else {
        raw.parse::<Color>().ok()
    };
    parsed.ok_or_else(|| {
        FileError::at(
            text,
            file,
            Some(value.span()),
            format!(
                "`{raw}` is not a colour; use a name (red, lightblue, darkgray, …), an index 0-255 or \"#rrggbb\""
            ),
        )
    })
}
