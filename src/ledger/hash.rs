//! RFC 6962 hashing: the leaf and node domain separation and the empty root.
//!
//! The 0x00/0x01 prefixes are what stop an interior node from also being a
//! valid leaf (a second preimage); never hash tree material without them.

use sha2::{Digest as _, Sha256};

/// A SHA-256 value inside the tree.
pub type Hash = [u8; 32];

/// Root of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// Why bytes are not a tree hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a tree hash is 32 bytes, got {0}")]
pub struct HashLengthError(pub usize);

/// `SHA-256(0x00 ‖ bytes)`.
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(bytes);
    h.finalize().into()
}

#[cfg(test)]
thread_local! {
    /// Node hashes computed on this thread, so tests can bound the work a
    /// proof costs.
    pub(crate) static NODE_HASHES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    #[cfg(test)]
    NODE_HASHES.with(|n| n.set(n.get() + 1));
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Interprets decoded bytes (a root from JSON, a proof line) as a hash, so a
/// wrong-length value becomes an error rather than a truncation or a panic.
pub fn hash_from_slice(bytes: &[u8]) -> Result<Hash, HashLengthError> {
    bytes.try_into().map_err(|_| HashLengthError(bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest(b"")));
    }
}
