//! From a filled-in dialog to a signed statement in the outbox, through the
//! action layer (`client::actions`): the client task judges the draft
//! against the verified log exactly as the store would and says what will
//! be signed ([`super::detail::Answers::prepare`]); [`sign_and_queue`]
//! signs what was shown and writes it (fsync) to the outbox before anything
//! is sent.

use time::OffsetDateTime;

use super::app::Draft;
use crate::client::actions::{Intent, Prepared};
use crate::client::outbox::{Item, Outbox, OutboxError};
use crate::keys::Signer;

impl Draft {
    /// The action layer's intent (the role is left to it: the one I hold
    /// that the target accepts).
    pub fn to_intent(&self) -> Intent {
        match self.clone() {
            Self::Approve {
                promotion,
                rationale,
            } => Intent::Approve {
                promotion,
                role: None,
                rationale,
            },
            Self::Reject {
                promotion,
                rationale,
            } => Intent::Reject {
                promotion,
                role: None,
                rationale,
            },
            Self::Revoke {
                decision,
                rationale,
            } => Intent::Revoke {
                decision,
                role: None,
                rationale,
            },
            Self::Waive {
                promotion,
                gate,
                ttl,
                rationale,
            } => Intent::Waive {
                promotion,
                gate,
                ttl,
                role: None,
                rationale,
            },
            Self::Rollback {
                environment,
                service,
                to,
                rationale,
            } => Intent::Rollback {
                environment,
                service,
                to,
                role: None,
                rationale,
            },
        }
    }
}

/// Signs exactly the prepared statement and queues it durably.
pub fn sign_and_queue(
    signer: &Signer,
    outbox: &Outbox,
    prepared: &Prepared,
    now: OffsetDateTime,
) -> Result<Item, OutboxError> {
    let envelope = signer.sign_statement(prepared.statement.to_payload());
    outbox.enqueue(
        &envelope,
        prepared.statement.kind().name(),
        &prepared.summary,
        prepared.promotion_id,
        now,
    )
}
