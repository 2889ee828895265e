//! Secret fingerprints: `hmac-sha256:<key id>:<hex>`, a keyed HMAC-SHA256 of
//! the secret's bytes (Vault's audit-hash model). Equal secrets compare
//! equal under the same key, a rotated secret shows as changed, and a
//! low-entropy secret cannot be guessed from its fingerprint without the
//! key. The key id (a short hash of the key) travels with every
//! fingerprint, so fingerprints made under another key are told apart.

use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::DriftError;
use crate::digest::Digest;

/// Shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// A collector's HMAC key. Wiped when dropped; its `Debug` shows the id only.
pub struct HmacKey {
    key: Zeroizing<Vec<u8>>,
    id: String,
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl HmacKey {
    /// A key from a key file's bytes (one trailing newline is dropped).
    /// `name` is only for messages.
    pub fn new(name: &str, bytes: &[u8]) -> Result<Self, DriftError> {
        let bytes = bytes
            .strip_suffix(b"\n")
            .map_or(bytes, |b| b.strip_suffix(b"\r").unwrap_or(b));
        if bytes.len() < MIN_KEY_BYTES {
            return Err(DriftError::Key {
                name: name.to_owned(),
                problem: format!(
                    "it is {} bytes; at least {MIN_KEY_BYTES} random bytes are needed. Create one with `head -c 32 /dev/urandom | base64 > FILE`",
                    bytes.len()
                ),
            });
        }
        let id = Digest::of(bytes).to_hex()[..12].to_owned();
        Ok(Self {
            key: Zeroizing::new(bytes.to_vec()),
            id,
        })
    }

    /// The key id: the first 12 hex digits of the key's sha256.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `hmac-sha256:<key id>:<64 hex>` of `secret`.
    pub fn fingerprint(&self, secret: &[u8]) -> String {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail.
        let tag = <Hmac<Sha256>>::new_from_slice(&self.key).map_or_else(
            |_| Vec::new(),
            |mut mac| {
                mac.update(secret);
                mac.finalize().into_bytes().to_vec()
            },
        );
        format!("hmac-sha256:{}:{}", self.id, hex::encode(tag))
    }
}

/// The key id of a fingerprint, if it is one.
pub fn key_id(fingerprint: &str) -> Option<&str> {
    let rest = fingerprint.strip_prefix("hmac-sha256:")?;
    rest.split_once(':').map(|(id, _)| id)
}
