//! Deploy hooks: when a promotion becomes ready, or a rollback is accepted,
//! the store POSTs a notification to every configured HTTPS receiver,
//! signed by the log key, retrying with backoff and recording every attempt.
//!
//! Events are derived from the log itself, entry by entry in log order (the
//! same fold everyone runs, evaluated at each entry's signed time), so a
//! promotion ready only for a moment is still notified, and a receiver can
//! check any notification against the log. A persisted cursor says how far
//! the log was folded; the notifications of the entries after it are
//! claimed in the same transaction that moves it, under a lock, so each is
//! claimed once across restarts and across store instances. A claimed
//! notification not finished long after (its instance stopped) is taken on
//! again.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::encoding;
use crate::keys::Signer;
use crate::keys::vkey::note_key_id;
use crate::state::{PromotionStatus, State};
use crate::statement::new_nonce;

use super::DatabaseError;
use super::pipeline::HookFold;
use super::storage::AppendTx;

/// The signature header receivers check with the log's vkey.
pub const SIGNATURE_HEADER: &str = "tollgate-signature";

/// Domain separation: a hook signature can never be confused with a
/// checkpoint signature made by the same log key.
pub const SIGNED_PREFIX: &[u8] = b"tollgate-hook/v1\n";

/// Most attempts per delivery; the waits between them double from 1 s.
pub const MAX_ATTEMPTS: u32 = 8;

/// Something a deploy system should act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum HookEvent {
    PromotionReady {
        promotion: Digest,
        service: String,
        version: String,
        environment: String,
        artifact: Digest,
    },
    RollbackAccepted {
        rollback: Digest,
        service: String,
        environment: String,
        from: Digest,
        to: Digest,
    },
}

impl HookEvent {
    /// A stable id, so a delivery is recorded and deduplicated per event.
    pub fn id(&self) -> String {
        match self {
            Self::PromotionReady { promotion, .. } => format!("promotion-ready:{promotion}"),
            Self::RollbackAccepted { rollback, .. } => format!("rollback-accepted:{rollback}"),
        }
    }
}

/// Events in `state` that are not in `already` (ids of events already
/// notified), in log order.
pub fn new_events(state: &State, already: &BTreeSet<String>) -> Vec<HookEvent> {
    let mut events = Vec::new();
    for p in state.promotions_in_order() {
        if p.status == PromotionStatus::Ready {
            let event = HookEvent::PromotionReady {
                promotion: p.id,
                service: p.request.service.clone(),
                version: p.request.version.clone(),
                environment: p.request.to.clone(),
                artifact: p.artifact,
            };
            if !already.contains(&event.id()) {
                events.push(event);
            }
        }
    }
    for r in state.rollbacks.values().filter(|r| r.accepted) {
        let event = HookEvent::RollbackAccepted {
            rollback: r.id,
            service: r.service.clone(),
            environment: r.environment.clone(),
            from: r.from,
            to: r.to,
        };
        if !already.contains(&event.id()) {
            events.push(event);
        }
    }
    events
}

/// The notification body: the event, when, and the log state it rests on.
pub fn body(event: &HookEvent, origin: &str, size: u64, at: OffsetDateTime) -> Vec<u8> {
    let value = serde_json::json!({
        "notification": event,
        "id": event.id(),
        "delivery": new_nonce(),
        "origin": origin,
        "log_size": size,
        "at": at.unix_timestamp(),
    });
    serde_json::to_vec(&value).unwrap_or_default()
}

/// `keyid=<8 hex>, sig=<base64>`: the log key's signature over
/// [`SIGNED_PREFIX`] ‖ body.
pub fn sign(log_key: &Signer, body: &[u8]) -> String {
    use ed25519_dalek::Signer as _;
    let mut message = SIGNED_PREFIX.to_vec();
    message.extend_from_slice(body);
    let sig = log_key.signing_key().sign(&message);
    let id = note_key_id(log_key.name(), &log_key.public());
    format!("keyid={id:08x}, sig={}", encoding::encode(&sig.to_bytes()))
}

/// Checks a hook signature with the log's public key (what receivers do).
pub fn verify(log_key: &crate::keys::PublicKey, body: &[u8], header: &str) -> bool {
    let Some(sig_b64) = header
        .split(", ")
        .find_map(|part| part.strip_prefix("sig="))
    else {
        return false;
    };
    let Ok(bytes) = encoding::decode_standard(sig_b64) else {
        return false;
    };
    let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
        return false;
    };
    let mut message = SIGNED_PREFIX.to_vec();
    message.extend_from_slice(body);
    log_key
        .verifying_key()
        .verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&bytes))
        .is_ok()
}

/// The wait before attempt `attempt` (1-based; the first attempt does not wait).
pub fn backoff(attempt: u32) -> Duration {
    if attempt <= 1 {
        Duration::ZERO
    } else {
        Duration::from_secs(1u64 << (attempt - 2).min(6))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_the_log_key_only_over_the_exact_body() {
        let log = Signer::generate("audit.test/tollgate");
        let body = b"{\"a\":1}";
        let header = sign(&log, body);
        assert!(verify(&log.public(), body, &header));
        assert!(!verify(&log.public(), b"{\"a\":2}", &header));
        assert!(!verify(&Signer::generate("x").public(), body, &header));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::ZERO);
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(20), Duration::from_secs(64));
    }
}

