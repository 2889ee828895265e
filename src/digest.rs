//! `Digest`: a SHA-256 value and its one text form, `sha256:<64 lowercase hex>`.
//!
//! Artifacts, entries, policies, evidence blobs and snapshots are all named by
//! a `Digest`. Parsing is strict (prefix required, lowercase hex, exact length)
//! so one value has exactly one spelling.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// The text prefix of every digest.
pub const SHA256_PREFIX: &str = "sha256:";

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Digest([u8; 32]);

/// Why a text is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("`{0}` is not a digest: it must start with `sha256:`")]
    MissingPrefix(String),
    #[error("`{0}` is not a digest: expected 64 lowercase hex characters after `sha256:`")]
    BadHex(String),
}

impl Digest {
    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex without the prefix.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses bare lowercase hex (the in-toto `digest.sha256` form).
    pub fn from_hex(text: &str) -> Result<Self, DigestError> {
        // One pass that validates and decodes: digests are parsed several
        // times per entry when a whole log is verified.
        fn nibble(b: u8) -> Option<u8> {
            match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                _ => None,
            }
        }
        let bad = || DigestError::BadHex(text.to_owned());
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            *slot = (nibble(pair[0]).ok_or_else(bad)? << 4) | nibble(pair[1]).ok_or_else(bad)?;
        }
        Ok(Self(out))
    }

    /// The first 12 hex characters, for people reading a screen.
    pub fn short(&self) -> String {
        let mut hex = self.to_hex();
        hex.truncate(12);
        hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // On the stack: `status` of a large log prints hundreds of
        // thousands of digests.
        let mut hex = [0u8; 64];
        hex::encode_to_slice(self.0, &mut hex).map_err(|_| fmt::Error)?;
        f.write_str(SHA256_PREFIX)?;
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let hex = text
            .strip_prefix(SHA256_PREFIX)
            .ok_or_else(|| DigestError::MissingPrefix(text.to_owned()))?;
        Self::from_hex(hex).map_err(|_| DigestError::BadHex(text.to_owned()))
    }
}

/// `sha256:<hex>` in text formats (JSON, TOML); the 32 bytes in binary
/// ones (the client cache's saved replay), where hex would be most of the
/// file and most of the time spent reading it.
impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Bytes;
        impl serde::de::Visitor<'_> for Bytes {
            type Value = Digest;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the 32 bytes of a sha256 digest")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Digest, E> {
                <[u8; 32]>::try_from(bytes)
                    .map(Digest)
                    .map_err(|_| E::invalid_length(bytes.len(), &self))
            }
        }
        if deserializer.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            deserializer.deserialize_bytes(Bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_has_the_well_known_digest() {
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn text_round_trips_and_other_spellings_are_refused() {
        let d = Digest::of(b"x");
        assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
        assert!(d.to_hex().parse::<Digest>().is_err(), "prefix is required");
        assert!(
            d.to_string()
                .to_uppercase()
                .replace("SHA256", "sha256")
                .parse::<Digest>()
                .is_err(),
            "uppercase hex is a second spelling"
        );
        assert!("sha256:abc".parse::<Digest>().is_err());
        assert!(format!("{d}00").parse::<Digest>().is_err());
    }
}
