//! Where tollgate keeps its files: config, data (keys, outbox, the store's
//! database, saved checkpoints, fork evidence), cache and logs.
//!
//! Platform defaults come from `directories`; `TOLLGATE_CONFIG_DIR`,
//! `TOLLGATE_DATA_DIR` and `TOLLGATE_CACHE_DIR` override them so tests
//! and CI can keep everything in one temporary directory. `tollgate demo`
//! goes further with [`use_root`]: a persona's files live under one root,
//! whatever the environment says, so a demo never touches real files.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Set once by [`use_root`]: every directory lives under it.
static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// Keeps config, data and cache under `root` (as `config/`, `data/`,
/// `cache/`) for the rest of the process, over the environment and the
/// platform defaults. Returns false when a root was already set.
pub fn use_root(root: PathBuf) -> bool {
    ROOT.set(root).is_ok()
}

/// Whether [`use_root`] put this process's files under one root.
pub fn has_root() -> bool {
    ROOT.get().is_some()
}

fn under_root(sub: &str) -> Option<PathBuf> {
    ROOT.get().map(|root| root.join(sub))
}

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
    under_root("config")
        .or_else(|| from_env("TOLLGATE_CONFIG_DIR"))
        .or_else(|| project_dirs().map(|d| d.config_dir().to_path_buf()))
        .ok_or(NoHomeError("config", "CONFIG"))
}

/// The data directory (keys, outbox, store database, checkpoints, evidence).
pub fn data_dir() -> Result<PathBuf, NoHomeError> {
    under_root("data")
        .or_else(|| from_env("TOLLGATE_DATA_DIR"))
        .or_else(|| project_dirs().map(|d| d.data_dir().to_path_buf()))
        .ok_or(NoHomeError("data", "DATA"))
}

/// The cache directory (the verified entry cache).
pub fn cache_dir() -> Result<PathBuf, NoHomeError> {
    under_root("cache")
        .or_else(|| from_env("TOLLGATE_CACHE_DIR"))
        .or_else(|| project_dirs().map(|d| d.cache_dir().to_path_buf()))
        .ok_or(NoHomeError("cache", "CACHE"))
}

/// The default private key file.
pub fn default_key_file() -> Result<PathBuf, NoHomeError> {
    Ok(data_dir()?.join("keys").join("operator.key"))
}
