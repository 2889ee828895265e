//! Request authentication: every request except the public checkpoint is
//! signed per RFC 9421 with an operator's key, over `@method`,
//! `@target-uri` and an RFC 9530 `content-digest` of the body. The
//! signature is checked before the body is read (a stranger never makes the
//! store buffer a byte), and bodies are read within a store-wide budget of
//! bytes in flight. Also the per-key nonce memory (replays → 401) and the
//! per-key rate limit (→ 429).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Nonces kept before the first prune.
const PRUNE_FLOOR: usize = 100_000;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use tokio::sync::OwnedSemaphorePermit;

use super::AppState;
use super::error::ApiError;
use crate::httpsig;

/// How far a request's `created` may be from the store's clock.
pub const MAX_REQUEST_SKEW: time::Duration = time::Duration::minutes(5);

/// The operator a request was signed by, put in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub operator: String,
    pub key_id: String,
}

/// Nonces seen within the skew window, and token buckets per key.
#[derive(Debug, Default)]
pub struct AuthMemory {
    nonces: Mutex<HashMap<(String, String), i64>>,
    next_prune: AtomicUsize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl AuthMemory {
    /// Records a nonce; false when this key already used it. Nonces older
    /// than twice the skew window are forgotten: their requests would be
    /// refused for skew anyway.
    fn remember_nonce(&self, key_id: &str, nonce: &str, created: i64, now: i64) -> bool {
        let Ok(mut nonces) = self.nonces.lock() else {
            return false;
        };
        // A request whose `created` is more than the skew in the past is
        // refused before its nonce is looked at, so older nonces can go.
        // Pruning is amortised: only when the map doubled since last time.
        if nonces.len() >= self.next_prune.load(Ordering::Relaxed) {
            let horizon = MAX_REQUEST_SKEW.whole_seconds();
            nonces.retain(|_, seen| now - *seen <= horizon);
            self.next_prune
                .store((nonces.len() * 2).max(PRUNE_FLOOR), Ordering::Relaxed);
        }
        nonces
            .insert((key_id.to_owned(), nonce.to_owned()), created)
            .is_none()
    }

    /// Takes a token from the key's bucket (`rate` per second, burst 2×rate).
    fn admit(&self, key_id: &str, rate: u32) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return false;
        };
        let now = Instant::now();
        let burst = f64::from(rate) * 2.0;
        let bucket = buckets.entry(key_id.to_owned()).or_insert(Bucket {
            tokens: burst,
            refilled: now,
        });
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * f64::from(rate)).min(burst);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Bodies up to this many times the limit are read (and thrown away) before
/// the 413, so a client still sending sees the answer rather than a reset
/// connection; bodies declared larger are refused unread.
const DRAIN_FACTOR: usize = 2;

/// Why a request body was not taken.
enum BodyProblem {
    TooLarge,
    Unreadable,
}

/// Reads a body of at most `limit` bytes into a buffer of `capacity`,
/// hashing it (SHA-256) as it arrives. A longer one is read on, without
/// keeping it, up to `DRAIN_FACTOR` times the limit, then refused.
async fn read_body(
    body: Body,
    limit: usize,
    capacity: usize,
) -> Result<(Bytes, Vec<u8>), BodyProblem> {
    let cap = limit.saturating_mul(DRAIN_FACTOR);
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::with_capacity(capacity.min(limit));
    let mut hasher = Sha256::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyProblem::Unreadable)?;
        seen = seen.saturating_add(chunk.len());
        if seen > cap {
            return Err(BodyProblem::TooLarge);
        }
        if seen <= limit {
            hasher.update(&chunk);
            bytes.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(BodyProblem::TooLarge);
    }
    Ok((Bytes::from(bytes), hasher.finalize().to_vec()))
}

fn is_public(method: &Method, path: &str) -> bool {
    method == Method::GET && path == "/v1/checkpoint"
}

/// The body limit of a route: evidence blobs are larger than entries.
fn body_limit(path: &str, state: &AppState) -> usize {
    if path.starts_with("/v1/evidence/") {
        state.limits.max_evidence_bytes
    } else {
        state.limits.max_body_bytes
    }
}

/// Middleware: authenticate, enforce limits, then hand on the buffered body.
/// The bytes reserved for the body stay reserved until the handler answered.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check(&state, request).await {
        Ok((request, reserved)) => {
            let response = next.run(request).await;
            drop(reserved);
            response
        }
        Err(error) => error.into_response(),
    }
}

