//! The incremental, verified local cache of one log (issue 7 item 2): the
//! entries this client verified and the replay they fold to, so that a sync
//! downloads only what is new, a cached start resumes instead of replaying,
//! and read commands work while the store is down.
//!
//! Layout, under `<cache dir>/<origin>-<log key id>-<operator key id>/`:
//! - `entries.bin`: the verified entries in log order, each the envelope
//!   bytes exactly as the log holds them, prefixed by its length (u32, big
//!   endian). Only grows: a sync appends the new entries.
//! - `state-<n>.bin`: the saved replay of the first `n` entries (leaf
//!   hashes, entry ids, policy in force, fold; see [`snapshot`]). A sync
//!   writes a new one when more than [`TAIL`] entries came after the last.
//! - `manifest.json`: origin, size, how many bytes of `entries.bin` hold
//!   those entries, the log-key-signed checkpoint they were verified
//!   against, when, the genesis policy document, the signer of every entry
//!   (name and key, as an index into a table), and the state file (name,
//!   entries covered, length and the sha256 of each 64 KiB chunk). The manifest is signed with the
//!   operator's own ed25519 key, so only this client writes a manifest the
//!   next load accepts.
//! - `lock`: held shared while loading and exclusively while saving, so
//!   two commands of one operator never interleave their writes.
//!
//! Loading trusts nothing it cannot check: the manifest signature must
//! verify under the operator's key, its checkpoint under the log key and
//! its genesis must have the pinned digest; the checkpoint must not be
//! newer than the trusted one (`<data dir>/checkpoints/…`) and, at the same
//! size, must have the same root. The state file must have the length and
//! chunk digests the manifest gives (every chunk checked once by a load,
//! and again whenever a part is read later); the replay resumes from it (its tree rebuilt
//! from the saved leaf hashes), the entries after it are read from
//! `entries.bin` and folded with [`Replay::extend_trusted`] (envelope and
//! statement parsed, signer a key of the policy in force, leaf hashed), and
//! the root of the whole tree must be the checkpoint's: that binds the saved
//! leaves, and so every cached entry, to the log. The recorded signers
//! (covered by the manifest signature) are what lets the load skip the
//! ed25519 checks. The saved entries themselves are read only when a command
//! shows them, and checked against their leaf hashes then
//! ([`LogEntries`]). Anything that fails is a [`Refused`] cache: the caller
//! reports it and rebuilds from the store; a refused cache is never used.

mod entries;
pub mod snapshot;
mod state_file;

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use entries::{LogEntries, Named};

use crate::digest::Digest;
use crate::durable::{DurableError, write_atomic};
use crate::keys::vkey::NoteVerifierKey;
use crate::keys::{PublicKey, Signer};
use crate::ledger::{Hash, MerkleTree, SignedCheckpoint};
use crate::policy::Policy;
use crate::replay::Replay;
use crate::state::{DecisionRecord, Folder, Promotion, SavedBytes, SavedMap};

const ENTRIES: &str = "entries.bin";
const MANIFEST: &str = "manifest.json";
const LOCK: &str = "lock";
const FORMAT: u32 = 4;

/// Entries a load folds after the saved replay before a save writes a new
/// one: a few milliseconds of parsing, against rewriting the whole fold on
/// every sync.
pub const TAIL: u64 = 1024;

/// A cache that failed a check: never used, reported, rebuilt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the local cache {path} was refused ({problem}); it is rebuilt from the store and verified in full",
    path = .path.display()
)]
pub struct Refused {
    pub path: PathBuf,
    pub problem: String,
}

/// The cache directory of one log as seen by one operator.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    origin: String,
}

/// A cache that passed every check of the module doc.
#[derive(Debug)]
pub struct Cached {
    /// The replay of the cached entries (tree, fold, policy chain).
    pub replay: Replay,
    pub entries: LogEntries,
    /// The checkpoint the entries were verified against.
    pub checkpoint: SignedCheckpoint,
    /// When the cache was written for that checkpoint.
    pub verified_at: OffsetDateTime,
    kept: Kept,
}

