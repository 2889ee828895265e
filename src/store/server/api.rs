//! The HTTP API of DESIGN.md §4, versioned under `/v1`. Handlers are thin:
//! they parse, call the [`Store`](crate::store::Store) and shape JSON.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use time::OffsetDateTime;
use tokio_stream::wrappers::BroadcastStream;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::digest::Digest;
use crate::encoding;
use crate::state::{GateVerdict, Promotion, Standing};

use crate::wire::{self, MAX_PAGE};

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| {
        ApiError::bad_request(
            "bad_query",
            format!("the query string is invalid: {e}"),
            "see the API description in DESIGN.md §4",
        )
    })
}

fn refused(error: &crate::store::Refused) -> ApiError {
    ApiError::new(
        error.status(),
        error.code(),
        error.to_string(),
        error.remediation(),
    )
}

/// Loads what other store instances committed before a read, so nothing
/// served is older than the database's latest commit.
async fn fresh(state: &AppState) -> Result<(), ApiError> {
    state.store.catch_up().await.map_err(|e| {
        tracing::warn!(error = %e, "cannot catch up with the database before a read");
        ApiError::internal(e.to_string())
    })
}

pub async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    fresh(&state).await?;
    let note = state.store.checkpoint();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        note.as_bytes().to_vec(),
    )
        .into_response())
}

pub async fn submit(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let receipt = state
        .store
        .submit(body.to_vec(), OffsetDateTime::now_utc())
        .await
        .map_err(|e| refused(&e))?;
    let status = if receipt.existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let body = wire::Receipt {
        index: receipt.index,
        entry_id: receipt.entry_id,
        inclusion_proof: wire::ProofAnswer::of(&receipt.inclusion_proof).proof,
        checkpoint: String::from_utf8_lossy(receipt.checkpoint.as_bytes()).into_owned(),
        created: !receipt.existed,
    };
    Ok((status, Json(body)).into_response())
}

pub async fn entries(
    State(state): State<AppState>,
    range: Result<Query<wire::Range>, QueryRejection>,
) -> Result<Json<wire::EntriesPage>, ApiError> {
    let wire::Range { start, end } = query(range)?;
    fresh(&state).await?;
    let size = state.store.checkpoint().checkpoint().size;
    if start >= end || end > size || end - start > MAX_PAGE {
        return Err(ApiError::bad_request(
            "bad_range",
            format!("range {start}..{end} is not valid for a log of {size} entries"),
            format!("ask for start < end ≤ {size}, at most {MAX_PAGE} at a time"),
        ));
    }
    let bodies = state
        .store
        .entries(start, end)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let entries = bodies
        .iter()
        .zip(start..)
        .map(|(bytes, index)| wire::PageEntry {
            index,
            envelope: encoding::encode(bytes),
        })
        .collect();
    Ok(Json(wire::EntriesPage { entries }))
}

pub async fn inclusion(
    State(state): State<AppState>,
    q: Result<Query<wire::InclusionQuery>, QueryRejection>,
) -> Result<Json<wire::ProofAnswer>, ApiError> {
    let wire::InclusionQuery { index, size } = query(q)?;
    fresh(&state).await?;
    let proof = state.store.inclusion_proof(index, size).map_err(|e| {
        ApiError::bad_request(
            "bad_range",
            e.to_string(),
            "ask for index < size ≤ the checkpoint's size",
        )
    })?;
    Ok(Json(wire::ProofAnswer::of(&proof)))
}

pub async fn consistency(
    State(state): State<AppState>,
    q: Result<Query<wire::ConsistencyQuery>, QueryRejection>,
) -> Result<Json<wire::ProofAnswer>, ApiError> {
    let wire::ConsistencyQuery { from, to } = query(q)?;
    fresh(&state).await?;
    let proof = state.store.consistency_proof(from, to).map_err(|e| {
        ApiError::bad_request(
            "bad_range",
            e.to_string(),
            "ask for from ≤ to ≤ the checkpoint's size",
        )
    })?;
    Ok(Json(wire::ProofAnswer::of(&proof)))
}

pub async fn policy(State(state): State<AppState>) -> Result<Json<wire::PolicyView>, ApiError> {
    fresh(&state).await?;
    let policy = state.store.policy();
    Ok(Json(wire::PolicyView {
        version: policy.version,
        digest: policy.digest(),
        document: policy.document().to_owned(),
        entries: state.store.policy_entries(),
        genesis: state.store.genesis_policy().document().to_owned(),
        log_vkey: state.store.log_key().to_string(),
    }))
}

