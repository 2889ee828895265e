//! `tollgate outbox` lists what waits to be delivered, what was delivered
//! and what the store refused; `tollgate sync` delivers the queue and then
//! verifies the log. The outbox itself is `client::outbox`.

use std::path::Path;

use serde_json::json;
use time::OffsetDateTime;

use super::store::Session;
use super::{CommandError, CommandResult, messages};
use crate::client::outbox::{Item, ItemState, Outbox};

#[derive(Debug, clap::Args)]
pub struct OutboxArgs {
    /// Print JSON: every item with its state.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Print JSON: what was delivered, refused or left queued.
    #[arg(long)]
    json: bool,
}

fn open() -> Result<Outbox, CommandError> {
    Ok(Outbox::default_location()?)
}

fn item_json(item: &Item) -> serde_json::Value {
    let mut value = json!({
        "seq": item.seq,
        "state": item.state_name(),
        "kind": item.kind,
        "summary": item.summary,
        "entry_id": item.entry_id.to_string(),
        "promotion_id": item.promotion_id.map(|d| d.to_string()),
        "created_at": messages::time(item.created_at),
        "attempts": item.attempts,
    });
    match &item.state {
        ItemState::Queued { last_error } => value["last_error"] = json!(last_error),
        ItemState::Sent { receipt, at } => {
            value["index"] = json!(receipt.index);
            value["sent_at"] = json!(messages::time(*at));
        }
        ItemState::Refused {
            code,
            message,
            remediation,
            at,
            ..
        } => {
            value["refusal"] =
                json!({ "code": code, "message": message, "remediation": remediation });
            value["refused_at"] = json!(messages::time(*at));
        }
    }
    value
}

/// `tollgate outbox [--json]`
pub fn list(args: &OutboxArgs) -> CommandResult {
    let outbox = open()?;
    let items = outbox.items().map_err(anyhow::Error::new)?;
    if args.json {
        let list: Vec<_> = items.iter().map(item_json).collect();
        println!("{}", json!({ "dir": outbox.dir(), "items": list }));
        return Ok(());
    }
    println!("{}", messages::outbox_listing(outbox.dir(), &items));
    Ok(())
}

/// `tollgate sync [--json]`: delivers queued items, then verifies the log.
pub fn sync(config: Option<&Path>, args: &SyncArgs) -> CommandResult {
    let session = Session::open(config)?;
    let outbox = open()?;
    let delivery = session
        .block_on(outbox.deliver(&session.client, OffsetDateTime::now_utc))
        .map_err(anyhow::Error::new)?;
    let queued = outbox.counts().map_err(anyhow::Error::new)?.queued;
    if let Some(error) = delivery.unreachable {
        if args.json {
            println!(
                "{}",
                json!({ "delivered": delivery.sent.iter().map(item_json).collect::<Vec<_>>(),
                        "refused": delivery.refused.iter().map(item_json).collect::<Vec<_>>(),
                        "queued": queued })
            );
        }
        return Err(CommandError::from(error));
    }
    // The gate results fetched are judged here, so that read commands
    // offline find their evidence cached and their judgements kept.
    let log = session.sync_judging_new()?;
    if args.json {
        println!(
            "{}",
            json!({ "delivered": delivery.sent.iter().map(item_json).collect::<Vec<_>>(),
                    "refused": delivery.refused.iter().map(item_json).collect::<Vec<_>>(),
                    "queued": queued,
                    "log_size": log.checkpoint.checkpoint().size,
                    "fetched": log.fetched })
        );
    } else {
        println!(
            "{}",
            messages::sync_done(
                &delivery.sent,
                &delivery.refused,
                log.checkpoint.checkpoint().size
            )
        );
    }
    super::leave_to_exit(log);
    if delivery.refused.is_empty() {
        Ok(())
    } else {
        Err(CommandError::Refused(messages::outbox_refused(
            delivery.refused.len(),
        )))
    }
}
