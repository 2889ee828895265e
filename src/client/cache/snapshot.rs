//! The saved replay (`state-<size>.bin`): the replay of the first `size`
//! cached entries as a sync left it, so that a cached start resumes the
//! fold instead of parsing and folding every entry again.
//!
//! Layout: the magic line, `size` (u64, big endian), the `size` leaf hashes
//! (32 bytes each, log order), the `size` entry ids (32 bytes each), then
//! the rest as JSON: the policy in force (its document), the log indexes of
//! the accepted policy versions and the fold ([`FoldSaved`]). Raw arrays for
//! the two parts that grow with every entry; JSON for the fold, whose
//! statement types are JSON types (serde's compact binary formats cannot
//! carry their optional fields). The signed manifest commits to the file by
//! its sha256 and length; the leaves must hash to the checkpoint's root.

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::ledger::{Hash, MerkleTree};
use crate::state::{FoldRestored, FoldSaved};

const MAGIC: &[u8; 16] = b"tollgate-state1\n";

#[derive(Serialize)]
struct Rest<'a> {
    policy: &'a str,
    policy_entries: &'a [u64],
    fold: FoldSaved<'a>,
}

#[derive(Deserialize)]
struct RestOwned {
    policy: String,
    policy_entries: Vec<u64>,
    fold: FoldRestored,
}

/// What a saved replay holds.
#[derive(Debug)]
pub struct Saved {
    pub leaves: Vec<Hash>,
    pub ids: Vec<Digest>,
    /// The document of the policy in force after the entries.
    pub policy: String,
    pub policy_entries: Vec<u64>,
    pub fold: FoldRestored,
}

/// The file's bytes for a replay of `tree.len()` entries whose ids are
/// `ids` (in log order).
pub fn encode(
    tree: &MerkleTree,
    ids: impl ExactSizeIterator<Item = Digest>,
    policy: &str,
    policy_entries: &[u64],
    fold: FoldSaved<'_>,
) -> Result<Vec<u8>, serde_json::Error> {
    let size = tree.len();
    let count = usize::try_from(size).unwrap_or(0);
    let mut out = Vec::with_capacity(MAGIC.len() + 8 + count * 64 + count * 256);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&size.to_be_bytes());
    for index in 0..size {
        out.extend_from_slice(&tree.leaf(index).unwrap_or_default());
    }
    for id in ids {
        out.extend_from_slice(id.as_bytes());
    }
    serde_json::to_writer(
        &mut out,
        &Rest {
            policy,
            policy_entries,
            fold,
        },
    )?;
    Ok(out)
}

/// Reads the file's bytes back; the error says what is wrong.
pub fn decode(bytes: &[u8]) -> Result<Saved, String> {
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or("it does not start with the state file's magic line")?;
    let (size, rest) = rest
        .split_first_chunk::<8>()
        .ok_or("it is cut short before its size")?;
    let count = usize::try_from(u64::from_be_bytes(*size))
        .ok()
        .filter(|count| count.checked_mul(64).is_some_and(|len| len <= rest.len()))
        .ok_or("it is cut short before its leaf hashes and ids")?;
    let (leaves, rest) = rest.split_at(count * 32);
    let (ids, rest) = rest.split_at(count * 32);
    let leaves = leaves
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap_or_default())
        .collect();
    let ids = ids
        .chunks_exact(32)
        .map(|c| Digest::from_bytes(c.try_into().unwrap_or_default()))
        .collect();
    let rest: RestOwned =
        serde_json::from_slice(rest).map_err(|e| format!("its fold does not parse: {e}"))?;
    Ok(Saved {
        leaves,
        ids,
        policy: rest.policy,
        policy_entries: rest.policy_entries,
        fold: rest.fold,
    })
}
