//! The saved replay (`state-<size>.bin`): the replay of the first `size`
//! cached entries as a sync left it, so that a cached start resumes the
//! fold instead of parsing and folding every entry again.
//!
//! Layout: the magic line, `size` (u64, big endian), the `size` leaf hashes
//! (32 bytes each, log order), the `size` entry ids (32 bytes each), then
//! the rest as MessagePack: the policy in force (its document), the log
//! indexes of the accepted policy versions and the fold ([`FoldSaved`]).
//! Raw arrays for the two parts that grow with every entry; MessagePack with
//! field names for the fold (a binary format that, unlike serde's compact
//! ones, carries the optional fields the statement types skip; digests are
//! their 32 bytes there, not hex). JSON of the same fold is three times the
//! size and took most of a cached start to read. The signed manifest
//! commits to the file by its sha256 and length; the leaves must hash to the
//! checkpoint's root.

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

/// The policy and the fold of a saved replay.
#[derive(Debug)]
pub struct Saved {
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
) -> Result<Vec<u8>, rmp_serde::encode::Error> {
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
    let rest = Rest {
        policy,
        policy_entries,
        fold,
    };
    rest.serialize(&mut rmp_serde::Serializer::new(&mut out).with_struct_map())?;
    Ok(out)
}

/// Where the parts of a file lie: `(count, offset of the rest)`.
fn layout(bytes: &[u8]) -> Result<(usize, usize), String> {
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
    Ok((count, MAGIC.len() + 8 + count * 64))
}

/// The leaf hashes and entry ids of a file.
pub fn leaves_and_ids(bytes: &[u8]) -> Result<(Vec<Hash>, Vec<Digest>), String> {
    let (count, _) = layout(bytes)?;
    let start = MAGIC.len() + 8;
    let (leaves, ids) = bytes[start..start + count * 64].split_at(count * 32);
    let leaves = leaves
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap_or_default())
        .collect();
    let ids = ids
        .chunks_exact(32)
        .map(|c| Digest::from_bytes(c.try_into().unwrap_or_default()))
        .collect();
    Ok((leaves, ids))
}

/// The policy and fold of a file.
pub fn saved(bytes: &[u8]) -> Result<Saved, String> {
    let (_, offset) = layout(bytes)?;
    let rest: RestOwned = rmp_serde::from_slice(&bytes[offset..])
        .map_err(|e| format!("its fold does not parse: {e}"))?;
    Ok(Saved {
        policy: rest.policy,
        policy_entries: rest.policy_entries,
        fold: rest.fold,
    })
}
