//! The client task: syncs and verifies the log, reads outbox counts, and
//! signs + queues + delivers what the operator confirmed. It posts messages
//! back to the app; the render path never waits on it.
//!
//! The log verified last stays in memory, with the index of its entries
//! ([`LogIndex`]); a sync extends both with the new entries instead of
//! loading the local cache and reading every entry again. The judgements on
//! screen stay too, in brief ([`Judged`]): the next view model judges again
//! only what the new entries (and the time since) can have changed
//! ([`crate::state::summarize_since`]), and re-judges only their gate
//! results' evidence.
//!
//! It answers the screen's questions about that log ([`Answers`]): the
//! selected promotion judged in full, with its evidence (fetched here) and
//! drift, and what an action would sign.
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
use super::detail::{Answers, Question};
use super::index::LogIndex;
use super::prepare::sign_and_queue;
use crate::client::cache::Kept;
use crate::client::config::ClientConfig;
use crate::client::evidence::{BlobCache, Rejudger, fetch};
use crate::client::http::StoreClient;
use crate::client::outbox::{Item, ItemState, Outbox};
use crate::client::receipts::verify_receipt;
use crate::client::sync::{Resume, SyncError, VerifiedLog, accept_receipt, offline, sync_resuming};
use crate::state::{Changes, Names};

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
    /// Answered at once, from the log on screen.
    Ask(Box<Question>),
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
    // state is shown; the evidence pane's documents are read when a
    // promotion is looked at (`answer`).
    let mut rejudger = Rejudger::new(BlobCache::default_location()).verdicts_only();
    let blobs = BlobCache::default_location();
    // Whether the verified cache is on screen while the store is down.
    let mut offline_shown = false;
    // The log verified last and what the cache on disk holds of it, and
    // the index of its entries (kept across syncs, extended with each).
    let mut held: Option<(Arc<VerifiedLog>, Option<Kept>)> = None;
    let mut index = LogIndex::default();
    // The judgements on screen, which the next sync's are judged against.
    let mut judged: Option<Judged> = None;
    // The log on screen, which the screen's questions are about.
    let mut answers: Option<Answers> = None;
    let mut names = Names::default();
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
                let since = judged.as_ref().and_then(|j| changes_since(&verified, j));
                let (log, data) = if let Some((previous, mut changes)) = since {
                    let (_, rejudged) = rejudger
                        .rejudge_changed(
                            Some(&client),
                            &mut verified,
                            previous.rejudged.clone(),
                            &changes.promotions,
                        )
                        .await;
                    changes.promotions.extend(rejudged);
                    let log = Arc::new(verified);
                    let data = Data::from_indexed_since(
                        &log,
                        index.clone(),
                        now,
                        previous,
                        &changes,
                        &mut names,
                    );
                    (log, data)
                } else {
                    rejudger.rejudge(Some(&client), &mut verified).await;
                    let log = Arc::new(verified);
                    let data = Data::from_indexed(&log, index.clone(), now, &mut names);
                    (log, data)
                };
                let data = with_me(data, &client);
                judged = Some(data.judged(&log, now));
                // A log mostly downloaded just now holds every statement
                // parsed; the next sync starts from the cache written
                // instead, whose entries are read only when indexed.
                held =
                    (log.fetched <= crate::client::cache::TAIL).then(|| (Arc::clone(&log), kept));
                answer_about(&mut answers, log, &index);
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
                        rejudger.rejudge(None, &mut verified).await;
                        let as_of = super::strings::as_of_cache(
                            verified.checkpoint.checkpoint().size,
                            verified.offline,
                        );
                        let log = Arc::new(verified);
                        let now = OffsetDateTime::now_utc();
                        let data = Data::from_indexed(&log, index.clone(), now, &mut names);
                        let data = with_me(data, &client);
                        judged = None;
                        answer_about(&mut answers, log, &index);
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
        // Questions are answered as they come; anything else (or the log
        // growing, or the poll) starts the next round.
        let next = tokio::time::Instant::now() + poll;
        let request = loop {
            let request = tokio::select! {
                r = rx.recv() => match r { Some(r) => Some(r), None => return },
                () = grew.notified() => None,
                () = tokio::time::sleep_until(next) => None,
            };
            match request {
                Some(Request::Ask(question)) => {
                    let store = (!offline_shown).then_some(&client);
                    if let Some(answers) = &mut answers {
                        answer(answers, &question, store, &blobs, &tx).await;
                    }
                }
                other => break other,
            }
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

/// Answers questions about `log` (with the entries `index` holds) from now
/// on.
fn answer_about(answers: &mut Option<Answers>, log: Arc<VerifiedLog>, index: &LogIndex) {
    match answers {
        Some(answers) => answers.renew(log, index.clone()),
        None => *answers = Some(Answers::new(log, index.clone())),
    }
}

/// Answers `question`; for a promotion's detail, its evidence documents
/// are read first (from the blob cache, else fetched from the `store`).
async fn answer(
    answers: &mut Answers,
    question: &Question,
    store: Option<&StoreClient>,
    blobs: &BlobCache,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    if let Question::Detail { promotion, .. } = question {
        for digest in answers.evidence_wanted(promotion) {
            let blob = fetch(store, blobs, &digest).await;
            answers.add_blob(digest, blob);
        }
    }
    if let Some(msg) = answers.answer(question) {
        let _ = tx.send(msg);
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
