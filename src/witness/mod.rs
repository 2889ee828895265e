//! `tollgate witness`: a C2SP `tlog-witness` that cosigns (`cosignature/v1`)
//! checkpoints of the logs whose keys it is given, only when they
//! consistently extend the latest checkpoint it cosigned for that log.
//!
//! - [`protocol`]: the `add-checkpoint` body and the checks, pure.
//! - [`state`]: the per-log record on disk, written atomically before a
//!   cosignature is returned.
//! - [`server`]: the HTTPS front (`POST /add-checkpoint`).
//!
//! [`Witness::add_checkpoint`] holds one lock across check, record and
//! signing, so two requests can never both pass the check against the same
//! old size and roll the record back (the race the spec warns about).

pub mod protocol;
pub mod server;
pub mod state;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::keys::Signer;
use crate::keys::vkey::NoteVerifierKey;
use crate::ledger::cosignature::{Cosignature, CosignatureError, CosignerKey};
use protocol::Rejection;
use state::{Latest, StateDir, StateError};

/// Why a witness cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("the witness key cannot cosign: {0}")]
    Key(#[from] CosignatureError),
    #[error("two --log keys are for the same origin `{0}`; give one key per log")]
    DuplicateLog(String),
    #[error(
        "no --log given; pass the vkey of each log this witness cosigns (`tollgate serve` prints it)"
    )]
    NoLogs,
}

/// A witness: its key, the logs it cosigns, and what it cosigned last.
#[derive(Debug)]
pub struct Witness {
    signer: Signer,
    key: CosignerKey,
    logs: Vec<NoteVerifierKey>,
    dir: StateDir,
    latest: Mutex<HashMap<String, Latest>>,
}

impl Witness {
    /// Loads the record of every configured log from `dir`.
    pub fn open(
        signer: Signer,
        logs: Vec<NoteVerifierKey>,
        dir: StateDir,
    ) -> Result<Self, WitnessError> {
        if logs.is_empty() {
            return Err(WitnessError::NoLogs);
        }
        let key = CosignerKey::of_signer(&signer)?;
        let mut latest = HashMap::new();
        for log in &logs {
            if logs.iter().filter(|l| l.name() == log.name()).count() > 1 {
                return Err(WitnessError::DuplicateLog(log.name().to_owned()));
            }
            if let Some(record) = dir.load(log)? {
                latest.insert(log.name().to_owned(), record);
            }
        }
        Ok(Self {
            signer,
            key,
            logs,
            dir,
            latest: Mutex::new(latest),
        })
    }

    /// The witness's public key (its vkey is what stores and clients trust).
    pub fn key(&self) -> &CosignerKey {
        &self.key
    }

    pub fn logs(&self) -> &[NoteVerifierKey] {
        &self.logs
    }

    /// Handles one `add-checkpoint` body at `now` (POSIX seconds): checks,
    /// records durably, then returns the cosignature line.
    pub fn add_checkpoint(&self, body: &[u8], now: u64) -> Result<String, Rejection> {
        let request = protocol::parse_request(body)?;
        let opened = protocol::open(&request, &self.logs)?;
        let origin = opened.checkpoint.origin.clone();
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        let current = latest.get(&origin).map(|l| (l.size, l.root));
        protocol::check_extension(&request, &opened.checkpoint, current)?;
        let next = Latest {
            size: opened.checkpoint.size,
            root: opened.checkpoint.root,
        };
        if latest.get(&origin) != Some(&next) {
            self.dir
                .store(&origin, &request.note)
                .map_err(|e| Rejection::Internal(e.to_string()))?;
            latest.insert(origin, next);
        }
        let cosignature = Cosignature::sign(&self.signer, &opened.text, now)
            .map_err(|e| Rejection::Internal(e.to_string()))?;
        Ok(cosignature.to_line())
    }
}

#[cfg(test)]
mod tests;