impl Cached {
    pub fn size(&self) -> u64 {
        self.replay.size()
    }

    /// What a save after this cache keeps of it.
    pub fn kept(&self) -> Kept {
        self.kept.clone()
    }
}

/// What a save may keep of the cache a sync started from: the bytes of
/// `entries.bin` and the saved replay.
#[derive(Debug, Clone)]
pub struct Kept {
    entries_len: u64,
    state: StateFile,
}

/// The saved replay a manifest names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    /// The file name, in the cache directory.
    file: String,
    /// Entries it holds (the first `size` of the log).
    size: u64,
    /// Bytes of `entries.bin` that hold those entries.
    entries_len: u64,
    len: u64,
    /// The sha256 of each [`state_file::CHUNK`] of the file, in order,
    /// base64: every read of the file checks the chunks it reads, so the
    /// file is read in parts, when needed, never held whole.
    chunks: String,
}

impl StateFile {
    /// The chunk digests, when there is one per chunk of a file of `len`.
    fn chunk_digests(&self) -> Option<Vec<[u8; 32]>> {
        let raw = crate::encoding::decode_standard(&self.chunks).ok()?;
        let chunks: Vec<[u8; 32]> = raw
            .chunks_exact(32)
            .filter_map(|c| c.try_into().ok())
            .collect();
        (raw.len() % 32 == 0 && chunks.len() as u64 == self.len.div_ceil(state_file::CHUNK))
            .then_some(chunks)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    format: u32,
    origin: String,
    size: u64,
    entries_len: u64,
    checkpoint: String,
    #[serde(with = "time::serde::rfc3339")]
    verified_at: OffsetDateTime,
    genesis: String,
    /// The distinct signers: operator name and key.
    signers: Vec<NamedWire>,
    /// Per entry, the index into `signers` (u16, big endian), base64.
    by_entry: String,
    state: StateFile,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedWire {
    name: String,
    key: PublicKey,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedManifest {
    /// The manifest's JSON text, signed as is.
    manifest: String,
    key: PublicKey,
    /// ed25519 over the manifest text, base64.
    signature: String,
}

/// A state file checked, with the parts a load needs read.
struct StateRead {
    leaves: Vec<Hash>,
    ids: Vec<Digest>,
    seen: std::collections::HashSet<Digest>,
    tree: MerkleTree,
    saved: snapshot::Saved,
    values: (SavedMap<Promotion>, SavedMap<DecisionRecord>),
}

/// What a save writes: a verified log view, and what it came from.
#[derive(Debug)]
pub struct Update<'a> {
    /// What to keep of the cache the sync started from, or `None` to
    /// rewrite everything from `bodies`.
    pub kept: Option<&'a Kept>,
    /// The entries after the kept ones.
    pub bodies: &'a [Vec<u8>],
    /// Every entry, kept and new.
    pub entries: &'a LogEntries,
    /// The replay of every entry: its fold, tree and policy chain.
    pub folder: &'a Folder,
    pub tree: &'a MerkleTree,
    pub policy_entries: &'a [u64],
    pub checkpoint: &'a SignedCheckpoint,
    pub genesis: &'a Policy,
    pub verified_at: OffsetDateTime,
}

/// Reads `count` length-prefixed entries from bytes `[from, to)` of `path`.
fn read_frames(path: &Path, from: u64, to: u64, count: usize) -> Result<Vec<Vec<u8>>, String> {
    let mut bytes = Vec::new();
    let len = to.saturating_sub(from);
    File::open(path)
        .and_then(|mut file| {
            file.seek(SeekFrom::Start(from))?;
            file.take(len).read_to_end(&mut bytes)
        })
        .map_err(|e| format!("cannot read {ENTRIES}: {e}"))?;
    if bytes.len() as u64 != len {
        return Err(format!("{ENTRIES} is shorter than its manifest says"));
    }
    let mut bodies = Vec::with_capacity(count);
    let mut rest = bytes.as_slice();
    while let Some((head, tail)) = rest.split_first_chunk::<4>() {
        let len = u32::from_be_bytes(*head) as usize;
        if tail.len() < len {
            break;
        }
        let (body, tail) = tail.split_at(len);
        bodies.push(body.to_vec());
        rest = tail;
    }
    if !rest.is_empty() || bodies.len() != count {
        return Err(format!(
            "{ENTRIES} does not hold the {count} entries its manifest lists"
        ));
    }
    Ok(bodies)
}

impl Cache {
    /// The cache of the log `log_vkey` names, kept for `operator`.
    pub fn new(root: &Path, log_vkey: &NoteVerifierKey, operator: &PublicKey) -> Self {
        let origin = log_vkey.name().to_owned();
        let name = format!(
            "{}-{:08x}-{}",
            super::sync::file_stem(&origin),
            log_vkey.id(),
            operator.key_id().short()
        );
        Self {
            dir: root.join(name),
            origin,
        }
    }

    /// Under [`crate::paths::cache_dir`].
    pub fn default_location(
        log_vkey: &NoteVerifierKey,
        operator: &PublicKey,
    ) -> Result<Self, crate::paths::NoHomeError> {
        Ok(Self::new(&crate::paths::cache_dir()?, log_vkey, operator))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn refused(&self, problem: impl Into<String>) -> Refused {
        Refused {
            path: self.dir.clone(),
            problem: problem.into(),
        }
    }

    fn lock(&self, exclusive: bool) -> std::io::Result<File> {
        std::fs::create_dir_all(&self.dir)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(LOCK))?;
        if exclusive {
            file.lock()?;
        } else {
            file.lock_shared()?;
        }
        Ok(file)
    }

    /// Loads and checks the cache (see the module doc). `Ok(None)`: there is
    /// no cache, or no trusted checkpoint to check one against.
    pub fn load(
        &self,
        log_vkey: &NoteVerifierKey,
        policy_digest: Digest,
        operator: &PublicKey,
        trusted: Option<&SignedCheckpoint>,
    ) -> Result<Option<Cached>, Refused> {
        let Some(trusted) = trusted else {
            return Ok(None);
        };
        if !self.dir.join(MANIFEST).exists() {
            return Ok(None);
        }
        let _lock = self
            .lock(false)
            .map_err(|e| self.refused(format!("cannot lock it: {e}")))?;
        let text = match std::fs::read(self.dir.join(MANIFEST)) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.refused(format!("cannot read {MANIFEST}: {e}"))),
        };
        let manifest = self.open_manifest(&text, operator)?;
        if manifest.format != FORMAT || manifest.origin != self.origin {
            return Err(self.refused(format!(
                "its manifest is format {} for origin {:?}, expected format {FORMAT} for {:?}",
                manifest.format, manifest.origin, self.origin
            )));
        }
        let checkpoint =
            SignedCheckpoint::parse_and_verify(manifest.checkpoint.as_bytes(), log_vkey).map_err(
                |e| {
                    self.refused(format!(
                        "its checkpoint does not verify under the log key: {e}"
                    ))
                },
            )?;
        let (size, root) = (checkpoint.checkpoint().size, checkpoint.checkpoint().root);
        let (trusted_size, trusted_root) = (trusted.checkpoint().size, trusted.checkpoint().root);
        if size != manifest.size {
            return Err(self.refused("its manifest size is not its checkpoint's size"));
        }
        if size > trusted_size || (size == trusted_size && root != trusted_root) {
            return Err(self.refused(format!(
                "its checkpoint (size {size}) is not the trusted one (size {trusted_size}) nor older"
            )));
        }
        let genesis = Policy::pinned(&manifest.genesis, "cached genesis policy", policy_digest)
            .map_err(|e| self.refused(format!("its genesis policy is not the pinned one: {e}")))?;
        let genesis = Arc::new(genesis);
        let (signers, by_entry) = self.signers(&manifest, size)?;
        let state = &manifest.state;
        if state.size > size || state.entries_len > manifest.entries_len {
            return Err(self.refused("its state file covers more than its entries"));
        }
        let StateRead {
            leaves,
            ids,
            seen,
            tree,
            saved,
            values,
        } = self.read_state(state)?;
        let snapshot::Saved {
            policy,
            policy_entries,
            fold,
        } = saved;
        let policy =
            if policy == genesis.document() {
                Arc::clone(&genesis)
            } else {
                Arc::new(Policy::parse(&policy, "cached policy").map_err(|e| {
                    self.refused(format!("its policy in force does not parse: {e}"))
                })?)
            };
        let folder = Folder::restore(policy, fold, values, seen);
        let mut replay = Replay::from_parts(Arc::clone(&genesis), folder, tree, policy_entries);

        // The entries after the saved replay, folded again.
        let later = usize::try_from(size - state.size).unwrap_or(usize::MAX);
        let bodies = read_frames(
            &self.dir.join(ENTRIES),
            state.entries_len,
            manifest.entries_len,
            later,
        )
        .map_err(|problem| self.refused(problem))?;
        let keys: Vec<PublicKey> = by_entry[by_entry.len() - later..]
            .iter()
            .map(|&i| *signers[usize::from(i)].key)
            .collect();
        let later: Vec<_> = replay
            .extend_trusted(&bodies, &keys)
            .map_err(|e| self.refused(format!("its entries do not replay: {e}")))?
            .into_iter()
            .map(|r| r.entry)
            .collect();
        if replay.root() != root {
            return Err(self.refused(format!(
                "its {size} entries do not hash to the root of its checkpoint"
            )));
        }
        if let Some(first) = replay.refused().first() {
            return Err(self.refused(format!(
                "it holds an entry the rules refuse (entry {}: {})",
                first.index, first.reason
            )));
        }
        let stored = entries::Stored {
            dir: self.dir.clone(),
            path: self.dir.join(ENTRIES),
            manifest: self.dir.join(MANIFEST),
            bytes: state.entries_len,
            leaves,
            ids,
            signers,
            by_entry,
        };
        Ok(Some(Cached {
            replay,
            entries: LogEntries::stored(stored, later),
            checkpoint,
            verified_at: manifest.verified_at,
            kept: Kept {
                entries_len: manifest.entries_len,
                state: manifest.state,
            },
        }))
    }

