//! The `add-checkpoint` request of `c2sp.org/tlog-witness`, and the checks a
//! witness makes before it cosigns, as pure functions:
//!
//! ```text
//! old <size>\n
//! <base64 consistency proof hash>\n   (0 to 63 lines)
//! \n
//! <signed checkpoint note>
//! ```
//!
//! Outcomes map onto the spec's status codes: 400 malformed, 403 no valid
//! log signature, 404 unknown log, 409 `old` is not the size last cosigned
//! (or same size, other root), 422 the consistency proof does not verify.

use crate::encoding;
use crate::keys::vkey::NoteVerifierKey;
use crate::ledger::checkpoint::parse_decimal;
use crate::ledger::{Checkpoint, Hash, Note, NoteError, hash_from_slice, verify_consistency};

/// The spec's cap on consistency proof lines.
pub const MAX_PROOF_LINES: usize = 63;

/// A parsed `add-checkpoint` body (nothing verified yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, exactly as sent.
    pub note: Vec<u8>,
}

/// Why a witness does not cosign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("malformed add-checkpoint request: {0}")]
    BadRequest(String),
    #[error("this witness does not witness the log `{0}`; start it with `--log <that log's vkey>`")]
    UnknownLog(String),
    #[error(
        "the checkpoint of `{0}` carries no valid signature by the log key this witness trusts"
    )]
    BadSignature(String),
    #[error("the old size {old} is not the size {stored} this witness last cosigned for the log")]
    OldSizeMismatch { old: u64, stored: u64 },
    #[error(
        "the checkpoint has the size {size} this witness last cosigned but another root: the log forked"
    )]
    RootMismatch { size: u64, stored: u64 },
    #[error("the consistency proof from size {old} to {size} does not verify: {problem}")]
    BadProof {
        old: u64,
        size: u64,
        problem: String,
    },
    #[error("the witness could not record the checkpoint, so it does not cosign it: {0}")]
    Internal(String),
}

impl Rejection {
    /// The HTTP status of the spec.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::BadSignature(_) => 403,
            Self::UnknownLog(_) => 404,
            Self::OldSizeMismatch { .. } | Self::RootMismatch { .. } => 409,
            Self::BadProof { .. } => 422,
            Self::Internal(_) => 500,
        }
    }

    /// For 409: the size of the latest cosigned checkpoint (the body of a
    /// `text/x.tlog.size` answer).
    pub fn stored_size(&self) -> Option<u64> {
        match self {
            Self::OldSizeMismatch { stored, .. } | Self::RootMismatch { stored, .. } => {
                Some(*stored)
            }
            _ => None,
        }
    }
}

fn bad(problem: &str) -> Rejection {
    Rejection::BadRequest(problem.to_owned())
}

/// Parses an `add-checkpoint` body.
pub fn parse_request(body: &[u8]) -> Result<AddCheckpoint, Rejection> {
    // Header lines are never empty, so the first blank line ends them.
    let split = body
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or_else(|| bad("no blank line after the old size and proof lines"))?;
    let header = std::str::from_utf8(&body[..split])
        .map_err(|_| bad("the old size and proof lines are not UTF-8"))?;
    let note = body[split + 2..].to_vec();
    let mut lines = header.split('\n');
    let old_line = lines.next().unwrap_or_default();
    let old = old_line
        .strip_prefix("old ")
        .and_then(parse_decimal)
        .ok_or_else(|| {
            bad("the first line must be `old <size>` in decimal without leading zeros")
        })?;
    let mut proof = Vec::new();
    for line in lines {
        if proof.len() == MAX_PROOF_LINES {
            return Err(bad("more than 63 consistency proof lines"));
        }
        let bytes = encoding::decode_standard(line)
            .map_err(|_| bad("a consistency proof line is not canonical standard base64"))?;
        proof.push(
            hash_from_slice(&bytes)
                .map_err(|_| bad("a consistency proof line is not a 32-byte hash"))?,
        );
    }
    if note.is_empty() {
        return Err(bad("no checkpoint after the blank line"));
    }
    Ok(AddCheckpoint { old, proof, note })
}

/// The checkpoint a request carries, once its origin is known and its log
/// signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub checkpoint: Checkpoint,
    /// The note text (what cosignatures sign after their header).
    pub text: String,
}

/// Parses the note, finds the log by origin (404) and requires a valid
/// signature by its key (403); signatures by other keys are ignored.
pub fn open(request: &AddCheckpoint, logs: &[NoteVerifierKey]) -> Result<Opened, Rejection> {
    let note = Note::parse(&request.note)
        .map_err(|e| Rejection::BadRequest(format!("the checkpoint is not a signed note: {e}")))?;
    let checkpoint = Checkpoint::parse(note.text())
        .map_err(|e| Rejection::BadRequest(format!("the note is not a checkpoint: {e}")))?;
    let keys: Vec<NoteVerifierKey> = logs
        .iter()
        .filter(|k| k.name() == checkpoint.origin)
        .cloned()
        .collect();
    if keys.is_empty() {
        return Err(Rejection::UnknownLog(checkpoint.origin));
    }
    match note.verify(&keys) {
        Ok(_) => {}
        Err(NoteError::Unverified | NoteError::InvalidSignature(..)) => {
            return Err(Rejection::BadSignature(checkpoint.origin));
        }
        Err(e) => return Err(Rejection::BadRequest(e.to_string())),
    }
    Ok(Opened {
        text: note.text().to_owned(),
        checkpoint,
    })
}

/// Checks that `checkpoint` consistently extends `latest` (the size and
/// root this witness last cosigned for the log, if any) with the request's
/// old size and proof.
pub fn check_extension(
    request: &AddCheckpoint,
    checkpoint: &Checkpoint,
    latest: Option<(u64, Hash)>,
) -> Result<(), Rejection> {
    let size = checkpoint.size;
    let old = request.old;
    if old > size {
        return Err(bad("the old size is larger than the checkpoint's size"));
    }
    let stored = latest.map_or(0, |(s, _)| s);
    if old != stored {
        return Err(Rejection::OldSizeMismatch { old, stored });
    }
    let Some((_, stored_root)) = latest.filter(|&(s, _)| s > 0) else {
        if !request.proof.is_empty() {
            return Err(bad(
                "the consistency proof must be empty when the old size is 0",
            ));
        }
        return Ok(());
    };
    if old == size {
        if stored_root != checkpoint.root {
            return Err(Rejection::RootMismatch { size, stored });
        }
        if !request.proof.is_empty() {
            return Err(Rejection::BadProof {
                old,
                size,
                problem: "sizes are equal, so the proof must be empty".into(),
            });
        }
        return Ok(());
    }
    verify_consistency(old, size, &stored_root, &checkpoint.root, &request.proof).map_err(|e| {
        Rejection::BadProof {
            old,
            size,
            problem: e.to_string(),
        }
    })
}

#[cfg(test)]
mod tests;
