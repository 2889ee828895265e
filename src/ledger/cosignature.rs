//! Witness cosignatures (`c2sp.org/tlog-cosignature`, `cosignature/v1`,
//! Ed25519): the cosigner key and its vkey, the signed message, cosignature
//! lines, and the one quorum rule every client applies to a checkpoint
//! ([`check_quorum`]).
//!
//! ```text
//! key id    = SHA-256(name ‖ "\n" ‖ 0x04 ‖ pubkey)[:4]
//! message   = "cosignature/v1\n" ‖ "time <unix secs>\n" ‖ checkpoint note text
//! line      = "— <name> " base64(key id[4] ‖ timestamp u64 BE[8] ‖ ed25519 sig[64]) "\n"
//! vkey      = <name>+<hex key id>+base64(0x04 ‖ pubkey)
//! ```
//!
//! Pure: no clock, no I/O. A cosignature by a configured witness that does
//! not verify is never counted; a checkpoint short of the quorum is refused.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer as _};

use super::note::{Note, NoteError};
use crate::encoding;
use crate::keys::vkey::{is_valid_key_name, split_vkey, typed_key_id, vkey_text};
use crate::keys::{KeyError, PublicKey, Signer};

/// The signed-note signature type of `cosignature/v1` (Ed25519, timestamped).
pub const COSIGNATURE_V1_TYPE: u8 = 0x04;

/// Length of a cosignature line's payload after the key id.
const TIMESTAMPED_LEN: usize = 8 + 64;

/// Why a cosigner key, a cosignature or a quorum was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("witness key name `{0}` is not valid: it must be non-empty, without spaces or `+`")]
    BadName(String),
    #[error(
        "`{0}` is not a witness vkey: expected `<name>+<8 hex key id>+<base64 of 0x04 and the key>`"
    )]
    BadVkey(String),
    #[error(
        "vkey `{0}` has signature type {1:#04x}; a witness vkey has type 0x04 (cosignature/v1)"
    )]
    WrongType(String, u8),
    #[error("vkey `{0}` has key id {1:08x} but the key and name give {2:08x}")]
    WrongKeyId(String, u32, u32),
    #[error("witness key is unusable: {0}")]
    Key(#[from] KeyError),
    #[error("the checkpoint note is malformed: {0}")]
    Note(#[from] NoteError),
    #[error("the cosignature line is malformed: {0}")]
    Malformed(&'static str),
    #[error("the cosignature by witness `{0}` ({1:08x}) does not verify")]
    Invalid(String, u32),
}

/// A witness's public key for `cosignature/v1`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CosignerKey {
    name: String,
    id: u32,
    key: PublicKey,
}

/// `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ pubkey)[:4]`, big-endian.
pub fn cosigner_key_id(name: &str, key: &PublicKey) -> u32 {
    typed_key_id(name, COSIGNATURE_V1_TYPE, key)
}

impl CosignerKey {
    pub fn new(name: &str, key: PublicKey) -> Result<Self, CosignatureError> {
        if !is_valid_key_name(name) {
            return Err(CosignatureError::BadName(name.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            id: cosigner_key_id(name, &key),
            key,
        })
    }

    /// The cosigner key of a signer, under the signer's name.
    pub fn of_signer(signer: &Signer) -> Result<Self, CosignatureError> {
        Self::new(signer.name(), signer.public())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn key(&self) -> &PublicKey {
        &self.key
    }
}

impl fmt::Display for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&vkey_text(
            &self.name,
            self.id,
            COSIGNATURE_V1_TYPE,
            &self.key,
        ))
    }
}

impl fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for CosignerKey {
    type Err = CosignatureError;

    fn from_str(text: &str) -> Result<Self, CosignatureError> {
        let (name, id, sig_type, raw) =
            split_vkey(text).ok_or_else(|| CosignatureError::BadVkey(text.to_owned()))?;
        if sig_type != COSIGNATURE_V1_TYPE {
            return Err(CosignatureError::WrongType(text.to_owned(), sig_type));
        }
        let raw = raw.as_slice();
        let key = Self::new(name, PublicKey::from_bytes(raw)?)?;
        if key.id != id {
            return Err(CosignatureError::WrongKeyId(text.to_owned(), id, key.id));
        }
        Ok(key)
    }
}

/// The bytes a `cosignature/v1` signs: header, time line, note text.
pub fn signed_message(checkpoint_text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}").into_bytes()
}

/// One cosignature, parsed from a note signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    pub name: String,
    pub key_id: u32,
    pub timestamp: u64,
    pub signature: [u8; 64],
}

impl Cosignature {
    /// Cosigns `checkpoint_text` (the note text, ending in `\n`) at
    /// `timestamp` (POSIX seconds, below 2^63).
    pub fn sign(
        signer: &Signer,
        checkpoint_text: &str,
        timestamp: u64,
    ) -> Result<Self, CosignatureError> {
        let key = CosignerKey::of_signer(signer)?;
        if i64::try_from(timestamp).is_err() {
            return Err(CosignatureError::Malformed("timestamp exceeds 2^63 - 1"));
        }
        let signature = signer
            .signing_key()
            .sign(&signed_message(checkpoint_text, timestamp));
        Ok(Self {
            name: key.name,
            key_id: key.id,
            timestamp,
            signature: signature.to_bytes(),
        })
    }

