//! The client task: syncs and verifies the log, reads outbox counts, and
//! signs + queues + delivers what the operator confirmed. It posts messages
//! back to the app; the render path never waits on it.
//!
//! The log verified last stays in memory, with the index of its entries
//! ([`LogIndex`]); a sync extends both with the new entries instead of
//! loading the local cache and reading every entry again. The judgements on
//! screen stay too ([`Judged`]): the next view model judges again only what
//! the new entries (and the time since) can have changed
//! ([`crate::state::evaluate_since`]), re-judges only their gate results'
//! evidence, and rebuilds only their evidence models and drift panes.
//!
//! It learns that the log grew from the store's `/v1/events` stream
//! ([`follow`]): each event carries the new tree size, and a size above the
//! last one seen starts a sync, which fetches the missing range from the
//! verified cache's size and verifies it. While the stream is down it polls
//! every [`POLL`], and re-opens the stream with backoff, resuming from the
//! last event id.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{Notify, mpsc};

use super::app::{Msg, Submission};
use super::data::{Data, Judged};
use super::index::LogIndex;
use super::prepare::sign_and_queue;
use crate::client::cache::Kept;
use crate::client::config::ClientConfig;
use crate::client::evidence::{BlobCache, Rejudger};
use crate::client::http::StoreClient;
use crate::client::outbox::{Item, ItemState, Outbox};
use crate::client::receipts::verify_receipt;
use crate::client::sync::{Resume, SyncError, VerifiedLog, accept_receipt, offline, sync_resuming};
use crate::state::Changes;

/// How often the log is polled while the event stream is down.
pub const POLL: Duration = Duration::from_secs(5);
/// How often it is polled anyway while the stream is live: a safety net
/// (the stream may stall without closing), and readiness is re-folded at
/// the new time, so approvals that expired show as expired.
pub const LIVE_POLL: Duration = Duration::from_secs(30);
/// Longest wait before re-opening a failed event stream.
const MAX_REOPEN: Duration = Duration::from_secs(30);

/// Requests from the app to the client task.
#[derive(Debug)]
pub enum Request {
    SyncNow,
    Submit(Box<Submission>),
}

