//! A saved replay's file (`state-<n>.bin`) as a source of checked bytes:
//! the signed manifest lists the sha256 of each [`CHUNK`] of the file, and
//! every read hashes the chunks under it and compares. The file is never
//! read whole into memory: a cached start checks every chunk once through
//! a small buffer, then reads the parts it needs, and a promotion or
//! decision is read (and its chunk checked again, so a file changed after
//! the load is caught, not trusted) only when something reads it.

use std::fs::File;
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;
use sha2::Digest as _;

use crate::state::SavedBytes;

/// Bytes hashed apart: small enough that reading one promotion checks
/// little more than it, large enough that the list of digests stays a
/// small part of the manifest (32 bytes per 64 KiB).
pub const CHUNK: u64 = 1 << 16;
/// [`CHUNK`] as a length in memory.
const CHUNK_LEN: usize = 1 << 16;

/// The sha256 of each [`CHUNK`] of `bytes`, in order, on every core.
pub fn chunk_digests(bytes: &[u8]) -> Vec<[u8; 32]> {
    bytes
        .par_chunks(CHUNK_LEN)
        .map(|chunk| sha2::Sha256::digest(chunk).into())
        .collect()
}

/// An open state file and the chunk digests its manifest lists.
pub struct StateFileBytes {
    file: File,
    len: u64,
    chunks: Vec<[u8; 32]>,
}

impl StateFileBytes {
    /// Opens `path`, which must be `len` bytes long, with a digest per chunk.
    pub fn open(path: &Path, len: u64, chunks: Vec<[u8; 32]>) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
        let on_disk = file
            .metadata()
            .map_err(|e| format!("cannot read it: {e}"))?
            .len();
        if on_disk != len || chunks.len() as u64 != len.div_ceil(CHUNK) {
            return Err("it is not the file its manifest lists".to_owned());
        }
        Ok(Self { file, len, chunks })
    }

    /// Checks every chunk of the file (on every core, a chunk at a time).
    pub fn check_all(&self) -> Result<(), String> {
        // A few chunks per task, so a core reads sequentially.
        const PER_TASK: u64 = 16;
        (0..self.len.div_ceil(CHUNK * PER_TASK))
            .into_par_iter()
            .try_for_each(|task| {
                let start = task * CHUNK * PER_TASK;
                let end = self.len.min(start + CHUNK * PER_TASK);
                self.read(start..end).map(drop)
            })
    }

    fn read_exact_at(&self, buffer: &mut [u8], at: u64) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(&self.file, buffer, at)
        }
        #[cfg(windows)]
        {
            let mut done = 0;
            while done < buffer.len() {
                let n = std::os::windows::fs::FileExt::seek_read(
                    &self.file,
                    &mut buffer[done..],
                    at + done as u64,
                )?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                done += n;
            }
            Ok(())
        }
    }
}

impl SavedBytes for StateFileBytes {
    fn read(&self, range: Range<u64>) -> Result<Vec<u8>, String> {
        if range.start > range.end || range.end > self.len {
            return Err(format!("bytes {range:?} are beyond its {} bytes", self.len));
        }
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let first = range.start / CHUNK;
        let base = first * CHUNK;
        let stop = self.len.min((range.end - 1) / CHUNK * CHUNK + CHUNK);
        let mut bytes = vec![0; usize::try_from(stop - base).map_err(|e| e.to_string())?];
        self.read_exact_at(&mut bytes, base)
            .map_err(|e| format!("cannot read it: {e}"))?;
        let first_index = usize::try_from(first).unwrap_or(usize::MAX);
        for (index, chunk) in (first_index..).zip(bytes.chunks(CHUNK_LEN)) {
            let expected = self
                .chunks
                .get(index)
                .ok_or("it is longer than its manifest says")?;
            if <[u8; 32]>::from(sha2::Sha256::digest(chunk)) != *expected {
                return Err(format!(
                    "it is not the file its manifest lists (bytes {} to {} differ)",
                    index as u64 * CHUNK,
                    index as u64 * CHUNK + chunk.len() as u64
                ));
            }
        }
        // Only the bytes asked for (the chunks were read whole to check them).
        let skip = usize::try_from(range.start - base).unwrap_or(usize::MAX);
        bytes.truncate(usize::try_from(range.end - base).unwrap_or(usize::MAX));
        bytes.drain(..skip);
        Ok(bytes)
    }
}
