//! The entries of a verified log view, read from the local cache only when
//! a command shows them (`log show`, the cockpit's audit view): a cached
//! start needs the fold, not every statement parsed again.
//!
//! Entries read from `entries.bin` are checked as they are read: each one's
//! leaf hash must be the one the signed cache recorded (and those hash to
//! the trusted checkpoint's root), and its id the recorded id. A mismatch
//! refuses the cache: its manifest is removed, so the next command rebuilds
//! it from the store.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::OnceLock;

use rayon::prelude::*;

use super::Refused;
use crate::digest::Digest;
use crate::envelope::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::keys::PublicKey;
use crate::ledger::{Hash, leaf_hash};
use crate::state::VerifiedEntry;
use crate::statement::Statement;

/// Entries [`LogEntries::visit`] reads and checks at a time.
const VISIT_CHUNK: usize = 4096;

/// An operator as the cache records a signer: name and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub key: Arc<PublicKey>,
}

/// Every entry of a verified log view, in log order.
#[derive(Debug, Clone, Default)]
pub struct LogEntries {
    /// Shared by copies (a client resuming the log the screen still shows):
    /// it never changes once read.
    stored: Option<Arc<Stored>>,
    /// The entries after the stored ones, verified in memory.
    later: Vec<VerifiedEntry>,
    /// The stored entries read and followed by `later`, once asked for.
    all: OnceLock<Vec<VerifiedEntry>>,
}

/// The first `ids.len()` entries, kept in `entries.bin`.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    pub dir: PathBuf,
    pub path: PathBuf,
    pub manifest: PathBuf,
    /// Bytes of the file that hold them.
    pub bytes: u64,
    pub leaves: Vec<Hash>,
    pub ids: Vec<Digest>,
    pub signers: Vec<Named>,
    /// Per entry, the index into `signers`.
    pub by_entry: Vec<u16>,
}

impl LogEntries {
    /// Entries verified in memory.
    pub fn verified(entries: Vec<VerifiedEntry>) -> Self {
        Self {
            later: entries,
            ..Self::default()
        }
    }

    pub(super) fn stored(stored: Stored, later: Vec<VerifiedEntry>) -> Self {
        Self {
            stored: Some(Arc::new(stored)),
            later,
            all: OnceLock::new(),
        }
    }

    fn stored_len(&self) -> usize {
        self.stored.as_ref().map_or(0, |s| s.ids.len())
    }

    pub fn len(&self) -> usize {
        self.stored_len() + self.later.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends entries verified after these.
    pub fn extend(&mut self, entries: impl IntoIterator<Item = VerifiedEntry>) {
        self.later.extend(entries);
        self.all = OnceLock::new();
    }

    /// The id of the entry at `index`, without reading the entries.
    pub fn id(&self, index: u64) -> Option<Digest> {
        let index = usize::try_from(index).ok()?;
        match &self.stored {
            Some(stored) if index < stored.ids.len() => Some(stored.ids[index]),
            _ => self.later.get(index - self.stored_len()).map(|e| e.id),
        }
    }

    /// The ids of every entry, in log order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = Digest> + '_ {
        (0..self.len()).map(|i| self.id(i as u64).unwrap_or_default())
    }

    /// The signer of the entry at `index` (`index < len()`).
    pub fn signer(&self, index: usize) -> (&str, &PublicKey) {
        match &self.stored {
            Some(stored) if index < stored.ids.len() => {
                let named = &stored.signers[usize::from(stored.by_entry[index])];
                (&named.name, &named.key)
            }
            _ => {
                let entry = &self.later[index - self.stored_len()];
                (&entry.signer, &entry.key)
            }
        }
    }

    /// Calls `visit` with every entry from `from` on, in log order. Cached
    /// ones are read from the cache a chunk at a time and checked as
    /// [`Self::all`] checks them, so they are never all in memory at once
    /// (the cockpit indexes a log of any size this way).
    pub fn visit(&self, from: usize, mut visit: impl FnMut(&VerifiedEntry)) -> Result<(), Refused> {
        if let Some(all) = self.all.get() {
            all.iter().skip(from).for_each(visit);
            return Ok(());
        }
        if let Some(stored) = &self.stored
            && from < stored.ids.len()
        {
            stored.visit(from, &mut visit).inspect_err(|_| {
                let _ = std::fs::remove_file(&stored.manifest);
            })?;
        }
        let skip = from.saturating_sub(self.stored_len());
        self.later.iter().skip(skip).for_each(visit);
        Ok(())
    }

