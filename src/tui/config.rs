//! Reading the cockpit's own files (keymaps and themes): the built-in
//! defaults compiled into the binary, the user's partial overrides from the
//! config directory, and located errors (`file:line:column`, the offending
//! value, the fix) shared by both.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem in a keymap or theme file, at the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct FileError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl FileError {
    /// Locates `span` of `text` (byte offsets) and keeps `message`.
    pub fn at(text: &str, file: &str, span: Option<Range<usize>>, message: String) -> Self {
        let (line, column) = span.map_or((1, 1), |s| crate::policy::line_column(text, s.start));
        Self {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    }

    /// A TOML syntax or shape error, located by the parser's span.
    pub fn from_toml(text: &str, file: &str, error: &toml::de::Error) -> Self {
        Self::at(text, file, error.span(), error.message().trim().to_owned())
    }
}

/// Why the cockpit's configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{path}: cannot read: {source}", path = .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{kind} `{name}` is not built in; use one of: {known}")]
    UnknownBuiltin {
        kind: &'static str,
        name: String,
        known: String,
    },
}

/// Reads a user override if it exists; `None` when there is no such file.
pub fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}