/// The declared `content-length`, if any and readable.
fn declared_length(request: &Request) -> Option<usize> {
    request
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// Checks the signature over the request's method, target and
/// `content-digest` before a byte of the body is read, so nobody without a
/// key in the policy can make the store buffer anything; then reserves the
/// body's bytes from the store-wide budget, reads the body (with the route's
/// limit and the body timeout) and checks it against the signed digest.
async fn check(
    state: &AppState,
    request: Request,
) -> Result<(Request, Option<OwnedSemaphorePermit>), ApiError> {
    let path = request.uri().path().to_owned();
    if is_public(request.method(), &path) {
        return Ok((request, None));
    }
    let limit = body_limit(&path, state);
    let declared = declared_length(&request);
    if declared.is_some_and(|length| length > limit.saturating_mul(DRAIN_FACTOR)) {
        return Err(ApiError::too_large(limit));
    }
    let (parts, body) = request.into_parts();
    let caller = verify_headers(state, &parts)?;
    // The signed digest, before the body: a malformed one is refused unread.
    let digest = httpsig::header_lookup(&parts.headers)("content-digest").unwrap_or_default();
    let expected = httpsig::content_digest_sha256(&digest).map_err(|e| auth_error(&e))?;

    let want = reservation(declared, limit, state.limits.max_buffered_bytes);
    let Ok(Ok(reserved)) = tokio::time::timeout(
        state.limits.body_timeout,
        Arc::clone(&state.buffers).acquire_many_owned(want),
    )
    .await
    else {
        return Err(ApiError::busy());
    };
    let capacity = declared.map_or(0, |length| length.min(limit));
    let (bytes, actual) =
        match tokio::time::timeout(state.limits.body_timeout, read_body(body, limit, capacity))
            .await
        {
            Err(_) => return Err(ApiError::slow_client()),
            Ok(Err(BodyProblem::TooLarge)) => return Err(ApiError::too_large(limit)),
            Ok(Err(BodyProblem::Unreadable)) => return Err(ApiError::unreadable_body()),
            Ok(Ok(read)) => read,
        };
    if actual != expected {
        return Err(auth_error(&httpsig::AuthError::DigestMismatch));
    }
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(caller);
    Ok((request, Some(reserved)))
}

/// Bytes of the store-wide budget a body reserves before it is read: the
/// declared length (a longer body is a protocol error hyper refuses) or the
/// route's limit when none is declared, never more than the route's limit
/// (bodies over it are drained, not kept) nor the whole budget, at least 1.
fn reservation(declared: Option<usize>, limit: usize, budget: usize) -> u32 {
    let want = declared
        .map_or(limit, |length| length.min(limit))
        .min(budget)
        .max(1);
    u32::try_from(want).unwrap_or(u32::MAX)
}

fn auth_error(e: &httpsig::AuthError) -> ApiError {
    ApiError::new(e.status(), e.code(), e.to_string(), e.remediation())
}

/// Verifies the request's signature (everything but the body), the signer's
/// standing in the policy, its rate and its nonce.
fn verify_headers(state: &AppState, parts: &Parts) -> Result<Caller, ApiError> {
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(ToString::to_string))
        .ok_or_else(|| {
            ApiError::bad_request(
                "missing_host",
                "the request has no Host header",
                "send a Host header",
            )
        })?;
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let target_uri = format!("https://{host}{path_and_query}");
    let store = &state.store;
    let now = OffsetDateTime::now_utc();
    let verified = httpsig::verify_request_headers(
        parts.method.as_str(),
        &target_uri,
        httpsig::header_lookup(&parts.headers),
        |key_id| {
            store
                .operator_for_key_id(key_id)
                .map(|(_, key)| *key.verifying_key())
        },
        now,
        MAX_REQUEST_SKEW,
    )
    .map_err(|e| auth_error(&e))?;
    let (operator, _) = store.operator_for_key_id(&verified.keyid).ok_or_else(|| {
        ApiError::new(
            401,
            "unknown_key",
            "the signing key is not in the policy",
            "ask a policy admin to add your key",
        )
    })?;
    if !state.auth.admit(&verified.keyid, state.limits.rate_per_key) {
        return Err(ApiError::rate_limited());
    }
    if !state.auth.remember_nonce(
        &verified.keyid,
        &verified.nonce,
        verified.created,
        now.unix_timestamp(),
    ) {
        return Err(ApiError::replayed_nonce());
    }
    Ok(Caller {
        operator,
        key_id: verified.keyid,
    })
}

#[cfg(test)]
mod tests {
    use super::reservation;

    #[test]
    fn a_body_reserves_its_declared_length_within_the_limit_and_budget() {
        assert_eq!(reservation(Some(1000), 128 * 1024, 1 << 20), 1000);
        assert_eq!(reservation(None, 128 * 1024, 1 << 20), 128 * 1024);
        assert_eq!(reservation(Some(1 << 30), 128 * 1024, 1 << 20), 128 * 1024);
        assert_eq!(reservation(Some(8 << 20), 8 << 20, 1 << 20), 1 << 20);
        assert_eq!(reservation(Some(0), 128 * 1024, 1 << 20), 1);
    }
}