    /// Every entry, read from the cache the first time (see the module doc).
    pub fn all(&self) -> Result<&[VerifiedEntry], Refused> {
        let Some(stored) = &self.stored else {
            return Ok(&self.later);
        };
        if let Some(all) = self.all.get() {
            return Ok(all);
        }
        let mut all = stored.read().inspect_err(|_| {
            // Never used again: the next load finds no cache and rebuilds it.
            let _ = std::fs::remove_file(&stored.manifest);
        })?;
        all.extend(self.later.iter().cloned());
        Ok(self.all.get_or_init(|| all))
    }
}

impl Stored {
    fn refused(&self, problem: String) -> Refused {
        Refused {
            path: self.dir.clone(),
            problem,
        }
    }

    fn read(&self) -> Result<Vec<VerifiedEntry>, Refused> {
        let bodies = super::read_frames(&self.path, 0, self.bytes, self.ids.len())
            .map_err(|problem| self.refused(problem))?;
        bodies
            .par_iter()
            .enumerate()
            .map(|(index, body)| {
                self.entry(index, body).ok_or_else(|| {
                    self.refused(format!(
                        "entry {index} of {} is not the entry it verified",
                        super::ENTRIES
                    ))
                })
            })
            .collect()
    }

    /// Reads the stored entries from `from` on, [`VISIT_CHUNK`] at a time,
    /// each chunk checked on every core and then visited in order.
    fn visit(&self, from: usize, visit: &mut impl FnMut(&VerifiedEntry)) -> Result<(), Refused> {
        use std::io::Read as _;
        let file = std::fs::File::open(&self.path)
            .map_err(|e| self.refused(format!("cannot read {}: {e}", super::ENTRIES)))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file.take(self.bytes));
        let short = || {
            self.refused(format!(
                "{} does not hold the {} entries its manifest lists",
                super::ENTRIES,
                self.ids.len()
            ))
        };
        let mut index = 0;
        while index < self.ids.len() {
            let end = self.ids.len().min(index + VISIT_CHUNK);
            let mut bodies = Vec::with_capacity(end - index);
            for _ in index..end {
                let mut head = [0u8; 4];
                reader.read_exact(&mut head).map_err(|_| short())?;
                let mut body = vec![0u8; u32::from_be_bytes(head) as usize];
                reader.read_exact(&mut body).map_err(|_| short())?;
                bodies.push(body);
            }
            let first = index.max(from);
            let checked: Result<Vec<VerifiedEntry>, Refused> = bodies
                .get(first - index..)
                .unwrap_or_default()
                .par_iter()
                .enumerate()
                .map(|(offset, body)| {
                    let at = first + offset;
                    self.entry(at, body).ok_or_else(|| {
                        self.refused(format!(
                            "entry {at} of {} is not the entry it verified",
                            super::ENTRIES
                        ))
                    })
                })
                .collect();
            checked?.iter().for_each(&mut *visit);
            index = end;
        }
        Ok(())
    }

    fn entry(&self, index: usize, body: &[u8]) -> Option<VerifiedEntry> {
        if leaf_hash(body) != self.leaves[index] {
            return None;
        }
        let envelope = Envelope::from_json(body).ok()?;
        let id = envelope.entry_id();
        if id != self.ids[index] || envelope.payload_type() != IN_TOTO_PAYLOAD_TYPE {
            return None;
        }
        // Verified when it was first synced; the leaf hash binds these bytes
        // to that verification.
        let statement = Statement::parse_verified(envelope.unverified_payload()).ok()?;
        let named = self.signers.get(usize::from(self.by_entry[index]))?;
        Some(VerifiedEntry {
            index: index as u64,
            id,
            signer: named.name.clone(),
            key: Arc::clone(&named.key),
            statement,
        })
    }
}