    fn open_manifest(&self, text: &[u8], operator: &PublicKey) -> Result<Manifest, Refused> {
        let signed: SignedManifest = serde_json::from_slice(text)
            .map_err(|e| self.refused(format!("{MANIFEST} does not parse: {e}")))?;
        if signed.key != *operator {
            return Err(self.refused(format!("{MANIFEST} is signed by another key")));
        }
        let signature = crate::encoding::decode_standard(&signed.signature)
            .ok()
            .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
            .ok_or_else(|| self.refused(format!("{MANIFEST} carries a malformed signature")))?;
        operator
            .verifying_key()
            .verify_strict(signed.manifest.as_bytes(), &signature)
            .map_err(|_| {
                self.refused(format!(
                    "the signature of {MANIFEST} does not verify under your key"
                ))
            })?;
        serde_json::from_str(&signed.manifest)
            .map_err(|e| self.refused(format!("{MANIFEST} does not parse: {e}")))
    }

    /// The state file, checked against the manifest's length and chunk
    /// digests, with the tree of its leaves. Every chunk is checked on one
    /// core while the other reads the parts a load needs and rebuilds the
    /// tree; the promotions and decisions are read only when something
    /// reads them ([`crate::state::SavedMap`]), their chunks checked again
    /// then. Nothing read is used unless every chunk is the manifest's.
    fn read_state(&self, state: &StateFile) -> Result<StateRead, Refused> {
        if state.file.contains(['/', '\\']) || !state.file.starts_with("state-") {
            return Err(self.refused(format!("its state file name {:?} is not one", state.file)));
        }
        let problem = |problem: String| self.refused(format!("{}: {problem}", state.file));
        let chunks = state
            .chunk_digests()
            .ok_or_else(|| problem("its manifest does not list a digest per chunk".to_owned()))?;
        let file = state_file::StateFileBytes::open(&self.dir.join(&state.file), state.len, chunks)
            .map_err(problem)?;
        let file = Arc::new(file);
        let (checked, parts) = rayon::join(
            || file.check_all(),
            || {
                let layout = snapshot::layout(&*file, state.len)?;
                let ((leaves, ids), saved) = {
                    let (parts, saved) = rayon::join(
                        || snapshot::leaves_and_ids(&*file, &layout),
                        || snapshot::saved(&*file, &layout),
                    );
                    (parts?, saved?)
                };
                let tree = MerkleTree::from_leaf_hashes(leaves.iter().copied());
                let seen = ids.iter().copied().collect();
                Ok::<_, String>((leaves, ids, seen, tree, saved, layout))
            },
        );
        checked.map_err(&problem)?;
        let (leaves, ids, seen, tree, saved, layout) = parts.map_err(&problem)?;
        if leaves.len() as u64 != state.size {
            return Err(self.refused(format!(
                "{} does not hold the {} entries its manifest lists",
                state.file, state.size
            )));
        }
        let file: Arc<dyn SavedBytes> = file;
        let values = snapshot::values(&file, layout);
        Ok(StateRead {
            leaves,
            ids,
            seen,
            tree,
            saved,
            values,
        })
    }

