//! Where the store's database is: a SQLite file or a PostgreSQL URL.

use std::fmt;
use std::path::PathBuf;

use crate::paths::{self, NoHomeError};

/// File name of the default SQLite database in the data directory.
pub const DEFAULT_SQLITE_FILE: &str = "store.db";

/// The database of a store.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL URL; `schema` (created if missing) isolates one store,
    /// or one test, from others in the same database.
    Postgres { url: String, schema: Option<String> },
}

impl DatabaseUrl {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; `sqlite:PATH`,
    /// `sqlite://PATH` or a bare path is a SQLite file.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Self::Postgres {
                url: text.to_owned(),
                schema: None,
            };
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        Self::Sqlite(PathBuf::from(path))
    }

    /// `<data dir>/store.db`.
    pub fn default_sqlite() -> Result<Self, NoHomeError> {
        Ok(Self::Sqlite(paths::data_dir()?.join(DEFAULT_SQLITE_FILE)))
    }

    /// The same PostgreSQL database, in `schema`. No effect on SQLite.
    #[must_use]
    pub fn with_schema(self, schema: &str) -> Self {
        match self {
            Self::Postgres { url, .. } => Self::Postgres {
                url,
                schema: Some(schema.to_owned()),
            },
            sqlite @ Self::Sqlite(_) => sqlite,
        }
    }
}

/// Display never shows a password.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Self::Postgres { url, schema: None } => f.write_str(&redact(url)),
            Self::Postgres {
                url,
                schema: Some(schema),
            } => write!(f, "{} (schema {schema})", redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The URL with any password replaced by `***`.
pub(super) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// A schema name we are willing to put in SQL: `[a-z_][a-z0-9_]{0,62}`.
pub(super) fn is_valid_schema(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name.len() <= 63
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_apart_and_passwords_hidden() {
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:secret@h/db"),
            DatabaseUrl::Postgres { .. }
        ));
        assert_eq!(
            DatabaseUrl::parse("sqlite:/tmp/x.db"),
            DatabaseUrl::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("store.db"),
            DatabaseUrl::Sqlite(PathBuf::from("store.db"))
        );
        let shown = DatabaseUrl::parse("postgres://u:secret@h:5432/db?x=1").to_string();
        assert_eq!(shown, "postgres://u:***@h:5432/db?x=1");
        assert!(is_valid_schema("tg_0a1b"));
        assert!(!is_valid_schema("Tg"));
        assert!(!is_valid_schema("a\"; drop"));
        assert!(!is_valid_schema(""));
    }
}
