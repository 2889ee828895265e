//! Where tollgate keeps its files: config, data (keys, outbox, the store's
//! database, saved checkpoints, fork evidence), cache and logs.
//!
//! Platform defaults come from `directories`; `TOLLGATE_CONFIG_DIR`,
//! `TOLLGATE_DATA_DIR` and `TOLLGATE_CACHE_DIR` override them so tests,
//! demos and CI can keep everything in one temporary directory.

use std::path::PathBuf;

/// Why no directory could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot find a home directory for tollgate's {0} files; set TOLLGATE_{1}_DIR")]
pub struct NoHomeError(&'static str, &'static str);

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "tollgate", "tollgate")
}

fn from_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The configuration directory (`config.toml`, keymap and theme overrides).
pub fn config_dir() -> Result<PathBuf, NoHomeError> {
    from_env("TOLLGATE_CONFIG_DIR")
        .or_else(|| project_dirs().map(|d| d.config_dir().to_path_buf()))
        .ok_or(NoHomeError("config", "CONFIG"))
}

/// The data directory (keys, outbox, store database, checkpoints, evidence).
pub fn data_dir() -> Result<PathBuf, NoHomeError> {
    from_env("TOLLGATE_DATA_DIR")
        .or_else(|| project_dirs().map(|d| d.data_dir().to_path_buf()))
        .ok_or(NoHomeError("data", "DATA"))
}

/// The cache directory (the verified entry cache).
pub fn cache_dir() -> Result<PathBuf, NoHomeError> {
    from_env("TOLLGATE_CACHE_DIR")
        .or_else(|| project_dirs().map(|d| d.cache_dir().to_path_buf()))
        .ok_or(NoHomeError("cache", "CACHE"))
}

/// The default private key file.
pub fn default_key_file() -> Result<PathBuf, NoHomeError> {
    Ok(data_dir()?.join("keys").join("operator.key"))
}
