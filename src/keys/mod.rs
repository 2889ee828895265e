//! Keys: validated ed25519 public keys, their ids and text forms, key
//! generation, C2SP verifier keys for the log ([`vkey`]) and private key files
//! on disk ([`file`]).
//!
//! A [`PublicKey`] can only be built from bytes that decode canonically and
//! are not of small order ("weak"): a weak key can produce a signature that
//! verifies for almost any message, so such keys never enter a policy.

pub mod file;
pub mod strict;
pub mod vkey;

pub use strict::StrictKey;

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::OsRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::digest::Digest;
use crate::encoding;

/// Text prefix of a public key: `ed25519:<standard base64 of 32 bytes>`.
pub const PUBLIC_KEY_PREFIX: &str = "ed25519:";

/// Why a public key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("`{0}` is not a public key: expected `ed25519:` followed by base64")]
    BadPrefix(String),
    #[error("`{0}` is not a public key: the base64 is not canonical")]
    BadBase64(String),
    #[error("public key is {0} bytes; an ed25519 public key is 32")]
    BadLength(usize),
    #[error("public key is not a valid curve point")]
    NotOnCurve,
    #[error("public key is not canonically encoded")]
    NonCanonical,
    #[error("public key is weak (small order) and could forge signatures; generate a new key")]
    Weak,
}

/// A validated ed25519 public key (canonical, not weak).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let raw: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::BadLength(bytes.len()))?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| KeyError::NotOnCurve)?;
        // Decompression accepts some non-canonical y encodings; a second
        // spelling of the same key would defeat distinct-key counting.
        if key.to_edwards().compress().to_bytes() != raw {
            return Err(KeyError::NonCanonical);
        }
        if key.is_weak() {
            return Err(KeyError::Weak);
        }
        Ok(Self(key))
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// The key id: `sha256` of the raw 32-byte key, as lowercase hex. Used as
    /// the DSSE `keyid` hint and to name keys on screens.
    pub fn key_id(&self) -> KeyId {
        KeyId(Digest::of(self.as_bytes()))
    }
}

impl TryFrom<VerifyingKey> for PublicKey {
    type Error = KeyError;

    fn try_from(key: VerifyingKey) -> Result<Self, KeyError> {
        Self::from_bytes(key.as_bytes())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PUBLIC_KEY_PREFIX}{}",
            encoding::encode(self.as_bytes())
        )
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, KeyError> {
        let b64 = text
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .ok_or_else(|| KeyError::BadPrefix(text.to_owned()))?;
        let bytes =
            encoding::decode_standard(b64).map_err(|_| KeyError::BadBase64(text.to_owned()))?;
        Self::from_bytes(&bytes)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A key id: sha256 of the raw public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Digest);

impl KeyId {
    /// First 16 hex characters, for screens.
    pub fn short(&self) -> String {
        let mut hex = self.0.to_hex();
        hex.truncate(16);
        hex
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_hex())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A named private key that signs statements.
pub struct Signer {
    name: String,
    key: SigningKey,
    public: PublicKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Generates a fresh key from the operating system's randomness.
    pub fn generate(name: &str) -> Self {
        loop {
            let key = SigningKey::generate(&mut OsRng);
            // A generated key is weak with negligible probability; loop anyway
            // so the invariant never rests on luck.
            if let Ok(signer) = Self::from_signing_key(name, key) {
                return signer;
            }
        }
    }

    pub fn from_signing_key(name: &str, key: SigningKey) -> Result<Self, KeyError> {
        let public = PublicKey::try_from(key.verifying_key())?;
        Ok(Self {
            name: name.to_owned(),
            key,
            public,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public(&self) -> PublicKey {
        self.public
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs a statement payload into a DSSE envelope with this key's id as hint.
    pub fn sign_statement(&self, payload: Vec<u8>) -> crate::envelope::Envelope {
        crate::envelope::Envelope::sign_statement(
            payload,
            &self.key,
            &self.public.key_id().to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        let signer = Signer::generate("alice");
        let text = signer.public().to_string();
        assert!(text.starts_with("ed25519:"));
        assert_eq!(text.parse::<PublicKey>().unwrap(), signer.public());
    }

    #[test]
    fn small_order_keys_are_refused() {
        // The identity point (y = 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_bytes(&identity), Err(KeyError::Weak));
        // A point of order 8 used by the speccheck vectors.
        let order8 =
            hex::decode("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa")
                .unwrap();
        assert_eq!(PublicKey::from_bytes(&order8), Err(KeyError::Weak));
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        // y = p + 1 (non-canonical spelling of the identity's y = 1).
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        assert!(PublicKey::from_bytes(&non_canonical).is_err());
        assert!(PublicKey::from_bytes(&[1u8; 31]).is_err());
        assert!("ed25519:eB==".parse::<PublicKey>().is_err());
        assert!("rsa:AAAA".parse::<PublicKey>().is_err());
    }
}
