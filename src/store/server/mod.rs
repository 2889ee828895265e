//! `tollgate serve`'s HTTPS front: a rustls listener (TLS 1.2+ only; plain
//! HTTP fails the handshake and is never answered), an axum router for the
//! `/v1` API, request authentication, limits (connections at once, body
//! bytes in flight, a backoff when accepting fails), and a graceful shutdown that
//! stops accepting, lets in-flight requests (and their commits) finish, and
//! then closes the store.

mod api;
pub mod auth;
mod error;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

pub use error::ApiError;

use super::Store;
use crate::https::{Front, bind, serve_https};
use crate::tls::Identity;

/// Limits that keep hostile or broken clients from hurting the store.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest body of any request but evidence uploads.
    pub max_body_bytes: usize,
    pub max_evidence_bytes: usize,
    /// Requests per second per key (bursts up to twice that).
    pub rate_per_key: u32,
    pub handshake_timeout: Duration,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// Connections served at once; further ones wait in the listen backlog
    /// until one closes.
    pub max_connections: usize,
    /// Request-body bytes held at once across all connections; a signed
    /// request waits (up to `body_timeout`, then 503) for room.
    pub max_buffered_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 128 * 1024,
            max_evidence_bytes: crate::store::MAX_EVIDENCE_BYTES,
            rate_per_key: 20_000,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(15),
            max_connections: 1024,
            max_buffered_bytes: 4 * crate::store::MAX_EVIDENCE_BYTES,
        }
    }
}

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub limits: Arc<Limits>,
    pub auth: Arc<auth::AuthMemory>,
    /// Permits are bytes of request bodies in flight (see `Limits`).
    pub buffers: Arc<Semaphore>,
}

pub use crate::https::ServeError;

/// The `/v1` router with authentication in front of every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/checkpoint", get(api::checkpoint))
        .route("/v1/entries", post(api::submit).get(api::entries))
        .route("/v1/proofs/inclusion", get(api::inclusion))
        .route("/v1/proofs/consistency", get(api::consistency))
        .route("/v1/policy", get(api::policy))
        .route("/v1/promotions", get(api::promotions))
        .route("/v1/promotions/{id}", get(api::promotion))
        .route(
            "/v1/evidence/{digest}",
            get(api::get_evidence).put(api::put_evidence),
        )
        .route("/v1/events", get(api::events))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .with_state(state)
}

/// A running server: its bound address and the handle to stop it.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, waits (up to the grace period) for in-flight
    /// requests, then closes the store so queued commits are flushed.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Binds `listen` and serves the store over HTTPS until shut down.
pub async fn start(
    store: Store,
    identity: &Identity,
    listen: SocketAddr,
    limits: Limits,
) -> Result<RunningServer, ServeError> {
    let (listener, acceptor, addr) = bind(identity, listen).await?;
    let limits = Arc::new(limits);
    let state = AppState {
        store: store.clone(),
        limits: limits.clone(),
        auth: Arc::default(),
        buffers: Arc::new(Semaphore::new(
            limits.max_buffered_bytes.clamp(1, Semaphore::MAX_PERMITS),
        )),
    };
    let app = router(state);
    let (stop, stopped) = watch::channel(false);
    let front = Front {
        max_connections: limits.max_connections,
        handshake_timeout: limits.handshake_timeout,
        header_timeout: limits.header_timeout,
        shutdown_grace: limits.shutdown_grace,
    };
    let task = tokio::spawn(async move {
        serve_https(listener, acceptor, app, front, stopped).await;
        store.close().await;
    });
    Ok(RunningServer { addr, stop, task })
}