/// Why a hook receiver is not usable.
#[derive(Debug, thiserror::Error)]
pub enum HookConfigError {
    #[error("hook url `{0}` is not https://; deploy hooks are only sent over HTTPS")]
    NotHttps(String),
    #[error("hook `{url}`: {problem}")]
    Trust { url: String, problem: String },
}

/// One HTTPS receiver of deploy hooks and the client that trusts it.
#[derive(Debug, Clone)]
pub struct HookReceiver {
    pub url: String,
    client: reqwest::Client,
}

impl HookReceiver {
    pub fn new(url: &str, trust: &crate::tls::Trust) -> Result<Self, HookConfigError> {
        if !url.starts_with("https://") {
            return Err(HookConfigError::NotHttps(url.to_owned()));
        }
        let problem = |problem: String| HookConfigError::Trust {
            url: url.to_owned(),
            problem,
        };
        let tls = crate::tls::client_config(trust).map_err(|e| problem(e.to_string()))?;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| problem(e.to_string()))?;
        Ok(Self {
            url: url.to_owned(),
            client,
        })
    }
}

/// The running hook dispatcher.
#[derive(Debug)]
pub struct HookDispatcher {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl HookDispatcher {
    /// Starts following the log for events to notify. Events claimed
    /// before, or attempted before (recorded deliveries), are not sent again.
    pub async fn start(
        store: super::Store,
        receivers: Vec<HookReceiver>,
    ) -> Result<Self, super::DatabaseError> {
        let mut already: BTreeSet<String> = store
            .hook_deliveries()
            .await?
            .into_iter()
            .map(|d| d.event)
            .collect();
        already.extend(store.shared().storage.hook_event_ids().await?);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(dispatch(store, receivers, already, stopped));
        Ok(Self { stop, task })
    }

    /// Stops; deliveries still waiting to retry are abandoned (they are
    /// recorded up to their last attempt).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// How often readiness is re-evaluated without a new checkpoint (approvals
/// expire and freezes end with time alone; other instances' commits).
const TICK: Duration = Duration::from_secs(10);

/// Entries folded per query while catching up silently.
const REPLAY_PAGE: u64 = 10_000;

/// A claimed notification not finished after this long is taken on again
/// (well past the whole retry schedule: 8 attempts, 127 s of backoff, 10 s
/// timeouts).
const LEASE: Duration = Duration::from_mins(15);

fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The dispatcher's fold of the log and what it already claimed.
struct Cursor {
    replay: HookFold,
    /// Ids of notifications claimed (by any instance) or recorded.
    known: BTreeSet<String>,
    /// The latest signed time folded (entries without one inherit it).
    last_time: OffsetDateTime,
    genesis: std::sync::Arc<crate::policy::Policy>,
}

impl Cursor {
    fn reset(&mut self) {
        self.replay = HookFold::new(self.genesis.clone());
        self.last_time = OffsetDateTime::UNIX_EPOCH;
    }
}

async fn dispatch(
    store: super::Store,
    receivers: Vec<HookReceiver>,
    known: BTreeSet<String>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let mut checkpoints = store.subscribe();
    let mut tick = tokio::time::interval(TICK);
    let mut deliveries = tokio::task::JoinSet::new();
    let genesis = store.genesis_policy();
    let mut cursor = Cursor {
        replay: HookFold::new(genesis.clone()),
        known,
        last_time: OffsetDateTime::UNIX_EPOCH,
        genesis,
    };
    loop {
        let mut claimed = match advance(&store, &mut cursor).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "cannot derive deploy-hook notifications from the log; trying again later");
                cursor.reset();
                Vec::new()
            }
        };
        let lease = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
        let now = now_ms();
        match store
            .shared()
            .storage
            .reclaim_hook_events(now, now.saturating_sub(lease))
            .await
        {
            Ok(stale) => claimed.extend(stale),
            Err(error) => tracing::warn!(%error, "cannot take on unfinished hook notifications"),
        }
        for (event, payload) in claimed {
            deliveries.spawn(deliver_all(
                store.clone(),
                receivers.clone(),
                event,
                payload,
            ));
        }
        tokio::select! {
            _ = stopped.changed() => break,
            _ = checkpoints.recv() => {
                while checkpoints.try_recv().is_ok() {}
            }
            _ = tick.tick() => {}
            Some(_) = deliveries.join_next(), if !deliveries.is_empty() => {}
        }
    }
    deliveries.abort_all();
}