    fn signers(&self, manifest: &Manifest, size: u64) -> Result<(Vec<Named>, Vec<u16>), Refused> {
        let raw = crate::encoding::decode_standard(&manifest.by_entry)
            .map_err(|e| self.refused(format!("its signer table does not decode: {e}")))?;
        if raw.len() as u64 != size * 2 {
            return Err(self.refused("its signer table does not have one signer per entry"));
        }
        let by_entry: Vec<u16> = raw
            .chunks_exact(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect();
        if by_entry
            .iter()
            .any(|&i| usize::from(i) >= manifest.signers.len())
        {
            return Err(self.refused("its signer table names an unknown key"));
        }
        let signers = manifest
            .signers
            .iter()
            .map(|n| Named {
                name: n.name.clone(),
                key: Arc::new(n.key),
            })
            .collect();
        Ok((signers, by_entry))
    }

    /// Writes the entries, the saved replay when due, and a newly signed
    /// manifest: appends the new entries (after cutting `entries.bin` back to
    /// the kept bytes) and fsyncs it, writes a new state file when more than
    /// [`TAIL`] entries came after the kept one, then replaces the manifest
    /// atomically. A crash in between leaves the old manifest, which covers
    /// only the bytes and the state file it lists. Returns what the next
    /// save after this one may keep.
    pub fn save(&self, operator: &Signer, update: &Update<'_>) -> Result<Kept, DurableError> {
        let fail = |path: PathBuf, action| {
            move |source| DurableError {
                path,
                action,
                source,
            }
        };
        let invalid = |path: PathBuf, action| DurableError {
            path,
            action,
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        };
        let path = self.dir.join(ENTRIES);
        let _lock = self.lock(true).map_err(fail(self.dir.join(LOCK), "lock"))?;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(fail(path.clone(), "open"))?;
        let keep = update.kept.map_or(0, |k| k.entries_len);
        file.set_len(keep).map_err(fail(path.clone(), "truncate"))?;
        file.seek(SeekFrom::Start(keep))
            .map_err(fail(path.clone(), "seek in"))?;
        let mut buffer = Vec::new();
        for body in update.bodies {
            let len = u32::try_from(body.len())
                .map_err(|_| invalid(path.clone(), "write an entry over 4 GiB to"))?;
            buffer.extend_from_slice(&len.to_be_bytes());
            buffer.extend_from_slice(body);
        }
        file.write_all(&buffer)
            .map_err(fail(path.clone(), "write"))?;
        file.sync_all().map_err(fail(path.clone(), "fsync"))?;
        let entries_len = keep + buffer.len() as u64;

        let size = update.checkpoint.checkpoint().size;
        let reuse = update.kept.map(|k| &k.state).filter(|state| {
            size - state.size.min(size) <= TAIL
                && std::fs::metadata(self.dir.join(&state.file)).is_ok_and(|m| m.len() == state.len)
        });
        let state = match reuse {
            Some(state) => state.clone(),
            None => self.save_state(update, entries_len)?,
        };

        let mut signers: Vec<Named> = Vec::new();
        let mut by_entry = Vec::with_capacity(update.entries.len() * 2);
        for index in 0..update.entries.len() {
            let (name, key) = update.entries.signer(index);
            let at = signers
                .iter()
                .position(|n| *n.key == *key && n.name == name)
                .unwrap_or_else(|| {
                    signers.push(Named {
                        name: name.to_owned(),
                        key: Arc::new(*key),
                    });
                    signers.len() - 1
                });
            let at = u16::try_from(at).map_err(|_| {
                invalid(self.dir.join(MANIFEST), "record more than 65536 signers in")
            })?;
            by_entry.extend_from_slice(&at.to_be_bytes());
        }
        let manifest = Manifest {
            format: FORMAT,
            origin: self.origin.clone(),
            size,
            entries_len,
            checkpoint: String::from_utf8_lossy(update.checkpoint.as_bytes()).into_owned(),
            verified_at: update.verified_at,
            genesis: update.genesis.document().to_owned(),
            signers: signers
                .into_iter()
                .map(|n| NamedWire {
                    name: n.name,
                    key: *n.key,
                })
                .collect(),
            by_entry: crate::encoding::encode(&by_entry),
            state: state.clone(),
        };
        let kept = Kept {
            entries_len,
            state: state.clone(),
        };
        let encode_error = |e: serde_json::Error| DurableError {
            path: self.dir.join(MANIFEST),
            action: "encode",
            source: std::io::Error::other(e),
        };
        let manifest = serde_json::to_string(&manifest).map_err(encode_error)?;
        let signature = operator.signing_key().sign(manifest.as_bytes());
        let signed = SignedManifest {
            manifest,
            key: operator.public(),
            signature: crate::encoding::encode(&signature.to_bytes()),
        };
        let text = serde_json::to_vec(&signed).map_err(encode_error)?;
        write_atomic(&self.dir.join(MANIFEST), &text)?;
        if reuse.is_none() {
            self.remove_state_files_but(&state.file);
        }
        Ok(kept)
    }

    /// Writes the replay of every entry as a new state file.
    fn save_state(&self, update: &Update<'_>, entries_len: u64) -> Result<StateFile, DurableError> {
        let size = update.tree.len();
        let file = format!("state-{size}.bin");
        let path = self.dir.join(&file);
        let invalid = |action| DurableError {
            path: path.clone(),
            action,
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        };
        if !update.folder.raw_state().ignored.is_empty() {
            return Err(invalid("save a fold that refused entries to"));
        }
        if update.entries.len() as u64 != size {
            return Err(invalid("save a replay whose entries are not its tree's to"));
        }
        let bytes = snapshot::encode(
            update.tree,
            update.entries.ids(),
            update.folder.policy().document(),
            update.policy_entries,
            update.folder.saved(),
        )
        .map_err(|e| DurableError {
            path: path.clone(),
            action: "encode",
            source: std::io::Error::other(e),
        })?;
        write_atomic(&path, &bytes)?;
        let chunks = state_file::chunk_digests(&bytes);
        Ok(StateFile {
            file,
            size,
            entries_len,
            len: bytes.len() as u64,
            chunks: crate::encoding::encode(chunks.as_flattened()),
        })
    }

    /// Removes the state files a manifest no longer names (best effort: a
    /// leftover is only disk space).
    fn remove_state_files_but(&self, keep: &str) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in dir.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("state-") && name != keep {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests;
