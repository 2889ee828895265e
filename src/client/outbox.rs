//! The outbox: signed statements on disk until the store has answered.
//!
//! A statement is written here (one file per item, fsynced, see
//! [`crate::durable`]) *before* it is sent, and stays `queued` until the
//! store either accepts it (`sent`, with the receipt) or refuses it
//! (`refused`, with the store's reason). An item's identity is its entry id,
//! `sha256(PAE)`, and the store answers an entry it already holds with
//! "existed" and the same index, so sending again after a crash, a timeout or
//! a second process delivering at the same time never makes a second entry:
//! delivery is exactly once.
//!
//! Items are delivered in the order they were made (a revoke after the
//! approval it withdraws). A store that cannot be reached stops delivery and
//! leaves the rest queued; [`retry_delay`] says when to try again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::http::{Receipt, StoreClient, StoreError};
use crate::digest::Digest;
use crate::durable::{self, DurableError};
use crate::encoding;
use crate::envelope::Envelope;

/// The layout of an item file; bumped on incompatible changes.
const FORMAT: u32 = 1;

/// What the outbox knows of one statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub format: u32,
    /// Order of creation within this outbox.
    pub seq: u64,
    pub entry_id: Digest,
    /// The statement's kind, e.g. `decision`, `gate-result`.
    pub kind: String,
    /// One human line: what this is (`approve payments 1.4.2 → prod`).
    pub summary: String,
    /// The promotion it belongs to, when there is one.
    pub promotion_id: Option<Digest>,
    /// The signed envelope, exactly as it will be sent (base64).
    pub envelope: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub attempts: u32,
    pub state: ItemState,
}

/// Where an item is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ItemState {
    /// Not yet answered by the store.
    Queued {
        /// Why the last attempt did not reach the store, if one was made.
        last_error: Option<String>,
    },
    /// Accepted: in the log at `receipt.index`.
    Sent {
        receipt: Receipt,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Refused by the store; it will never be sent again.
    Refused {
        status: u16,
        code: String,
        message: String,
        remediation: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl Item {
    /// The envelope bytes to send.
    pub fn envelope_bytes(&self) -> Result<Vec<u8>, OutboxError> {
        encoding::decode_standard(&self.envelope).map_err(|e| OutboxError::Corrupt {
            path: PathBuf::from(format!("item {}", self.entry_id)),
            problem: format!("the envelope is not base64: {e}"),
        })
    }

    pub fn is_queued(&self) -> bool {
        matches!(self.state, ItemState::Queued { .. })
    }

    /// `queued`, `sent` or `refused`.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            ItemState::Queued { .. } => "queued",
            ItemState::Sent { .. } => "sent",
            ItemState::Refused { .. } => "refused",
        }
    }
}

/// Counts by state, for headers and summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub queued: usize,
    pub sent: usize,
    pub refused: usize,
}

/// What one delivery round did.
#[derive(Debug, Default)]
pub struct Delivery {
    /// Items the store accepted in this round (or had already), in order.
    pub sent: Vec<Item>,
    /// Items the store refused in this round.
    pub refused: Vec<Item>,
    /// Set when the store could not be reached; the rest stay queued.
    pub unreachable: Option<StoreError>,
}

/// Why the outbox could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Write(#[from] DurableError),
    #[error("{path}: cannot read the outbox: {source}", path = .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: this outbox item is damaged ({problem})\n  fix: move the file out of the outbox \
         directory; if it was queued, make the decision again",
        path = .path.display()
    )]
    Corrupt { path: PathBuf, problem: String },
}

/// How long to wait before attempt `attempts + 1`: 1 s, doubling, at most a
/// minute.
pub fn retry_delay(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.min(6)).min(Duration::from_mins(1))
}

