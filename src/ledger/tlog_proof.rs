//! Offline inclusion proofs in the `c2sp.org/tlog-proof@v1` text format:
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64>]
//! index <decimal>
//! <base64 proof hash, leaf sibling first>…
//!
//! <signed checkpoint, verbatim>
//! ```
//!
//! `extra` is opaque and unauthenticated: it is carried for the application
//! and never consulted by [`TlogProof::verify`].

use crate::encoding;
use crate::keys::vkey::NoteVerifierKey;

use super::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint, parse_decimal};
use super::hash::{Hash, leaf_hash};
use super::proof::{ProofError, verify_inclusion};

/// First line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Most proof lines accepted: a tree of 2^63 leaves needs 63, and the cap
/// stops a hostile file from making us decode without bound.
pub const MAX_PROOF_HASHES: usize = 63;

/// Why an offline proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogProofError {
    #[error("malformed tlog-proof: {0}")]
    Malformed(&'static str),
    #[error("tlog-proof has more than {MAX_PROOF_HASHES} proof hashes")]
    TooManyHashes,
    #[error("tlog-proof checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("tlog-proof inclusion proof: {0}")]
    Proof(#[from] ProofError),
}

/// A parsed (unverified) offline proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

impl TlogProof {
    pub fn new(index: u64, proof: Vec<Hash>, checkpoint: &SignedCheckpoint) -> Self {
        Self {
            extra: None,
            index,
            proof,
            checkpoint: checkpoint.as_bytes().to_vec(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(64 + 45 * self.proof.len() + self.checkpoint.len());
        out.push_str(HEADER);
        out.push('\n');
        if let Some(extra) = &self.extra {
            out.push_str("extra ");
            out.push_str(&encoding::encode(extra));
            out.push('\n');
        }
        out.push_str("index ");
        out.push_str(&self.index.to_string());
        out.push('\n');
        for hash in &self.proof {
            out.push_str(&encoding::encode(hash));
            out.push('\n');
        }
        out.push('\n');
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.checkpoint);
        bytes
    }

    /// Parses the proof text. The checkpoint is kept as bytes and judged
    /// only by [`TlogProof::verify`].
    pub fn parse(bytes: &[u8]) -> Result<Self, TlogProofError> {
        let mut rest = bytes;
        let header = next_line(&mut rest)?;
        if header != HEADER {
            return Err(TlogProofError::Malformed(
                "first line is not c2sp.org/tlog-proof@v1",
            ));
        }
        let mut line = next_line(&mut rest)?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = Some(
                encoding::decode_standard(b64)
                    .map_err(|_| TlogProofError::Malformed("extra is not canonical base64"))?,
            );
            line = next_line(&mut rest)?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(parse_decimal)
            .ok_or(TlogProofError::Malformed("expected `index <decimal>`"))?;
        let mut proof = Vec::new();
        loop {
            let line = next_line(&mut rest)?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(TlogProofError::TooManyHashes);
            }
            let hash = encoding::decode_standard(line)
                .ok()
                .and_then(|b| Hash::try_from(b.as_slice()).ok())
                .ok_or(TlogProofError::Malformed(
                    "proof line is not base64 of 32 bytes",
                ))?;
            proof.push(hash);
        }
        if rest.is_empty() {
            return Err(TlogProofError::Malformed(
                "no checkpoint after the blank line",
            ));
        }
        Ok(Self {
            extra,
            index,
            proof,
            checkpoint: rest.to_vec(),
        })
    }

    /// Verifies that `entry` (the logged bytes) is at `index` in a tree
    /// whose checkpoint `log_key` signed, and returns both.
    pub fn verify(
        &self,
        entry: &[u8],
        log_key: &NoteVerifierKey,
    ) -> Result<(u64, Checkpoint), TlogProofError> {
        let signed = SignedCheckpoint::parse_and_verify(&self.checkpoint, log_key)?;
        let checkpoint = signed.checkpoint();
        verify_inclusion(
            self.index,
            checkpoint.size,
            &leaf_hash(entry),
            &self.proof,
            &checkpoint.root,
        )?;
        Ok((self.index, checkpoint.clone()))
    }
}

/// Takes one `\n`-terminated ASCII line off the front of `rest`.
fn next_line<'a>(rest: &mut &'a [u8]) -> Result<&'a str, TlogProofError> {
    let end = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(TlogProofError::Malformed("line without a final newline"))?;
    let (line, tail) = rest.split_at(end);
    *rest = &tail[1..];
    if !line.is_ascii() {
        return Err(TlogProofError::Malformed(
            "non-ASCII byte in the proof header",
        ));
    }
    std::str::from_utf8(line).map_err(|_| TlogProofError::Malformed("invalid UTF-8"))
}
