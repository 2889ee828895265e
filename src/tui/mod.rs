//! The cockpit (`tollgate`, `tollgate ui`): a terminal UI over the verified
//! audit log (DESIGN.md §5).
//!
//! Shape (after gitui and the ratatui component template): [`app`] holds the
//! state and its reducer, fed by [`app::Msg`]s from the terminal and the
//! client task ([`worker`]); [`action::Action`]s are named by the keymap
//! files; every view, detail tab and popup is a [`component::Component`];
//! all user-facing text lives in [`strings`]. The render path ([`render`])
//! never does I/O.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod action;
pub mod app;
pub mod clock;
pub mod component;
pub mod config;
pub mod data;
pub mod detail;
pub mod evidence;
pub mod index;
pub mod keymap;
pub mod logging;
pub mod popups;
pub mod prepare;
pub mod render;
mod runtime;
pub mod strings;
mod tabs;
pub mod theme;
mod views;
pub mod widgets;
pub mod worker;

use std::path::Path;

pub use runtime::{RunError, run};

use self::config::{ConfigError, read_optional};
use self::keymap::Keymap;
use self::theme::Theme;

/// How the cockpit was started.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub read_only: bool,
    pub no_color: bool,
    pub theme: Option<String>,
    pub keymap: Option<String>,
    /// A first line for the status bar (the demo says how to join it).
    pub notice: Option<String>,
}

/// The keymap: the built-in one named (default `default`), then the user's
/// `<config dir>/keymap.toml` over it.
pub fn load_keymap(name: Option<&str>, config_dir: Option<&Path>) -> Result<Keymap, ConfigError> {
    let mut keymap = Keymap::builtin(name.unwrap_or("default"))?;
    if let Some(dir) = config_dir {
        let path = dir.join("keymap.toml");
        if let Some(text) = read_optional(&path)? {
            keymap.apply(&text, &path.display().to_string())?;
        }
    }
    Ok(keymap)
}

/// The theme: the built-in one named (default `dark`; `mono` without
/// colour), then the user's `<config dir>/theme.toml`; colours dropped when
/// `no_color`.
pub fn load_theme(
    name: Option<&str>,
    no_color: bool,
    config_dir: Option<&Path>,
) -> Result<Theme, ConfigError> {
    let mut theme = Theme::builtin(name.unwrap_or(if no_color { "mono" } else { "dark" }))?;
    if let Some(dir) = config_dir {
        let path = dir.join("theme.toml");
        if let Some(text) = read_optional(&path)? {
            theme.apply(&text, &path.display().to_string())?;
        }
    }
    Ok(if no_color {
        theme.without_color()
    } else {
        theme
    })
}

/// Whether colour is off: `--no-color`, or `NO_COLOR` set and non-empty.
pub fn color_disabled(flag: bool) -> bool {
    flag || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