/// Folds the log up to the cursor silently (other instances, or earlier
/// runs, claimed those notifications), then, holding the cursor, folds the
/// entries after it one by one and claims the notifications each one
/// brings, moves the cursor to the end, and commits. Returns what this
/// instance claimed (event id, body), to deliver.
async fn advance(
    store: &super::Store,
    cursor: &mut Cursor,
) -> Result<Vec<(String, Vec<u8>)>, DatabaseError> {
    let storage = &store.shared().storage;
    // Most of the way without the lock.
    let target = storage.hook_cursor().await?;
    while cursor.replay.size() < target {
        let start = cursor.replay.size();
        let rows = storage
            .entries(start, target.min(start.saturating_add(REPLAY_PAGE)))
            .await?;
        if rows.is_empty() {
            break;
        }
        silent(cursor, rows)?;
    }

    let mut tx = storage.begin_hooks().await?;
    let from = tx.lock_hook_cursor().await?;
    if cursor.replay.size() > from {
        // Never: the cursor only moves forward. Start over.
        tx.rollback().await?;
        cursor.reset();
        return Ok(Vec::new());
    }
    if cursor.replay.size() < from {
        let rows = tx.entries_between(cursor.replay.size(), from).await?;
        silent(cursor, rows)?;
    }
    let mut seen = Vec::new();
    let claimed = match claim_after(&mut tx, cursor, from, &mut seen).await {
        Ok(claimed) => tx.commit().await.map(|()| claimed),
        // Dropping the transaction rolls it back.
        Err(error) => Err(error),
    };
    if claimed.is_err() {
        // Nothing was claimed: forget what this attempt saw.
        for id in seen {
            cursor.known.remove(&id);
        }
    }
    claimed
}

/// In the transaction holding the cursor at `from`: folds the entries after
/// it one by one, claims the notifications each brings (and those that
/// time alone brought), and moves the cursor to the end. Ids of the
/// notifications seen are added to `known` and to `seen`.
async fn claim_after(
    tx: &mut AppendTx,
    cursor: &mut Cursor,
    from: u64,
    seen: &mut Vec<String>,
) -> Result<Vec<(String, Vec<u8>)>, DatabaseError> {
    let end = tx.size().await?;
    let rows = tx.entries_between(from, end).await?;
    let mut claimed = Vec::new();
    for row in rows {
        for (index, at) in cursor.replay.apply(vec![row])? {
            let at = at.unwrap_or(cursor.last_time).max(cursor.last_time);
            cursor.last_time = at;
            let state = cursor.replay.state_at(at);
            for event in new_events(&state, &cursor.known) {
                let id = event.id();
                let payload = body(&event, cursor.replay.origin(), index + 1, at);
                cursor.known.insert(id.clone());
                seen.push(id.clone());
                if tx.claim_hook_event(&id, index, &payload, now_ms()).await? {
                    claimed.push((id, payload));
                }
            }
        }
    }
    // Readiness that arrives with time alone (an approval wait ends).
    let now = OffsetDateTime::now_utc();
    if end > 0 && now > cursor.last_time {
        let state = cursor.replay.state_at(now);
        for event in new_events(&state, &cursor.known) {
            let id = event.id();
            let payload = body(&event, cursor.replay.origin(), end, now);
            cursor.known.insert(id.clone());
            seen.push(id.clone());
            if tx
                .claim_hook_event(&id, end - 1, &payload, now_ms())
                .await?
            {
                claimed.push((id, payload));
            }
        }
    }
    tx.set_hook_cursor(end).await?;
    Ok(claimed)
}

/// Folds rows without claiming anything; their notifications are known.
fn silent(
    cursor: &mut Cursor,
    rows: Vec<super::storage::StoredEntry>,
) -> Result<(), DatabaseError> {
    for (_, at) in cursor.replay.apply(rows)? {
        if let Some(at) = at {
            cursor.last_time = cursor.last_time.max(at);
        }
    }
    Ok(())
}

/// Delivers one notification to every receiver, then marks it finished.
async fn deliver_all(
    store: super::Store,
    receivers: Vec<HookReceiver>,
    event: String,
    payload: Vec<u8>,
) {
    let signature = sign(store.log_signer(), &payload);
    let mut each = tokio::task::JoinSet::new();
    for receiver in receivers {
        each.spawn(deliver(
            store.clone(),
            receiver,
            event.clone(),
            payload.clone(),
            signature.clone(),
        ));
    }
    while each.join_next().await.is_some() {}
    if let Err(error) = store.shared().storage.hook_event_done(&event).await {
        tracing::warn!(%event, %error, "cannot mark a hook notification finished");
    }
}

async fn deliver(
    store: super::Store,
    receiver: HookReceiver,
    event: String,
    payload: Vec<u8>,
    signature: String,
) {
    for attempt in 1..=MAX_ATTEMPTS {
        tokio::time::sleep(backoff(attempt)).await;
        let result = receiver
            .client
            .post(&receiver.url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, &signature)
            .header("tollgate-event", &event)
            .body(payload.clone())
            .send()
            .await;
        let (status, error) = match &result {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        if let Err(e) = store
            .record_hook_delivery(&receiver.url, &event, attempt, status, error.as_deref())
            .await
        {
            tracing::warn!(url = %receiver.url, %event, error = %e, "cannot record a hook delivery");
        }
        if status.is_some_and(|s| (200..300).contains(&s)) {
            return;
        }
    }
    tracing::warn!(url = %receiver.url, %event, "hook delivery gave up after {MAX_ATTEMPTS} attempts");
}
