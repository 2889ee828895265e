//! The client task: syncs and verifies the log, polls, reads outbox counts,
//! and signs + queues + delivers what the operator confirmed. It posts
//! messages back to the app; the render path never waits on it.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::app::{Draft, Msg};
use super::data::Data;
use crate::client::config::ClientConfig;
use crate::client::http::StoreClient;
use crate::client::outbox::Outbox;
use crate::client::sync::{SyncError, sync};

/// How often the log is polled when nothing else asks for a sync.
pub const POLL: Duration = Duration::from_secs(5);

/// Requests from the app to the client task.
#[derive(Debug)]
pub enum Request {
    SyncNow,
    Submit(Draft),
}

/// Runs until the app's channel closes.
pub async fn run(
    config: ClientConfig,
    client: StoreClient,
    me: String,
    tx: mpsc::UnboundedSender<Msg>,
    mut rx: mpsc::UnboundedReceiver<Request>,
) {
    let outbox = Outbox::default_location().ok();
    let mut log = None;
    loop {
        if let Some(outbox) = &outbox {
            if let Ok(delivery) = outbox.deliver(&client, OffsetDateTime::now_utc).await {
                for item in &delivery.sent {
                    let _ = tx.send(Msg::Delivered(item.summary.clone()));
                }
            }
            if let Ok(counts) = outbox.counts() {
                let _ = tx.send(Msg::Outbox(counts));
            }
        }
        if tx.send(Msg::Syncing).is_err() {
            return;
        }
        match sync(&config, &client).await {
            Ok(verified) => {
                let verified = Arc::new(verified);
                log = Some(Arc::clone(&verified));
                let data = Data::from_log(verified, OffsetDateTime::now_utc());
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
        if let Some(Request::Submit(draft)) = request {
            submit(log.as_deref(), &client, outbox.as_ref(), &me, &draft, &tx);
        }
    }
}

/// Signs and queues a confirmed draft (delivery happens at the top of the loop).
fn submit(
    log: Option<&crate::client::sync::VerifiedLog>,
    client: &StoreClient,
    outbox: Option<&Outbox>,
    me: &str,
    draft: &Draft,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    let result = super::prepare::sign_and_queue(log, client.signer(), outbox, me, draft);
    match result {
        Ok(summary) => {
            let _ = tx.send(Msg::Queued(summary));
        }
        Err(reason) => {
            let _ = tx.send(Msg::SyncFailed(reason));
        }
    }
}