fn promotion_view(p: &Promotion) -> wire::PromotionView {
    let gates = p
        .gates
        .values()
        .map(|g| wire::GateView {
            name: g.name.clone(),
            verdict: match &g.verdict {
                GateVerdict::Passed => "passed",
                GateVerdict::Waived { .. } => "waived",
                GateVerdict::Failed => "failed",
                GateVerdict::Missing => "missing",
            }
            .to_owned(),
            summary: g.latest.as_ref().map(|l| l.result.summary.clone()),
        })
        .collect();
    let approvals = p
        .approvals
        .iter()
        .map(|a| wire::ApprovalView {
            signer: a.decision.signer.clone(),
            role: a.decision.role.clone(),
            standing: match &a.standing {
                Standing::Counted => "counted".to_owned(),
                Standing::Expired { .. } => "expired".to_owned(),
                Standing::Stale(reason) => format!("stale: {reason}"),
                Standing::Revoked { by } => format!("revoked by {by}"),
                Standing::NotNeeded => "not needed".to_owned(),
            },
            decision: a.decision.id,
        })
        .collect();
    wire::PromotionView {
        id: p.id,
        index: p.index,
        service: p.request.service.clone(),
        version: p.request.version.clone(),
        from: p.request.from.clone(),
        to: p.request.to.clone(),
        artifact: p.artifact,
        requested_by: p.requested_by.clone(),
        status: p.status.label().to_owned(),
        blockers: p.blockers.iter().map(ToString::to_string).collect(),
        gates,
        approvals,
    }
}

pub async fn promotions(
    State(state): State<AppState>,
) -> Result<Json<wire::PromotionList>, ApiError> {
    fresh(&state).await?;
    let view = state.store.state(OffsetDateTime::now_utc());
    let promotions = view.promotions_in_order().map(promotion_view).collect();
    Ok(Json(wire::PromotionList { promotions }))
}

/// The digest named in the path; a segment that does not even decode (bad
/// percent-escapes, invalid UTF-8) is refused in the same JSON form.
fn path_digest(path: Result<Path<String>, PathRejection>) -> Result<Digest, ApiError> {
    let Path(text) = path.map_err(|e| {
        ApiError::bad_request(
            "bad_digest",
            format!("the path is invalid: {e}"),
            "name it as sha256:<64 lowercase hex>",
        )
    })?;
    parse_digest(&text)
}

fn parse_digest(text: &str) -> Result<Digest, ApiError> {
    text.parse::<Digest>().map_err(|e| {
        ApiError::bad_request(
            "bad_digest",
            e.to_string(),
            "name it as sha256:<64 lowercase hex>",
        )
    })
}

pub async fn promotion(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<wire::PromotionView>, ApiError> {
    let id = path_digest(id)?;
    fresh(&state).await?;
    let view = state.store.state(OffsetDateTime::now_utc());
    view.promotions
        .get(&id)
        .map(|p| Json(promotion_view(p)))
        .ok_or_else(|| ApiError::not_found(format!("promotion {id} is not in the log")))
}

pub async fn put_evidence(
    State(state): State<AppState>,
    digest: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    caller: axum::Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let digest = path_digest(digest)?;
    let policy = state.store.policy();
    if !policy.may_sign("gate-result", &caller.operator)
        && !policy.may_sign("snapshot", &caller.operator)
    {
        return Err(ApiError::forbidden(
            format!("{} may not upload evidence", caller.operator),
            "evidence is uploaded by the roles that may sign gate results or snapshots",
        ));
    }
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let created = state
        .store
        .put_evidence(digest, &media_type, &body)
        .await
        .map_err(|e| refused(&e))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(wire::EvidenceReceipt {
            digest,
            size: body.len() as u64,
        }),
    )
        .into_response())
}

pub async fn get_evidence(
    State(state): State<AppState>,
    digest: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let digest = path_digest(digest)?;
    match state
        .store
        .get_evidence(&digest)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
    {
        Some((media_type, body)) => {
            Ok(([(header::CONTENT_TYPE, media_type)], body).into_response())
        }
        None => Err(ApiError::not_found(format!(
            "no evidence {digest} in the store"
        ))),
    }
}

fn checkpoint_event(checkpoint: &crate::ledger::SignedCheckpoint) -> Event {
    Event::default()
        .event("checkpoint")
        .id(checkpoint.checkpoint().size.to_string())
        .data(String::from_utf8_lossy(checkpoint.as_bytes()))
}

/// `GET /v1/events`: server-sent checkpoints, each with the tree size as its
/// event id. A new subscriber gets the current checkpoint at once (unless
/// its `Last-Event-ID` already covers it); a subscriber too slow for the
/// broadcast gets the latest checkpoint instead of the ones it missed, so a
/// client always sees the size jump and fetches the missing range. Sizes
/// only grow on one stream.
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    fresh(&state).await?;
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // Subscribe first, so nothing committed after the current checkpoint
    // is read can fall between the two.
    let updates = BroadcastStream::new(state.store.subscribe());
    let store = state.store.clone();
    let current = store.checkpoint();
    let stream = futures_util::stream::iter([Ok(current)])
        .chain(updates)
        .scan(last_seen, move |sent, item| {
            let checkpoint = match item {
                Ok(checkpoint) => checkpoint,
                // Lagged: what was missed is covered by the latest one.
                Err(_) => store.checkpoint(),
            };
            let size = checkpoint.checkpoint().size;
            let new = sent.is_none_or(|sent| size > sent);
            if new {
                *sent = Some(size);
            }
            std::future::ready(Some(
                new.then(|| Ok::<_, std::convert::Infallible>(checkpoint_event(&checkpoint))),
            ))
        })
        .filter_map(std::future::ready);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
