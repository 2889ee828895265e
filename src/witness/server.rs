//! The witness's HTTPS front: `POST /add-checkpoint` (C2SP tlog-witness)
//! over rustls, TLS 1.2+ only. The check, the durable record and the
//! signature run on a blocking thread under the witness's lock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Witness;
use super::protocol::Rejection;
use crate::https::{Front, ServeError, bind, serve_https};
use crate::tls::Identity;

/// Largest request body: 63 proof lines and a checkpoint with many
/// signatures fit easily.
const MAX_BODY_BYTES: usize = 64 * 1024;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once (a witness answers one small request per
/// checkpoint of each log it watches).
const MAX_CONNECTIONS: usize = 256;
/// How long a stop waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The content type of a 409 answer: the size last cosigned.
pub const TLOG_SIZE: &str = "text/x.tlog.size";

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn answer(result: Result<String, Rejection>) -> Response {
    match result {
        Ok(lines) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            lines,
        )
            .into_response(),
        Err(rejection) => {
            let status = StatusCode::from_u16(rejection.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if let Some(size) = rejection.stored_size() {
                return (
                    status,
                    [(header::CONTENT_TYPE, TLOG_SIZE)],
                    format!("{size}\n"),
                )
                    .into_response();
            }
            if status.is_server_error() {
                tracing::error!(%rejection, "add-checkpoint failed");
            }
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{rejection}\n"),
            )
                .into_response()
        }
    }
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let result = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body, now_secs()))
        .await
        .unwrap_or_else(|e| Err(Rejection::Internal(e.to_string())));
    answer(result)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "this is a tollgate witness: POST /add-checkpoint (c2sp.org/tlog-witness)\n",
    )
        .into_response()
}

/// The witness's router.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(witness)
}

/// A running witness server.
#[derive(Debug)]
pub struct RunningWitness {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningWitness {
    /// Stops accepting connections. Every answered request was recorded
    /// before it was answered, so nothing needs flushing.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Binds `listen` and serves `witness` over HTTPS.
pub async fn start(
    witness: Arc<Witness>,
    identity: &Identity,
    listen: SocketAddr,
) -> Result<RunningWitness, ServeError> {
    let (listener, acceptor, addr) = bind(identity, listen).await?;
    let app = router(witness);
    let (stop, stopped) = watch::channel(false);
    let front = Front {
        max_connections: MAX_CONNECTIONS,
        handshake_timeout: HANDSHAKE_TIMEOUT,
        header_timeout: HEADER_TIMEOUT,
        shutdown_grace: SHUTDOWN_GRACE,
    };
    let task = tokio::spawn(serve_https(listener, acceptor, app, front, stopped));
    Ok(RunningWitness { addr, stop, task })
}
