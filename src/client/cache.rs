//! The incremental, verified local cache of one log (issue 7 item 2): the
//! entries this client verified, so that a sync downloads only what is new
//! and read commands work while the store is down.
//!
//! Layout, under `<cache dir>/<origin>-<log key id>-<operator key id>/`:
//! - `entries.bin`: the verified entries in log order, each the envelope
//!   bytes exactly as the log holds them, prefixed by its length (u32, big
//!   endian). Only grows: a sync appends the new entries.
//! - `manifest.json`: origin, size, how many bytes of `entries.bin` hold
//!   those entries, the log-key-signed checkpoint they were verified
//!   against, when, the genesis policy document, and the signer of every
//!   entry (an index into a table of operator keys). The manifest is signed
//!   with the operator's own ed25519 key, so only this client writes a
//!   manifest the next load accepts.
//! - `lock`: held shared while loading and exclusively while saving, so
//!   two commands of one operator never interleave their writes.
//!
//! Loading trusts nothing it cannot check: the manifest signature must
//! verify under the operator's key, its checkpoint under the log key and
//! its genesis must have the pinned digest; the checkpoint must not be
//! newer than the trusted one (`<data dir>/checkpoints/…`) and, at the same
//! size, must have the same root. The entries are then folded with
//! [`Replay::extend_trusted`]: every envelope and statement is parsed again,
//! every signer must be a key of the policy in force at its position, every
//! leaf is hashed again and the recomputed root must be the checkpoint's.
//! That root check is what binds the bytes on disk to the log, so no
//! separate file digest is kept; the recorded signers (covered by the
//! manifest signature) are what lets the load skip the ed25519 checks,
//! which dominate a cold sync. Anything that fails is a [`Refused`] cache:
//! the caller reports it and rebuilds from the store; a refused cache is
//! never used.
//!
//! The tree is rebuilt from the leaf hashes of the cached bytes (hashing is
//! needed for the root check anyway) and the fold by refolding the cached
//! statements; both are cheap next to signature checks.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::durable::{DurableError, write_atomic};
use crate::keys::vkey::NoteVerifierKey;
use crate::keys::{PublicKey, Signer};
use crate::ledger::SignedCheckpoint;
use crate::policy::Policy;
use crate::replay::Replay;
use crate::state::VerifiedEntry;

const ENTRIES: &str = "entries.bin";
const MANIFEST: &str = "manifest.json";
const LOCK: &str = "lock";
const FORMAT: u32 = 1;

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
    pub entries: Vec<VerifiedEntry>,
    /// The checkpoint the entries were verified against.
    pub checkpoint: SignedCheckpoint,
    /// When the cache was written for that checkpoint.
    pub verified_at: OffsetDateTime,
    /// Bytes of `entries.bin` that hold the entries.
    entries_len: u64,
}

