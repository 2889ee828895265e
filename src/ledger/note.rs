//! C2SP signed notes (`c2sp.org/signed-note`): parsing with every rule of
//! the spec and Go's `note.Open`, signing with a [`Signer`], and
//! verification against trusted [`NoteVerifierKey`]s with `verify_strict`.
//!
//! ```text
//! <text, ending in \n>
//! \n
//! — <key name> <base64(key id[4] ‖ signature[64])>\n   (U+2014, repeated)
//! ```
//!
//! Parsing never trusts anything; only [`Note::verify`] says which
//! signatures are good, and a bad signature from a key we know rejects the
//! whole note rather than being skipped.

use std::collections::HashSet;

use ed25519_dalek::{Signature, Signer as _};

use crate::encoding;
use crate::keys::Signer;
use crate::keys::vkey::{NoteVerifierKey, is_valid_key_name, note_key_id};

/// More signature lines than this make the note malformed: the spec asks
/// verifiers to accept at least 16 and to cap the work (azul and Go use 100).
pub const MAX_SIGNATURES: usize = 100;

const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a note was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("key name `{0}` is not valid: it must be non-empty, without spaces or `+`")]
    BadKeyName(String),
    #[error("two trusted keys share the name `{0}` and key id {1:08x}; the key is ambiguous")]
    AmbiguousKey(String, u32),
    #[error("signature by trusted key `{0}` ({1:08x}) does not verify")]
    InvalidSignature(String, u32),
    #[error("no signature on the note is by a trusted key")]
    Unverified,
}

/// One signature line, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    name: String,
    key_id: u32,
    signature: Vec<u8>,
}

impl NoteSignature {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature bytes after the key id.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The line, with its em dash and final newline.
    pub fn to_line(&self) -> String {
        let mut payload = Vec::with_capacity(4 + self.signature.len());
        payload.extend_from_slice(&self.key_id.to_be_bytes());
        payload.extend_from_slice(&self.signature);
        format!(
            "{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            encoding::encode(&payload)
        )
    }

    fn parse_line(line: &str) -> Result<Self, NoteError> {
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(NoteError::Malformed(
                "signature line does not start with `— `",
            ))?;
        let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed(
            "signature line has no space after the key name",
        ))?;
        if !is_valid_key_name(name) {
            return Err(NoteError::Malformed("signature key name is not valid"));
        }
        let bytes = encoding::decode_standard(b64)
            .map_err(|_| NoteError::Malformed("signature is not canonical base64"))?;
        // A key id and at least one byte of signature, as in Go's note.Open.
        if bytes.len() < 5 {
            return Err(NoteError::Malformed("signature is too short"));
        }
        let (id, signature) = bytes.split_at(4);
        Ok(Self {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            signature: signature.to_vec(),
        })
    }
}

/// A parsed signed note. Identical repeated signature lines are kept once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// The outcome of [`Note::verify`]: signatures by trusted keys (all good)
/// and signatures by keys the caller does not know (ignored, unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerification<'a> {
    pub verified: Vec<&'a NoteSignature>,
    pub unverified: Vec<&'a NoteSignature>,
}

impl Note {
    /// Signs `text` with each signer; the text must already be valid note
    /// text (ends in `\n`, no leading newline, no control characters).
    pub fn sign(text: &str, signers: &[&Signer]) -> Result<Self, NoteError> {
        check_text(text)?;
        // An unsigned note has no byte form that parses.
        if signers.is_empty() {
            return Err(NoteError::Malformed("a note needs at least one signature"));
        }
        let mut note = Self {
            text: text.to_owned(),
            signatures: Vec::with_capacity(signers.len()),
        };
        for signer in signers {
            note.add_signature(signer)?;
        }
        Ok(note)
    }

    /// Adds one more signature over the same text (a cosigner's, say).
    pub fn add_signature(&mut self, signer: &Signer) -> Result<(), NoteError> {
        let name = signer.name();
        if !is_valid_key_name(name) {
            return Err(NoteError::BadKeyName(name.to_owned()));
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let signature = signer.signing_key().sign(self.text.as_bytes());
        self.signatures.push(NoteSignature {
            name: name.to_owned(),
            key_id: note_key_id(name, &signer.public()),
            signature: signature.to_bytes().to_vec(),
        });
        Ok(())
    }

    /// Parses a signed note. Structure only: nothing is verified here.
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        let message =
            std::str::from_utf8(bytes).map_err(|_| NoteError::Malformed("not valid UTF-8"))?;
        if message.chars().any(|c| c.is_control() && c != '\n') {
            return Err(NoteError::Malformed("control character other than newline"));
        }
        // The last blank line separates text from signatures: signature
        // lines are never empty, so an earlier "\n\n" belongs to the text.
        let split = message
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (text, sigs) = (&message[..=split], &message[split + 2..]);
        check_text(text)?;
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(NoteError::Malformed(
                "signature block is empty or does not end with a newline",
            ));
        }
        let lines: Vec<&str> = sigs[..sigs.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let mut seen = HashSet::with_capacity(lines.len());
        let mut signatures = Vec::with_capacity(lines.len());
        for line in lines {
            let signature = NoteSignature::parse_line(line)?;
            if seen.insert(line) {
                signatures.push(signature);
            }
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// The note's bytes: text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.text.len() + 1 + 110 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for signature in &self.signatures {
            out.push_str(&signature.to_line());
        }
        out.into_bytes()
    }

    /// Verifies against trusted keys. Signatures by unknown (name, id) pairs
    /// are ignored; any signature by a known key must verify under
    /// `verify_strict`, and at least one must exist.
    pub fn verify<'a>(
        &'a self,
        keys: &[NoteVerifierKey],
    ) -> Result<NoteVerification<'a>, NoteError> {
        // A duplicated trusted key would let a lookup pick either entry;
        // refuse the configuration rather than guess.
        let mut trusted = HashSet::with_capacity(keys.len());
        for key in keys {
            if !trusted.insert((key.name(), key.id())) {
                return Err(NoteError::AmbiguousKey(key.name().to_owned(), key.id()));
            }
        }
        let mut outcome = NoteVerification {
            verified: Vec::new(),
            unverified: Vec::new(),
        };
        for signature in &self.signatures {
            let Some(key) = keys
                .iter()
                .find(|k| k.name() == signature.name && k.id() == signature.key_id)
            else {
                outcome.unverified.push(signature);
                continue;
            };
            let bad = || NoteError::InvalidSignature(signature.name.clone(), signature.key_id);
            let raw: [u8; 64] = signature
                .signature
                .as_slice()
                .try_into()
                .map_err(|_| bad())?;
            key.key()
                .verifying_key()
                .verify_strict(self.text.as_bytes(), &Signature::from_bytes(&raw))
                .map_err(|_| bad())?;
            outcome.verified.push(signature);
        }
        if outcome.verified.is_empty() {
            return Err(NoteError::Unverified);
        }
        Ok(outcome)
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::Malformed("text does not end with a newline"));
    }
    if text.starts_with('\n') {
        return Err(NoteError::Malformed("text starts with a blank line"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed("control character other than newline"));
    }
    Ok(())
}