/// Runs until the app's channel closes.
pub async fn run(
    config: ClientConfig,
    client: StoreClient,
    tx: mpsc::UnboundedSender<Msg>,
    mut rx: mpsc::UnboundedReceiver<Request>,
) {
    let outbox = Outbox::default_location().ok();
    let grew = Arc::new(Notify::new());
    let live = Arc::new(AtomicBool::new(false));
    let follower = tokio::spawn(follow(
        client.clone(),
        Arc::clone(&grew),
        Arc::clone(&live),
        tx.clone(),
    ));
    let _stop_following = AbortOnDrop(follower);
    // Issue 9: gate results are re-judged from their evidence before the
    // state is shown, and the evidence pane's models are built once each.
    let mut rejudger = Rejudger::new(BlobCache::default_location());
    let mut models = super::evidence::Models::default();
    // Whether the verified cache is on screen while the store is down.
    let mut offline_shown = false;
    // The log verified last and what the cache on disk holds of it, and
    // the index of its entries (kept across syncs, extended with each).
    let mut held: Option<(Arc<VerifiedLog>, Option<Kept>)> = None;
    let mut index = LogIndex::default();
    // The judgements on screen, which the next sync's are judged against.
    let mut judged: Option<Judged> = None;
    loop {
        if let Some(outbox) = &outbox {
            match outbox.deliver(&client, OffsetDateTime::now_utc).await {
                Ok(delivery) => {
                    for item in &delivery.sent {
                        keep_receipt(&config, &client, item, &tx).await;
                        let _ = tx.send(Msg::Delivered(item.summary.clone()));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "outbox delivery failed"),
            }
            if let Ok(counts) = outbox.counts() {
                let _ = tx.send(Msg::Outbox(counts));
            }
        }
        if tx.send(Msg::Syncing).is_err() {
            return;
        }
        // The next sync starts from the log verified last, in memory; the
        // new entries are indexed, and a cache that fails its check as its
        // entries are read is reported as a failed sync.
        let resume = held.take().map(|(log, kept)| Resume::of(&log, kept));
        let synced = sync_resuming(&config, &client, resume)
            .await
            .and_then(|(verified, kept)| {
                index.extend(&verified.entries)?;
                Ok((verified, kept))
            });
        match synced {
            Ok((mut verified, kept)) => {
                let now = OffsetDateTime::now_utc();
                let data = if let Some((previous, changes)) =
                    judged.as_ref().and_then(|j| changes_since(&verified, j))
                {
                    let rejudge = Rejudge {
                        rejudger: &mut rejudger,
                        models: &mut models,
                        client: &client,
                    };
                    rejudge
                        .view_model_since(verified, index.clone(), now, previous, changes)
                        .await
                } else {
                    let blobs = rejudger.rejudge(Some(&client), &mut verified).await;
                    view_model(verified, index.clone(), &blobs, &mut models, &client)
                };
                judged = Some(data.judged(now));
                // A log mostly downloaded just now holds every statement
                // parsed; the next sync starts from the cache written
                // instead, whose entries are read only when indexed.
                held = (data.log.fetched <= crate::client::cache::TAIL)
                    .then(|| (Arc::clone(&data.log), kept));
                offline_shown = false;
                let _ = tx.send(Msg::Synced(Box::new(data)));
            }
            Err(SyncError::Alarm { summary, evidence }) => {
                tracing::error!(%summary, evidence = %evidence.display(), "log alarm");
                let _ = tx.send(Msg::Alarm(format!(
                    "{summary} (evidence: {})",
                    evidence.display()
                )));
            }
            Err(e) => {
                tracing::warn!(error = %e, "sync failed");
                let mut reason = e.to_string();
                // The store is down (or refuses): show the verified local
                // cache, once per outage, marked with its checkpoint.
                if !offline_shown {
                    let cached = offline(&config, client.signer()).and_then(|verified| {
                        index.extend(&verified.entries)?;
                        Ok(verified)
                    });
                    if let Ok(mut verified) = cached {
                        let blobs = rejudger.rejudge(None, &mut verified).await;
                        let as_of = super::strings::as_of_cache(
                            verified.checkpoint.checkpoint().size,
                            verified.offline,
                        );
                        let data =
                            view_model(verified, index.clone(), &blobs, &mut models, &client);
                        judged = None;
                        let _ = tx.send(Msg::Synced(Box::new(data)));
                        offline_shown = true;
                        reason = format!("{as_of} — {reason}");
                    }
                }
                let _ = tx.send(Msg::SyncFailed(reason));
            }
        }
        let poll = if live.load(Ordering::Relaxed) {
            LIVE_POLL
        } else {
            POLL
        };
        let request = tokio::select! {
            r = rx.recv() => match r { Some(r) => Some(r), None => return },
            () = grew.notified() => None,
            () = tokio::time::sleep(poll) => None,
        };
        if let Some(Request::Submit(submission)) = request {
            // Signed and on disk (fsync) before the next round delivers it.
            let queued = match &outbox {
                Some(outbox) => sign_and_queue(
                    client.signer(),
                    outbox,
                    &submission.prepared,
                    OffsetDateTime::now_utc(),
                )
                .map(|item| item.summary)
                .map_err(|e| e.to_string()),
                None => Err(super::strings::NO_OUTBOX.to_owned()),
            };
            let _ = tx.send(match queued {
                Ok(summary) => Msg::Queued(summary),
                Err(reason) => Msg::SyncFailed(reason),
            });
        }
    }
}

/// Verifies a delivered item's receipt and keeps it, so that entry vanishing
/// later is an ALARM, and the trusted checkpoint advances like a sync.
async fn keep_receipt(
    config: &ClientConfig,
    client: &StoreClient,
    item: &Item,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    let ItemState::Sent { receipt, .. } = &item.state else {
        return;
    };
    let checked = match item.envelope_bytes() {
        Ok(bytes) => verify_receipt(config, receipt, &bytes).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let kept = match checked {
        Ok(()) => accept_receipt(
            config,
            client,
            receipt.index,
            item.entry_id,
            receipt.checkpoint.as_bytes(),
        )
        .await
        .map_err(|e| match e {
            SyncError::Alarm { summary, evidence } => {
                Msg::Alarm(format!("{summary} (evidence: {})", evidence.display()))
            }
            other => Msg::SyncFailed(other.to_string()),
        }),
        Err(reason) => Err(Msg::SyncFailed(reason)),
    };
    if let Err(msg) = kept {
        tracing::error!(?msg, entry = %item.entry_id, "receipt not kept");
        let _ = tx.send(msg);
    }
}

/// The screen's view model of a verified (and re-judged) log.
fn view_model(
    verified: VerifiedLog,
    index: LogIndex,
    blobs: &crate::client::evidence::Blobs,
    models: &mut super::evidence::Models,
    client: &StoreClient,
) -> Data {
    let mut data = Data::from_indexed(Arc::new(verified), index, OffsetDateTime::now_utc());
    data.evidence = models.build(&data.policy, &data.state, blobs);
    with_me(data, client)
}

/// What re-judges a log for the screen, kept across syncs.
struct Rejudge<'a> {
    rejudger: &'a mut Rejudger,
    models: &'a mut super::evidence::Models,
    client: &'a StoreClient,
}

impl Rejudge<'_> {
    /// The view model of `verified`, judging again only what `changes` (the
    /// entries since `previous`) can have changed, and the gate results
    /// whose re-judgement may have changed.
    async fn view_model_since(
        self,
        mut verified: VerifiedLog,
        index: LogIndex,
        now: OffsetDateTime,
        previous: &Judged,
        mut changes: Changes,
    ) -> Data {
        let (blobs, rejudged) = self
            .rejudger
            .rejudge_changed(
                Some(self.client),
                &mut verified,
                previous.rejudged.clone(),
                &changes.promotions,
            )
            .await;
        changes.promotions.extend(rejudged);
        let mut data = Data::from_indexed_since(Arc::new(verified), index, now, previous, &changes);
        data.evidence = self.models.build_changed(
            &data.policy,
            &data.state,
            &blobs,
            &previous.evidence,
            &changes.promotions,
        );
        with_me(data, self.client)
    }
}

