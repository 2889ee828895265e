//! Deploy hooks: when a promotion becomes ready, or a rollback is accepted,
//! the store POSTs a notification to every configured HTTPS receiver,
//! signed by the log key, retrying with backoff and recording every attempt.
//!
//! Events are derived from the state (the same fold everyone runs), so a
//! receiver can check any notification against the log itself.

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
