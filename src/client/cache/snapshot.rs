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
//! signed manifest commits to the whole file by its length and the sha256 of
//! each of its chunks ([`super::state_file`]), which every read checks; the
//! leaves must hash to the checkpoint's root.
//!
//! The file is read through [`SavedBytes`], never held whole: a cached
//! start reads its header, leaves, ids, tables and the rest of the fold,
//! and a promotion or decision only when it is read.

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::ledger::{Hash, MerkleTree};
use crate::state::{DecisionRecord, FoldRestored, FoldSaved, Promotion, SavedBytes, SavedMap};

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
type Ranges = Vec<(Digest, Range<u64>)>;

/// Where the parts of a state file lie.
#[derive(Debug)]
pub struct Layout {
    /// Entries it holds.
    pub count: u64,
    promotions: Ranges,
    decisions: Ranges,
    rest: Range<u64>,
}

/// Bytes `[at, at + len)` of the file.
fn read_at(bytes: &dyn SavedBytes, at: u64, len: u64) -> Result<Vec<u8>, String> {
    let end = at
        .checked_add(len)
        .ok_or("it is cut short in its promotions or decisions")?;
    bytes.read(at..end)
}

/// Where a section's values lie in the file, from `at`; and where it ends.
fn read_section(bytes: &dyn SavedBytes, at: u64, file_len: u64) -> Result<(Ranges, u64), String> {
    let cut = || "it is cut short in its promotions or decisions".to_owned();
    if at.checked_add(8).is_none_or(|end| end > file_len) {
        return Err(cut());
    }
    let count = read_at(bytes, at, 8)?
        .first_chunk::<8>()
        .map(|b| u64::from_be_bytes(*b))
        .ok_or_else(cut)?;
    let table = at + 8;
    let mut value = count
        .checked_mul(36)
        .and_then(|len| table.checked_add(len))
        .filter(|end| *end <= file_len)
        .ok_or_else(cut)?;
    let pairs = read_at(bytes, table, count * 36)?;
    let mut ranges = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut previous: Option<Digest> = None;
    for pair in pairs.chunks_exact(36) {
        let id = Digest::from_bytes(pair[..32].try_into().unwrap_or_default());
        let len = u64::from(u32::from_be_bytes(
            pair[32..].try_into().unwrap_or_default(),
        ));
        if previous.is_some_and(|p| p >= id) {
            return Err("its promotions or decisions are not in id order".to_owned());
        }
        previous = Some(id);
        let end = value
            .checked_add(len)
            .filter(|end| *end <= file_len)
            .ok_or_else(cut)?;
        ranges.push((id, value..end));
        value = end;
    }
    Ok((ranges, value))
}

/// Reads where the parts of a file of `file_len` bytes lie (its header and
/// the tables of its promotions and decisions; not their values).
pub fn layout(bytes: &dyn SavedBytes, file_len: u64) -> Result<Layout, String> {
    let head_len = MAGIC.len() as u64 + 8;
    if file_len < head_len {
        return Err("it is cut short before its size".to_owned());
    }
    let head = bytes.read(0..head_len)?;
    let rest = head
        .strip_prefix(MAGIC.as_slice())
        .ok_or("it does not start with the state file's magic line")?;
    let count = rest
        .first_chunk::<8>()
        .map(|b| u64::from_be_bytes(*b))
        .ok_or("it is cut short before its size")?;
    let start = count
        .checked_mul(64)
        .and_then(|len| len.checked_add(head_len))
        .filter(|end| *end <= file_len)
        .ok_or("it is cut short before its leaf hashes and ids")?;
    let (promotions, at) = read_section(bytes, start, file_len)?;
    let (decisions, at) = read_section(bytes, at, file_len)?;
    Ok(Layout {
        count,
        promotions,
        decisions,
        rest: at..file_len,
    })
}

/// The leaf hashes and entry ids of a file.
pub fn leaves_and_ids(
    bytes: &dyn SavedBytes,
    layout: &Layout,
) -> Result<(Vec<Hash>, Vec<Digest>), String> {
    let start = MAGIC.len() as u64 + 8;
    let raw = read_at(bytes, start, layout.count * 64)?;
    let (leaves, ids) = raw.split_at(raw.len() / 2);
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

/// The promotions and decisions of a file, each read and decoded when
/// first read.
pub fn values(
    bytes: &Arc<dyn SavedBytes>,
    layout: Layout,
) -> (SavedMap<Promotion>, SavedMap<DecisionRecord>) {
    (
        SavedMap::saved(bytes, layout.promotions),
        SavedMap::saved(bytes, layout.decisions),
    )
}

/// The policy and the rest of the fold of a file.
pub fn saved(bytes: &dyn SavedBytes, layout: &Layout) -> Result<Saved, String> {
    let rest = bytes.read(layout.rest.clone())?;
    let rest: RestOwned =
        rmp_serde::from_slice(&rest).map_err(|e| format!("its fold does not parse: {e}"))?;
    Ok(Saved {
        policy: rest.policy,
        policy_entries: rest.policy_entries,
        fold: rest.fold,
    })
}