/// `data` with the operator the client's key is under its policy.
fn with_me(mut data: Data, client: &StoreClient) -> Data {
    data.me = data
        .policy
        .operator_for_key(&client.signer().public())
        .map(|o| o.name.clone());
    data
}

/// What the entries of `log` after those `judged` judged changed, when
/// `judged` can be the base of its view model (the same policy, a log no
/// shorter): `None` judges everything again.
fn changes_since<'j>(log: &VerifiedLog, judged: &'j Judged) -> Option<(&'j Judged, Changes)> {
    if judged.policy != log.policy().digest() || judged.size > log.tree.len() {
        return None;
    }
    let mut changes = Changes::default();
    let state = log.folder.raw_state();
    log.entries
        .visit(usize::try_from(judged.size).ok()?, |entry| {
            changes.note(state, entry);
        })
        .ok()?;
    Some((judged, changes))
}

/// Aborts a task when dropped (the worker's return ends the follower).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Follows `/v1/events`: wakes the worker whenever the tree size grows,
/// and tells the app whether the stream is live. Re-opens a closed or
/// failed stream with backoff (1 s doubling to 30 s), resuming after the
/// last size seen.
pub async fn follow(
    client: StoreClient,
    grew: Arc<Notify>,
    live: Arc<AtomicBool>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let mut last: Option<u64> = None;
    let mut backoff = Duration::from_secs(1);
    loop {
        match client.events(last).await {
            Ok(mut events) => {
                live.store(true, Ordering::Relaxed);
                if tx.send(Msg::Live(true)).is_err() {
                    return;
                }
                backoff = Duration::from_secs(1);
                loop {
                    match events.next_size().await {
                        Ok(Some(size)) => {
                            if last.is_none_or(|seen| size > seen) {
                                last = Some(size);
                                grew.notify_one();
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::info!(error = %e, "event stream ended");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::info!(error = %e, "event stream unavailable; polling"),
        }
        live.store(false, Ordering::Relaxed);
        if tx.send(Msg::Live(false)).is_err() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_REOPEN);
    }
}
