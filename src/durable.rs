//! Durable file writes: a file is either wholly the old version or wholly
//! the new one, and a write that returned has reached the disk. Write a
//! temporary file beside the target, fsync it, rename it over the target,
//! then fsync the directory so the rename itself survives a crash.
//!
//! Used for everything a client must not lose or half-write: saved
//! checkpoints, the outbox, the verified cache.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A durable write that failed, naming the file and the step.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot {action}: {source}", path = .path.display())]
pub struct DurableError {
    pub path: PathBuf,
    pub action: &'static str,
    #[source]
    pub source: std::io::Error,
}

/// Replaces `path` with `bytes` atomically and durably (see the module doc).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DurableError> {
    let fail = |action| {
        move |source| DurableError {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail("create the directory of"))?;
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    {
        let mut file = std::fs::File::create(&tmp).map_err(fail("create a temporary file for"))?;
        file.write_all(bytes).map_err(fail("write"))?;
        file.sync_all().map_err(fail("fsync"))?;
    }
    std::fs::rename(&tmp, path).map_err(fail("rename into place"))?;
    sync_dir(dir).map_err(fail("fsync the directory of"))
}

/// Flushes a directory's entries (new names, renames, removals) to disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_whole_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("file.json");
        super::write_atomic(&path, b"one").unwrap();
        super::write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("file.json")]);
    }
}