impl Cached {
    pub fn size(&self) -> u64 {
        self.replay.size()
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
    /// The distinct signers' keys.
    keys: Vec<PublicKey>,
    /// Per entry, the index into `keys` (u16, big endian), base64.
    signers: String,
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

/// What a save writes.
#[derive(Debug)]
pub struct Update<'a> {
    /// Bytes of `entries.bin` to keep (from the [`Cached`] the sync started
    /// from), or `None` to rewrite the file from `bodies`.
    pub keep: Option<u64>,
    /// The entries after the kept ones.
    pub bodies: &'a [Vec<u8>],
    /// Every entry, kept and new, for the signer table.
    pub entries: &'a [VerifiedEntry],
    pub checkpoint: &'a SignedCheckpoint,
    pub genesis: &'a Policy,
    pub verified_at: OffsetDateTime,
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
        let bodies = self.read_entries(manifest.entries_len, size)?;
        let signers = self.signers(&manifest, bodies.len())?;
        let mut replay = Replay::new(Arc::new(genesis));
        let entries: Vec<_> = replay
            .extend_trusted(&bodies, &signers)
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
        Ok(Some(Cached {
            replay,
            entries,
            checkpoint,
            verified_at: manifest.verified_at,
            entries_len: manifest.entries_len,
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

    fn read_entries(&self, entries_len: u64, size: u64) -> Result<Vec<Vec<u8>>, Refused> {
        let path = self.dir.join(ENTRIES);
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|file| file.take(entries_len).read_to_end(&mut bytes))
            .map_err(|e| self.refused(format!("cannot read {ENTRIES}: {e}")))?;
        if bytes.len() as u64 != entries_len {
            return Err(self.refused(format!("{ENTRIES} is shorter than its manifest says")));
        }
        let mut bodies = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
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
        if !rest.is_empty() || bodies.len() as u64 != size {
            return Err(self.refused(format!(
                "{ENTRIES} does not hold the {size} entries its manifest lists"
            )));
        }
        Ok(bodies)
    }

    fn signers(&self, manifest: &Manifest, count: usize) -> Result<Vec<PublicKey>, Refused> {
        let raw = crate::encoding::decode_standard(&manifest.signers)
            .map_err(|e| self.refused(format!("its signer table does not decode: {e}")))?;
        if raw.len() != count * 2 {
            return Err(self.refused("its signer table does not have one signer per entry"));
        }
        raw.chunks_exact(2)
            .map(|pair| {
                manifest
                    .keys
                    .get(usize::from(u16::from_be_bytes([pair[0], pair[1]])))
                    .copied()
                    .ok_or_else(|| self.refused("its signer table names an unknown key"))
            })
            .collect()
    }

    /// Writes the entries and a newly signed manifest: appends the new
    /// entries (after cutting `entries.bin` back to the kept bytes), fsyncs
    /// it, then replaces the manifest atomically. A crash in between leaves
    /// the old manifest, which covers only the bytes it lists.
    pub fn save(&self, operator: &Signer, update: &Update<'_>) -> Result<(), DurableError> {
        let fail = |path: PathBuf, action| {
            move |source| DurableError {
                path,
                action,
                source,
            }
        };
        let path = self.dir.join(ENTRIES);
        let _lock = self.lock(true).map_err(fail(self.dir.join(LOCK), "lock"))?;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(fail(path.clone(), "open"))?;
        let keep = update.keep.unwrap_or(0);
        file.set_len(keep).map_err(fail(path.clone(), "truncate"))?;
        file.seek(SeekFrom::Start(keep))
            .map_err(fail(path.clone(), "seek in"))?;
        let mut buffer = Vec::new();
        for body in update.bodies {
            let len = u32::try_from(body.len()).map_err(|_| DurableError {
                path: path.clone(),
                action: "write an entry over 4 GiB to",
                source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
            })?;
            buffer.extend_from_slice(&len.to_be_bytes());
            buffer.extend_from_slice(body);
        }
        file.write_all(&buffer)
            .map_err(fail(path.clone(), "write"))?;
        file.sync_all().map_err(fail(path.clone(), "fsync"))?;

        let mut keys: Vec<PublicKey> = Vec::new();
        let mut signers = Vec::with_capacity(update.entries.len() * 2);
        for entry in update.entries {
            let index = keys
                .iter()
                .position(|k| *k == entry.key)
                .unwrap_or_else(|| {
                    keys.push(entry.key);
                    keys.len() - 1
                });
            let index = u16::try_from(index).map_err(|_| DurableError {
                path: self.dir.join(MANIFEST),
                action: "record more than 65536 signers in",
                source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
            })?;
            signers.extend_from_slice(&index.to_be_bytes());
        }
        let manifest = Manifest {
            format: FORMAT,
            origin: self.origin.clone(),
            size: update.checkpoint.checkpoint().size,
            entries_len: keep + buffer.len() as u64,
            checkpoint: String::from_utf8_lossy(update.checkpoint.as_bytes()).into_owned(),
            verified_at: update.verified_at,
            genesis: update.genesis.document().to_owned(),
            keys,
            signers: crate::encoding::encode(&signers),
        };
        let manifest = serde_json::to_string(&manifest).map_err(|e| DurableError {
            path: self.dir.join(MANIFEST),
            action: "encode",
            source: std::io::Error::other(e),
        })?;
        let signature = operator.signing_key().sign(manifest.as_bytes());
        let signed = SignedManifest {
            manifest,
            key: operator.public(),
            signature: crate::encoding::encode(&signature.to_bytes()),
        };
        let text = serde_json::to_vec(&signed).map_err(|e| DurableError {
            path: self.dir.join(MANIFEST),
            action: "encode",
            source: std::io::Error::other(e),
        })?;
        write_atomic(&self.dir.join(MANIFEST), &text)
    }
}

impl Cached {
    /// Bytes of `entries.bin` to keep when saving after this cache.
    pub fn entries_len(&self) -> u64 {
        self.entries_len
    }
}

#[cfg(test)]
mod tests;