    /// The signature line, with its em dash and final newline.
    pub fn to_line(&self) -> String {
        let mut payload = Vec::with_capacity(4 + TIMESTAMPED_LEN);
        payload.extend_from_slice(&self.key_id.to_be_bytes());
        payload.extend_from_slice(&self.timestamp.to_be_bytes());
        payload.extend_from_slice(&self.signature);
        format!("\u{2014} {} {}\n", self.name, encoding::encode(&payload))
    }

    /// Reads the timestamped signature out of a note signature's bytes
    /// (everything after the key id).
    fn from_parts(name: &str, key_id: u32, bytes: &[u8]) -> Result<Self, CosignatureError> {
        if bytes.len() != TIMESTAMPED_LEN {
            return Err(CosignatureError::Malformed(
                "a cosignature/v1 is a key id, an 8-byte timestamp and a 64-byte signature",
            ));
        }
        let (time, signature) = bytes.split_at(8);
        let mut ts = [0u8; 8];
        ts.copy_from_slice(time);
        let timestamp = u64::from_be_bytes(ts);
        if i64::try_from(timestamp).is_err() {
            return Err(CosignatureError::Malformed("timestamp exceeds 2^63 - 1"));
        }
        let mut sig = [0u8; 64];
        sig.copy_from_slice(signature);
        Ok(Self {
            name: name.to_owned(),
            key_id,
            timestamp,
            signature: sig,
        })
    }

    /// Verifies this cosignature by `key` over `checkpoint_text`.
    pub fn verify(&self, key: &CosignerKey, checkpoint_text: &str) -> Result<(), CosignatureError> {
        let bad = || CosignatureError::Invalid(self.name.clone(), self.key_id);
        if self.name != key.name || self.key_id != key.id {
            return Err(bad());
        }
        key.key
            .verifying_key()
            .verify_strict(
                &signed_message(checkpoint_text, self.timestamp),
                &Signature::from_bytes(&self.signature),
            )
            .map_err(|_| bad())
    }
}

/// The cosignature of `key` on a parsed note, if the note carries one.
/// `Ok(None)`: no line by this key; `Err`: a line by this key that is
/// malformed or does not verify.
pub fn find_cosignature(
    note: &Note,
    key: &CosignerKey,
) -> Result<Option<Cosignature>, CosignatureError> {
    let mut found = None;
    for line in note.signatures() {
        if line.name() != key.name() || line.key_id() != key.id() {
            continue;
        }
        let cosignature = Cosignature::from_parts(line.name(), line.key_id(), line.signature())?;
        cosignature.verify(key, note.text())?;
        found = Some(cosignature);
    }
    Ok(found)
}

/// Why a checkpoint does not carry the witness quorum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuorumError {
    #[error("the checkpoint is not a signed note: {0}")]
    Note(#[from] NoteError),
    #[error(
        "the checkpoint carries valid cosignatures from {} of the configured witnesses but witness_quorum is {needed} \
         (cosigned by: {}; missing: {}{}). Do not trust it: the store may be showing you a log the witnesses never saw. \
         Try again later; if it persists, ask whoever runs the store whether its witnesses are reachable",
        .signed.len(),
        list(.signed),
        list(.missing),
        if .invalid.is_empty() { String::new() } else { format!("; invalid cosignatures from: {}", list(.invalid)) }
    )]
    NotEnough {
        needed: usize,
        signed: Vec<String>,
        missing: Vec<String>,
        invalid: Vec<String>,
    },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Requires valid `cosignature/v1` lines from at least `quorum` distinct
/// keys of `witnesses` on the signed note `note_bytes`. The log's own
/// signature is checked elsewhere (`SignedCheckpoint::parse_and_verify`).
/// Returns the names of the witnesses whose cosignature verified.
pub fn check_quorum(
    note_bytes: &[u8],
    witnesses: &[CosignerKey],
    quorum: usize,
) -> Result<Vec<String>, QuorumError> {
    let note = Note::parse(note_bytes)?;
    let mut signed = Vec::new();
    let mut missing = Vec::new();
    let mut invalid = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for key in witnesses {
        // A key configured twice counts once.
        if !seen.insert((key.name(), key.id(), *key.key().as_bytes())) {
            continue;
        }
        match find_cosignature(&note, key) {
            Ok(Some(_)) => signed.push(key.name().to_owned()),
            Ok(None) => missing.push(key.name().to_owned()),
            Err(_) => invalid.push(key.name().to_owned()),
        }
    }
    if signed.len() < quorum {
        return Err(QuorumError::NotEnough {
            needed: quorum,
            signed,
            missing,
            invalid,
        });
    }
    Ok(signed)
}

#[cfg(test)]
mod tests;
