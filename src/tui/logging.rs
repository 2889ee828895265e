//! Tracing goes to a file under the data directory, never the terminal.

use std::path::PathBuf;

/// Starts file logging (`TOLLGATE_LOG` sets the filter, default `info`);
/// returns the log file's path, or `None` when it could not be opened (the
/// cockpit still runs; it just does not log).
pub fn init() -> Option<PathBuf> {
    let dir = crate::paths::data_dir().ok()?;
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("cockpit.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOLLGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(path)
}
