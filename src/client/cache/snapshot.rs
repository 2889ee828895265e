//! The saved replay (`state-<size>.bin`): the replay of the first `size`
//! cached entries as a sync left it, so that a cached start resumes the
//! fold instead of parsing and folding every entry again.
//!
//! Layout: the magic line, `size` (u64, big endian), the `size` leaf hashes
//! (32 bytes each, log order), the `size` entry ids (32 bytes each), the
//! length of the promotions part (u64, big endian), the promotions, then the
//! rest: the policy in force (its document), the log indexes of the
//! accepted policy versions and the rest of the fold ([`FoldSaved`]). The
//! two parts are MessagePack with field names (a binary format that, unlike
//! serde's compact ones, carries the optional fields the statement types
//! skip; digests are their 32 bytes there, not hex), read on two cores.
//! JSON of the same fold is three times the size and took most of a cached
//! start to read. Raw arrays for the leaves and ids, which grow with every
//! entry. The signed manifest commits to the file by its sha256 and length;
//! the leaves must hash to the checkpoint's root.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::digest::Digest;
use crate::ledger::{Hash, MerkleTree};
use crate::state::{FoldRestored, FoldSaved, Promotion};

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

/// The promotions of a saved fold.
pub type Promotions = BTreeMap<Digest, Promotion>;

/// The file's bytes for a replay of `tree.len()` entries whose ids are
/// `ids` (in log order).
pub fn encode(
    tree: &MerkleTree,
    ids: impl ExactSizeIterator<Item = Digest>,
    policy: &str,
    policy_entries: &[u64],
    (fold, promotions): (FoldSaved<'_>, &Promotions),
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
    let mut part = Vec::with_capacity(count * 256);
    promotions.serialize(&mut rmp_serde::Serializer::new(&mut part).with_struct_map())?;
    out.extend_from_slice(&(part.len() as u64).to_be_bytes());
    out.extend_from_slice(&part);
    let rest = Rest {
        policy,
        policy_entries,
        fold,
    };
    rest.serialize(&mut rmp_serde::Serializer::new(&mut out).with_struct_map())?;
    Ok(out)
}

/// Where the parts of a file lie: `(count, promotions, rest)`.
fn layout(bytes: &[u8]) -> Result<(usize, &[u8], &[u8]), String> {
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
    let (len, rest) = rest[count * 64..]
        .split_first_chunk::<8>()
        .ok_or("it is cut short before its promotions")?;
    let len = usize::try_from(u64::from_be_bytes(*len))
        .ok()
        .filter(|len| *len <= rest.len())
        .ok_or("it is cut short in its promotions")?;
    let (promotions, rest) = rest.split_at(len);
    Ok((count, promotions, rest))
}

/// The leaf hashes and entry ids of a file.
pub fn leaves_and_ids(bytes: &[u8]) -> Result<(Vec<Hash>, Vec<Digest>), String> {
    let (count, _, _) = layout(bytes)?;
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

/// The promotions of a file.
pub fn promotions(bytes: &[u8]) -> Result<Promotions, String> {
    let (_, promotions, _) = layout(bytes)?;
    rmp_serde::from_slice(promotions).map_err(|e| format!("its promotions do not parse: {e}"))
}

/// The policy and the rest of the fold of a file.
pub fn saved(bytes: &[u8]) -> Result<Saved, String> {
    let (_, _, rest) = layout(bytes)?;
    let rest: RestOwned =
        rmp_serde::from_slice(rest).map_err(|e| format!("its fold does not parse: {e}"))?;
    Ok(Saved {
        policy: rest.policy,
        policy_entries: rest.policy_entries,
        fold: rest.fold,
    })
}
