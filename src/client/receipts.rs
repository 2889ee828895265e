//! The entries this client submitted and the store acknowledged: their
//! entry ids, indexes and the signed checkpoint each receipt carried, kept in
//! `<data dir>/submitted/<origin>.txt` (one line per receipt, rewritten
//! atomically). Every later sync checks that each of them is still at its
//! index ([`check_submitted`]); an acknowledged entry that vanished or
//! changed is an ALARM.
//!
//! The file format is one line per receipt: `<index> <entry id> <base64 of
//! the receipt's signed checkpoint>`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::sync::{Mismatch, SyncError, VerifiedLog, write_atomic};
use crate::digest::Digest;

/// One acknowledged submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub index: u64,
    pub entry_id: Digest,
    /// The signed checkpoint the receipt carried, verbatim.
    pub checkpoint: Vec<u8>,
}

impl Submitted {
    fn line(&self) -> String {
        format!(
            "{} {} {}\n",
            self.index,
            self.entry_id,
            crate::encoding::encode(&self.checkpoint)
        )
    }

    fn parse(line: &str) -> Option<Self> {
        let mut parts = line.split_whitespace();
        let index = parts.next()?.parse().ok()?;
        let entry_id = parts.next()?.parse().ok()?;
        let checkpoint = crate::encoding::decode_standard(parts.next()?).ok()?;
        Some(Self {
            index,
            entry_id,
            checkpoint,
        })
    }
}

/// Where the submissions to the log `origin` are remembered.
pub fn submitted_path(origin: &str) -> Result<PathBuf, SyncError> {
    Ok(crate::paths::data_dir()?
        .join("submitted")
        .join(format!("{}.txt", super::sync::file_stem(origin))))
}

/// Reads the remembered submissions (none when the file does not exist).
/// A line that does not parse is a local problem, reported with the file.
pub fn load(path: &Path) -> Result<Vec<Submitted>, SyncError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SyncError::Local {
                path: path.to_path_buf(),
                action: "read",
                source,
            });
        }
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            Submitted::parse(line).ok_or_else(|| SyncError::Local {
                path: path.to_path_buf(),
                action: "parse",
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "line {} is not `<index> <entry id> <checkpoint base64>`; restore the file from a backup",
                        n + 1
                    ),
                ),
            })
        })
        .collect()
}

/// Remembers one more submission (unless it is already remembered).
pub fn remember(path: &Path, submitted: Submitted) -> Result<(), SyncError> {
    let mut all = load(path)?;
    if all
        .iter()
        .any(|s| s.index == submitted.index && s.entry_id == submitted.entry_id)
    {
        return Ok(());
    }
    all.push(submitted);
    let text: String = all.iter().map(Submitted::line).collect();
    write_atomic(path, text.as_bytes())
}

/// Checks that every remembered submission is still in `log` at its index,
/// with its entry id; pure.
pub fn check_submitted(log: &VerifiedLog, submitted: &[Submitted]) -> Result<(), Mismatch> {
    let missing: Vec<(&Submitted, Option<Digest>)> = submitted
        .iter()
        .filter_map(|s| {
            let found = log.entries.id(s.index);
            (found != Some(s.entry_id)).then_some((s, found))
        })
        .collect();
    let Some((first, _)) = missing.first() else {
        return Ok(());
    };
    let summary = format!(
        "entry {} at index {}, which the store acknowledged with a signed receipt, is no longer in the log ({} acknowledged entr{} missing or changed)",
        first.entry_id,
        first.index,
        missing.len(),
        if missing.len() == 1 { "y" } else { "ies" },
    );
    let mut report = String::new();
    let _ = writeln!(report, "SECURITY ERROR");
    let _ = writeln!(report, "reason: {summary}");
    let _ = writeln!(report);
    let _ = writeln!(
        report,
        "The store signed a checkpoint that includes each entry below, then served a log \
         without it. Keep this report: the receipts' checkpoints and the new one are signed \
         by the same log key."
    );
    for (s, found) in &missing {
        let _ = writeln!(report);
        let _ = writeln!(
            report,
            "acknowledged entry: {} at index {}",
            s.entry_id, s.index
        );
        let _ = writeln!(
            report,
            "now at that index: {}",
            found.map_or_else(
                || "nothing (the log is shorter)".to_owned(),
                |d| d.to_string()
            )
        );
        let _ = writeln!(report, "receipt checkpoint:");
        for line in String::from_utf8_lossy(&s.checkpoint).lines() {
            let _ = writeln!(report, "  {line}");
        }
    }
    let _ = writeln!(report);
    let _ = writeln!(report, "checkpoint served by the store:");
    for line in String::from_utf8_lossy(log.checkpoint.as_bytes()).lines() {
        let _ = writeln!(report, "  {line}");
    }
    Err(Mismatch { summary, report })
}

/// Why a submit receipt cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The checkpoint or the inclusion proof does not verify.
    #[error("the store's receipt does not verify: {0}")]
    Invalid(String),
    #[error(transparent)]
    Sync(#[from] SyncError),
}

/// Checks a submit receipt for `envelope` (its bytes as sent): the
/// checkpoint is signed by the log key and carries the witness quorum, and
/// the inclusion proof puts exactly these bytes at the receipt's index. Then
/// keep it with [`super::sync::accept_receipt`].
pub fn verify_receipt(
    config: &super::config::ClientConfig,
    receipt: &super::http::Receipt,
    envelope: &[u8],
) -> Result<(), ReceiptError> {
    let invalid = |e: &dyn std::fmt::Display| ReceiptError::Invalid(e.to_string());
    let checkpoint = crate::ledger::SignedCheckpoint::parse_and_verify(
        receipt.checkpoint.as_bytes(),
        &config.log_vkey,
    )
    .map_err(|e| invalid(&e))?;
    super::sync::check_witnesses(config, &checkpoint)?;
    let proof = receipt.proof().map_err(|e| invalid(&e))?;
    let c = checkpoint.checkpoint();
    crate::ledger::verify_inclusion(
        receipt.index,
        c.size,
        &crate::ledger::leaf_hash(envelope),
        &proof,
        &c.root,
    )
    .map_err(|e| invalid(&e))
}
