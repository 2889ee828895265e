//! The client task: syncs and verifies the log, polls, reads outbox counts,
//! and signs + queues + delivers what the operator confirmed. It posts
//! messages back to the app; the render path never waits on it.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::app::{Msg, Submission};
use super::data::Data;
use super::prepare::sign_and_queue;
use crate::client::config::ClientConfig;
use crate::client::http::StoreClient;
use crate::client::outbox::{Item, ItemState, Outbox};
use crate::client::receipts::verify_receipt;
use crate::client::sync::{SyncError, accept_receipt, sync};

/// How often the log is polled when nothing else asks for a sync.
pub const POLL: Duration = Duration::from_secs(5);

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
        // The audit view shows every entry: read the cached ones here, so
        // a cache that fails its check is reported as a failed sync.
        let synced = sync(&config, &client).await.and_then(|verified| {
            verified.entries.all()?;
            Ok(verified)
        });
        match synced {
            Ok(verified) => {
                let mut data = Data::from_log(Arc::new(verified), OffsetDateTime::now_utc());
                data.me = data
                    .policy
                    .operator_for_key(&client.signer().public())
                    .map(|o| o.name.clone());
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
                let _ = tx.send(Msg::SyncFailed(e.to_string()));
            }
        }
        let request = tokio::select! {
            r = rx.recv() => match r { Some(r) => Some(r), None => return },
            () = tokio::time::sleep(POLL) => None,
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