/// A directory of items.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// The outbox in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The outbox under the data directory.
    pub fn default_location() -> Result<Self, crate::paths::NoHomeError> {
        Ok(Self::new(crate::paths::data_dir()?.join("outbox")))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, item: &Item) -> PathBuf {
        self.dir
            .join(format!("{:010}-{}.json", item.seq, item.entry_id.to_hex()))
    }

    fn save(&self, item: &Item) -> Result<(), OutboxError> {
        let text = serde_json::to_vec_pretty(item).map_err(|e| OutboxError::Corrupt {
            path: self.path_of(item),
            problem: e.to_string(),
        })?;
        durable::write_atomic(&self.path_of(item), &text)?;
        Ok(())
    }

    /// Every item, oldest first.
    pub fn items(&self) -> Result<Vec<Item>, OutboxError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(OutboxError::Read {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut items = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| OutboxError::Read {
                path: self.dir.clone(),
                source,
            })?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue; // temporaries of an interrupted write
            }
            let bytes = std::fs::read(&path).map_err(|source| OutboxError::Read {
                path: path.clone(),
                source,
            })?;
            let item: Item = serde_json::from_slice(&bytes).map_err(|e| OutboxError::Corrupt {
                path: path.clone(),
                problem: e.to_string(),
            })?;
            if item.format != FORMAT {
                return Err(OutboxError::Corrupt {
                    path,
                    problem: format!("format {} is not {FORMAT}", item.format),
                });
            }
            items.push(item);
        }
        items.sort_by_key(|i| i.seq);
        Ok(items)
    }

    pub fn counts(&self) -> Result<Counts, OutboxError> {
        let mut counts = Counts::default();
        for item in self.items()? {
            match item.state {
                ItemState::Queued { .. } => counts.queued += 1,
                ItemState::Sent { .. } => counts.sent += 1,
                ItemState::Refused { .. } => counts.refused += 1,
            }
        }
        Ok(counts)
    }

    /// Writes a signed statement to disk, durably, before anything is sent.
    /// The same statement twice is one item.
    pub fn enqueue(
        &self,
        envelope: &Envelope,
        kind: &str,
        summary: &str,
        promotion_id: Option<Digest>,
        now: OffsetDateTime,
    ) -> Result<Item, OutboxError> {
        let entry_id = envelope.entry_id();
        let items = self.items()?;
        if let Some(existing) = items.iter().find(|i| i.entry_id == entry_id) {
            return Ok(existing.clone());
        }
        let item = Item {
            format: FORMAT,
            seq: items.last().map_or(1, |i| i.seq + 1),
            entry_id,
            kind: kind.to_owned(),
            summary: summary.to_owned(),
            promotion_id,
            envelope: encoding::encode(&envelope.to_json()),
            created_at: now,
            attempts: 0,
            state: ItemState::Queued { last_error: None },
        };
        self.save(&item)?;
        Ok(item)
    }

    /// Sends every queued item in order until the store cannot be reached.
    /// Each answer is written to disk before the next item is sent.
    pub async fn deliver(
        &self,
        client: &StoreClient,
        now: impl Fn() -> OffsetDateTime,
    ) -> Result<Delivery, OutboxError> {
        let mut delivery = Delivery::default();
        for mut item in self.items()?.into_iter().filter(Item::is_queued) {
            let bytes = item.envelope_bytes()?;
            item.attempts = item.attempts.saturating_add(1);
            match client.submit(bytes).await {
                Ok(receipt) => {
                    item.state = ItemState::Sent { receipt, at: now() };
                    self.save(&item)?;
                    delivery.sent.push(item);
                }
                Err(error) if error.is_unreachable() => {
                    item.state = ItemState::Queued {
                        last_error: Some(error.to_string()),
                    };
                    self.save(&item)?;
                    delivery.unreachable = Some(error);
                    break;
                }
                Err(StoreError::Refused {
                    status,
                    code,
                    message,
                    remediation,
                }) => {
                    item.state = ItemState::Refused {
                        status,
                        code,
                        message,
                        remediation,
                        at: now(),
                    };
                    self.save(&item)?;
                    delivery.refused.push(item);
                }
                Err(other) => {
                    // Not an answer from the store (a local TLS or signing
                    // problem): keep the item and report it as unreachable.
                    item.state = ItemState::Queued {
                        last_error: Some(other.to_string()),
                    };
                    self.save(&item)?;
                    delivery.unreachable = Some(other);
                    break;
                }
            }
        }
        Ok(delivery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Signer;

    fn envelope(text: &str) -> Envelope {
        Signer::generate("alice").sign_statement(text.as_bytes().to_vec())
    }

    const T: OffsetDateTime = time::macros::datetime!(2026-11-30 12:00 UTC);

    #[test]
    fn items_survive_reopening_in_order_and_once() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().join("outbox"));
        let (a, b) = (envelope("{\"a\":1}"), envelope("{\"b\":2}"));
        outbox.enqueue(&a, "decision", "first", None, T).unwrap();
        outbox.enqueue(&b, "decision", "second", None, T).unwrap();
        outbox
            .enqueue(&a, "decision", "first again", None, T)
            .unwrap();
        let reopened = Outbox::new(dir.path().join("outbox"));
        let items = reopened.items().unwrap();
        assert_eq!(
            items.iter().map(|i| i.summary.as_str()).collect::<Vec<_>>(),
            ["first", "second"]
        );
        assert_eq!(items[0].envelope_bytes().unwrap(), a.to_json());
        assert_eq!(
            reopened.counts().unwrap(),
            Counts {
                queued: 2,
                sent: 0,
                refused: 0
            }
        );
    }

    #[test]
    fn a_damaged_item_is_named_not_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path());
        outbox
            .enqueue(&envelope("{}"), "decision", "x", None, T)
            .unwrap();
        let path = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::write(&path, b"{ half").unwrap();
        let error = outbox.items().unwrap_err().to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("fix:"), "{error}");
    }

    #[test]
    fn retries_back_off_to_a_minute() {
        assert_eq!(retry_delay(0), Duration::from_secs(1));
        assert_eq!(retry_delay(3), Duration::from_secs(8));
        assert_eq!(retry_delay(40), Duration::from_mins(1));
    }
}
