//! The saved replay (`state-<size>.bin`): the replay of the first `size`
//! cached entries as a sync left it, so that a cached start resumes the
//! fold instead of parsing and folding every entry again.
//!
//! Layout: the magic line, `size` (u64, big endian), the `size` leaf hashes
//! (32 bytes each, log order), the `size` entry ids (32 bytes each), the
//! promotions, the decisions, then the rest: the policy in force (its
//! document), the log indexes of the accepted policy versions and the rest
//! of the fold ([`FoldSaved`]). The promotions and the decisions (most of a
//! fold) are each a count (u64), that many `(id, length)` pairs (32 bytes,
//! u32 big endian) and the values one after another, each its own
//! MessagePack: a cached start decodes a value only when the fold or a view
//! reads it ([`SavedMap`]), and a save copies the bytes of a value that did
//! not change. The values and the rest are MessagePack with field names (a
//! binary format that, unlike serde's compact ones, carries the optional
//! fields the statement types skip; digests are their 32 bytes there, not
//! hex). Raw arrays for the leaves and ids, which grow with every entry. The
//! signed manifest commits to the whole file by its sha256 and length; the
//! leaves must hash to the checkpoint's root.

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::ledger::{Hash, MerkleTree};
use crate::state::{DecisionRecord, FoldRestored, FoldSaved, Promotion, SavedMap};

const MAGIC: &[u8; 16] = b"tollgate-state2\n";

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

/// The policy and the fold of a saved replay, but its promotions and
/// decisions.
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
    (fold, promotions, decisions): (
        FoldSaved<'_>,
        &SavedMap<Promotion>,
        &SavedMap<DecisionRecord>,
    ),
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
    section(&mut out, &promotions.encoded()?)?;
    section(&mut out, &decisions.encoded()?)?;
    let rest = Rest {
        policy,
        policy_entries,
        fold,
    };
    rest.serialize(&mut rmp_serde::Serializer::new(&mut out).with_struct_map())?;
    Ok(out)
}

/// Appends a section: the count, the `(id, length)` pairs, the values.
fn section(
    out: &mut Vec<u8>,
    values: &[(Digest, Vec<u8>)],
) -> Result<(), rmp_serde::encode::Error> {
    let too_long =
        || rmp_serde::encode::Error::Syntax("a saved value is longer than 4 GiB".to_owned());
    out.extend_from_slice(&(values.len() as u64).to_be_bytes());
    for (id, bytes) in values {
        out.extend_from_slice(id.as_bytes());
        let len = u32::try_from(bytes.len()).map_err(|_| too_long())?;
        out.extend_from_slice(&len.to_be_bytes());
    }
    for (_, bytes) in values {
        out.extend_from_slice(bytes);
    }
    Ok(())
}

/// Each value of a section: its id and where it lies in the file.
type Ranges = Vec<(Digest, Range<usize>)>;

/// Where a section's values lie in the file, from `at`; and where it ends.
fn read_section(bytes: &[u8], at: usize) -> Result<(Ranges, usize), String> {
    let cut = || "it is cut short in its promotions or decisions".to_owned();
    let count = bytes
        .get(at..at + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(cut)?;
    let table = at + 8;
    let mut value = count
        .checked_mul(36)
        .and_then(|len| table.checked_add(len))
        .filter(|end| *end <= bytes.len())
        .ok_or_else(cut)?;
    let mut ranges = Vec::with_capacity(count);
    let mut previous: Option<Digest> = None;
    for pair in bytes[table..table + count * 36].chunks_exact(36) {
        let id = Digest::from_bytes(pair[..32].try_into().unwrap_or_default());
        let len = u32::from_be_bytes(pair[32..].try_into().unwrap_or_default()) as usize;
        if previous.is_some_and(|p| p >= id) {
            return Err("its promotions or decisions are not in id order".to_owned());
        }
        previous = Some(id);
        let end = value
            .checked_add(len)
            .filter(|end| *end <= bytes.len())
            .ok_or_else(cut)?;
        ranges.push((id, value..end));
        value = end;
    }
    Ok((ranges, value))
}

/// The parts of a file: `(count, promotions, decisions, rest)`.
type Layout<'a> = (usize, Ranges, Ranges, &'a [u8]);

fn layout(bytes: &[u8]) -> Result<Layout<'_>, String> {
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
    let start = MAGIC.len() + 8 + count * 64;
    let (promotions, at) = read_section(bytes, start)?;
    let (decisions, at) = read_section(bytes, at)?;
    Ok((count, promotions, decisions, &bytes[at..]))
}

/// The leaf hashes and entry ids of a file.
pub fn leaves_and_ids(bytes: &[u8]) -> Result<(Vec<Hash>, Vec<Digest>), String> {
    let (count, _, _, _) = layout(bytes)?;
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

/// The promotions and decisions of a file, each decoded when first read.
pub fn values(
    bytes: &Arc<[u8]>,
) -> Result<(SavedMap<Promotion>, SavedMap<DecisionRecord>), String> {
    let (_, promotions, decisions, _) = layout(bytes)?;
    Ok((
        SavedMap::saved(bytes, promotions),
        SavedMap::saved(bytes, decisions),
    ))
}

/// The policy and the rest of the fold of a file.
pub fn saved(bytes: &[u8]) -> Result<Saved, String> {
    let (_, _, _, rest) = layout(bytes)?;
    let rest: RestOwned =
        rmp_serde::from_slice(rest).map_err(|e| format!("its fold does not parse: {e}"))?;
    Ok(Saved {
        policy: rest.policy,
        policy_entries: rest.policy_entries,
        fold: rest.fold,
    })
}
