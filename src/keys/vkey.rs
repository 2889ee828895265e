//! C2SP signed-note keys (`c2sp.org/signed-note`): the log key's name, 4-byte
//! key id and `vkey` text `<name>+<hex id>+<base64(0x01 ‖ pubkey)>`.
//!
//! The key id is short by design; it only routes a signature line to a key
//! the verifier already trusts in full.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use super::{KeyError, PublicKey, Signer};
use crate::encoding;

/// The signed-note signature type byte for plain Ed25519.
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;

/// Why a note key or key name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VkeyError {
    #[error("key name `{0}` is not valid: it must be non-empty, without spaces or `+`")]
    BadName(String),
    #[error("`{0}` is not a vkey: expected `<name>+<8 hex key id>+<base64 key>`")]
    BadFormat(String),
    #[error("vkey `{0}` uses signature type {1:#04x}; only Ed25519 (0x01) is supported")]
    UnsupportedType(String, u8),
    #[error("vkey `{0}` has key id {1:08x} but the key and name give {2:08x}")]
    WrongKeyId(String, u32, u32),
    #[error("vkey key is unusable: {0}")]
    Key(#[from] KeyError),
}

/// A note key name is non-empty and has no Unicode whitespace and no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[:4]`, big-endian.
pub fn note_key_id(name: &str, key: &PublicKey) -> u32 {
    typed_key_id(name, ED25519_SIGNATURE_TYPE, key)
}

/// A signed-note key id for any key type: `SHA-256(name ‖ 0x0A ‖ type ‖
/// pubkey)[:4]`, big-endian (C2SP signed-note; cosignature/v1 uses 0x04).
pub fn typed_key_id(name: &str, key_type: u8, key: &PublicKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', key_type]);
    h.update(key.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The vkey text `<name>+<hex id>+<base64(type ‖ key)>`.
pub fn vkey_text(name: &str, id: u32, key_type: u8, key: &PublicKey) -> String {
    let mut typed = Vec::with_capacity(33);
    typed.push(key_type);
    typed.extend_from_slice(key.as_bytes());
    format!("{name}+{id:08x}+{}", encoding::encode(&typed))
}

/// The parts of a vkey text, checked for shape only: name, key id, key
/// type byte and raw key bytes. `None` when it is not of that shape.
pub fn split_vkey(text: &str) -> Option<(&str, u32, u8, Vec<u8>)> {
    // Standard base64 may itself contain `+`: split off the name and the
    // id only, as Go's `note.NewVerifier` does.
    let mut parts = text.splitn(3, '+');
    let (name, id_hex, key_b64) = (parts.next()?, parts.next()?, parts.next()?);
    if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = u32::from_str_radix(id_hex, 16).ok()?;
    let mut typed = encoding::decode_standard(key_b64).ok()?;
    if typed.is_empty() {
        return None;
    }
    let key_type = typed.remove(0);
    Some((name, id, key_type, typed))
}

/// A trusted note verifier: the name, key id and full public key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NoteVerifierKey {
    name: String,
    id: u32,
    key: PublicKey,
}

impl NoteVerifierKey {
    pub fn new(name: &str, key: PublicKey) -> Result<Self, VkeyError> {
        if !is_valid_key_name(name) {
            return Err(VkeyError::BadName(name.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            id: note_key_id(name, &key),
            key,
        })
    }

    /// The note verifier of a signer, under the signer's name.
    pub fn of_signer(signer: &Signer) -> Result<Self, VkeyError> {
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

impl fmt::Display for NoteVerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&vkey_text(
            &self.name,
            self.id,
            ED25519_SIGNATURE_TYPE,
            &self.key,
        ))
    }
}

impl fmt::Debug for NoteVerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for NoteVerifierKey {
    type Err = VkeyError;

    fn from_str(text: &str) -> Result<Self, VkeyError> {
        let (name, id, sig_type, raw) =
            split_vkey(text).ok_or_else(|| VkeyError::BadFormat(text.to_owned()))?;
        if sig_type != ED25519_SIGNATURE_TYPE {
            return Err(VkeyError::UnsupportedType(text.to_owned(), sig_type));
        }
        let raw = raw.as_slice();
        let verifier = Self::new(name, PublicKey::from_bytes(raw)?)?;
        if verifier.id != id {
            return Err(VkeyError::WrongKeyId(text.to_owned(), id, verifier.id));
        }
        Ok(verifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_whose_base64_contains_plus_parse() {
        // Regression: a vkey was split on every `+`, so about one key in
        // seven (those with `+` in the base64) could not be read back.
        for _ in 0..64 {
            let signer = Signer::generate("audit.example.com/tollgate");
            let vkey = NoteVerifierKey::of_signer(&signer).unwrap();
            assert_eq!(vkey.to_string().parse::<NoteVerifierKey>().unwrap(), vkey);
        }
    }

    const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

    #[test]
    fn the_signed_note_spec_vkey_parses_and_round_trips() {
        let vkey: NoteVerifierKey = SPEC_VKEY.parse().unwrap();
        assert_eq!(vkey.name(), "example.com/foo");
        assert_eq!(vkey.id(), 0x530d_903a);
        assert_eq!(vkey.to_string(), SPEC_VKEY);
    }

    #[test]
    fn wrong_id_bad_names_and_other_types_are_refused() {
        assert!(matches!(
            "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
                .parse::<NoteVerifierKey>(),
            Err(VkeyError::WrongKeyId(..))
        ));
        assert!(matches!(
            "example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
                .parse::<NoteVerifierKey>(),
            Err(VkeyError::WrongKeyId(..))
        ));
        for name in ["", "a b", "a+b", "a\u{a0}b"] {
            assert!(!is_valid_key_name(name), "{name:?}");
        }
        assert!("a+b".parse::<NoteVerifierKey>().is_err());
    }
}
