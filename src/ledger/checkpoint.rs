//! Checkpoints (`c2sp.org/tlog-checkpoint`): the log's signed statement of
//! its size and root, as note text `<origin>\n<size>\n<base64 root>\n`.
//!
//! Parsing is strict so one checkpoint has one spelling. Extension lines are
//! accepted for interoperability but dropped: nothing audits them, so
//! nothing here may depend on them. A [`SignedCheckpoint`] keeps the exact
//! signed bytes, because those bytes (not a re-serialisation) are what a
//! fork alarm must show.

use crate::encoding;
use crate::keys::Signer;
use crate::keys::vkey::NoteVerifierKey;

use super::hash::{EMPTY_ROOT, Hash};
use super::note::{Note, NoteError};

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint text does not end with a newline")]
    MissingFinalNewline,
    #[error("checkpoint needs origin, size and root lines")]
    MissingLines,
    #[error("checkpoint origin is empty")]
    EmptyOrigin,
    #[error("checkpoint size `{0}` is not a decimal u64 without leading zeros")]
    BadSize(String),
    #[error("checkpoint root is not canonical standard base64")]
    BadRootEncoding,
    #[error("checkpoint root is {0} bytes; a root is 32")]
    BadRootLength(usize),
    #[error("checkpoint extension line is empty")]
    EmptyExtension,
    #[error("size-0 checkpoint must carry the empty-tree root")]
    NonEmptyRootForEmptyTree,
    #[error("checkpoint origin `{origin}` is not the log key name `{key}`")]
    OriginMismatch { origin: String, key: String },
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
}

/// An unsigned checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note text `<origin>\n<size>\n<base64 root>\n`.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            encoding::encode(&self.root)
        )
    }

    /// Parses checkpoint note text. Extension lines must be non-empty and
    /// are discarded.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::MissingLines);
        };
        if lines.any(str::is_empty) {
            return Err(CheckpointError::EmptyExtension);
        }
        let checkpoint = Self {
            origin: origin.to_owned(),
            size: parse_size(size)?,
            root: parse_root(root)?,
        };
        checkpoint.validate()?;
        Ok(checkpoint)
    }

    fn validate(&self) -> Result<(), CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if self.size == 0 && self.root != EMPTY_ROOT {
            return Err(CheckpointError::NonEmptyRootForEmptyTree);
        }
        Ok(())
    }
}

/// Decimal digits only and no leading zero, so `7`, `07` and `+7` cannot
/// all name the same tree. Shared with the tlog-proof `index` line.
pub(crate) fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return None;
    }
    text.parse().ok()
}

fn parse_size(text: &str) -> Result<u64, CheckpointError> {
    parse_decimal(text).ok_or_else(|| CheckpointError::BadSize(text.to_owned()))
}

fn parse_root(text: &str) -> Result<Hash, CheckpointError> {
    let bytes = encoding::decode_standard(text).map_err(|_| CheckpointError::BadRootEncoding)?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| CheckpointError::BadRootLength(bytes.len()))
}

/// A checkpoint together with the signed note it came from, verified
/// against the log key when constructed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: Vec<u8>,
}

impl SignedCheckpoint {
    /// Signs `checkpoint` with the log key, whose name must be the origin.
    pub fn sign(checkpoint: &Checkpoint, log_signer: &Signer) -> Result<Self, CheckpointError> {
        checkpoint.validate()?;
        if checkpoint.origin != log_signer.name() {
            return Err(CheckpointError::OriginMismatch {
                origin: checkpoint.origin.clone(),
                key: log_signer.name().to_owned(),
            });
        }
        let note = Note::sign(&checkpoint.to_text(), &[log_signer])?;
        Ok(Self {
            checkpoint: checkpoint.clone(),
            note: note.to_bytes(),
        })
    }

    /// Parses a signed checkpoint and requires a valid signature by
    /// `log_key`, whose name must equal the origin (it is our log, so the
    /// SHOULD of the spec is a MUST here). Other signatures, such as witness
    /// cosignatures, are carried but not judged.
    pub fn parse_and_verify(
        bytes: &[u8],
        log_key: &NoteVerifierKey,
    ) -> Result<Self, CheckpointError> {
        let note = Note::parse(bytes)?;
        note.verify(std::slice::from_ref(log_key))?;
        let checkpoint = Checkpoint::parse(note.text())?;
        if checkpoint.origin != log_key.name() {
            return Err(CheckpointError::OriginMismatch {
                origin: checkpoint.origin,
                key: log_key.name().to_owned(),
            });
        }
        Ok(Self {
            checkpoint,
            note: bytes.to_vec(),
        })
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The signed note exactly as signed or received.
    pub fn as_bytes(&self) -> &[u8] {
        &self.note
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.note
    }
}
