//! The witness's memory: per log, the latest checkpoint it cosigned, one
//! file per log under `<data dir>/witness/`, named by the SHA-256 of the
//! origin and holding the log-signed note as received.
//!
//! A record is written atomically (temp file, fsync, rename, fsync of the
//! directory) before the cosignature leaves the process, and verified again
//! under the log key when the witness starts. A record that cannot be read
//! stops the witness: starting from nothing would let it cosign a rewound
//! log.

use std::fs;
use std::path::{Path, PathBuf};

use crate::digest::Digest;
use crate::keys::vkey::NoteVerifierKey;
use crate::ledger::{Hash, SignedCheckpoint};

/// Why the witness state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: cannot {action}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error(
        "{path}: the recorded checkpoint of `{origin}` does not verify under its log key ({problem}); \
         the witness refuses to start rather than forget what it cosigned. Restore the file from a backup \
         or, if the log key changed on purpose, move it away",
        path = .path.display()
    )]
    Corrupt {
        path: PathBuf,
        origin: String,
        problem: String,
    },
}

/// The latest cosigned checkpoint of one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    pub size: u64,
    pub root: Hash,
}

/// The directory of per-log records.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("witness"),
        }
    }

    fn path(&self, origin: &str) -> PathBuf {
        self.dir.join(format!(
            "{}.checkpoint",
            Digest::of(origin.as_bytes()).to_hex()
        ))
    }

    /// The record of `log`, if there is one.
    pub fn load(&self, log: &NoteVerifierKey) -> Result<Option<Latest>, StateError> {
        let path = self.path(log.name());
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Io {
                    path,
                    action: "read",
                    source,
                });
            }
        };
        let signed =
            SignedCheckpoint::parse_and_verify(&bytes, log).map_err(|e| StateError::Corrupt {
                path: path.clone(),
                origin: log.name().to_owned(),
                problem: e.to_string(),
            })?;
        let c = signed.checkpoint();
        Ok(Some(Latest {
            size: c.size,
            root: c.root,
        }))
    }

    /// Records `note` as the latest cosigned checkpoint of `origin`,
    /// durably, before returning.
    pub fn store(&self, origin: &str, note: &[u8]) -> Result<(), StateError> {
        crate::durable::write_atomic(&self.path(origin), note).map_err(|e| StateError::Io {
            path: e.path,
            action: e.action,
            source: e.source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Signer;
    use crate::ledger::Checkpoint;

    #[test]
    fn a_record_survives_a_restart_and_a_damaged_one_stops_the_witness() {
        let dir = tempfile::tempdir().unwrap();
        let log = Signer::generate("audit.test/tollgate");
        let key = NoteVerifierKey::of_signer(&log).unwrap();
        let state = StateDir::new(dir.path());
        assert_eq!(state.load(&key).unwrap(), None);
        let note = SignedCheckpoint::sign(
            &Checkpoint {
                origin: "audit.test/tollgate".into(),
                size: 7,
                root: [3; 32],
            },
            &log,
        )
        .unwrap();
        state.store("audit.test/tollgate", note.as_bytes()).unwrap();
        let again = StateDir::new(dir.path());
        assert_eq!(
            again.load(&key).unwrap(),
            Some(Latest {
                size: 7,
                root: [3; 32]
            })
        );
        let path = again.path("audit.test/tollgate");
        let mut bytes = fs::read(&path).unwrap();
        bytes[0] ^= 1;
        fs::write(&path, bytes).unwrap();
        let err = again.load(&key).unwrap_err().to_string();
        assert!(err.contains("refuses to start"), "{err}");
    }
}
