//! The HTTPS front the store and the witness share: TLS over TCP with
//! hyper's HTTP/1.1, at most so many connections at once, accept errors
//! backed off instead of spun on, handshake and header timeouts, and a
//! graceful stop. What is served is the caller's axum router.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

/// Why a TLS front could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}; choose another --listen address")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

/// Binds `listen` for a TLS front with `identity`: the listener, the TLS
/// acceptor, and the address actually bound (for port 0).
pub async fn bind(
    identity: &crate::tls::Identity,
    listen: std::net::SocketAddr,
) -> Result<(TcpListener, TlsAcceptor, std::net::SocketAddr), ServeError> {
    let acceptor = TlsAcceptor::from(identity.server_config()?);
    let bind_error = |source| ServeError::Bind {
        addr: listen,
        source,
    };
    let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    Ok((listener, acceptor, addr))
}

/// How a TLS front serves connections.
#[derive(Debug, Clone, Copy)]
pub struct Front {
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub header_timeout: Duration,
    pub shutdown_grace: Duration,
}

/// Serves `app` over TLS on `listener` until `stopped` changes, for the
/// store and the witness alike: at most `max_connections` at once (the rest
/// wait in the kernel's backlog), accept errors back off instead of
/// spinning, handshakes and request headers are timed out, and a stop lets
/// requests in flight finish within the grace period.
pub async fn serve_https(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    front: Front,
    mut stopped: watch::Receiver<bool>,
) {
    let connections = Arc::new(Semaphore::new(
        front.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let graceful = GracefulShutdown::new();
    let mut backoff = AcceptBackoff::default();
    loop {
        // A connection slot first: at the limit, new connections wait in
        // the kernel's backlog rather than costing memory here.
        let slot = tokio::select! {
            _ = stopped.changed() => break,
            slot = Arc::clone(&connections).acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let tcp = match accepted {
            Ok((tcp, _peer)) => {
                backoff.reset();
                tcp
            }
            Err(error) => {
                // Out of file descriptors (or any other accept error): wait
                // before trying again instead of spinning.
                let wait = backoff.next();
                tracing::warn!(%error, wait_ms = wait.as_millis(), "cannot accept a connection; waiting before trying again");
                drop(slot);
                tokio::select! {
                    _ = stopped.changed() => break,
                    () = tokio::time::sleep(wait) => continue,
                }
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(app.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _slot = slot;
            let Ok(Ok(tls)) =
                tokio::time::timeout(front.handshake_timeout, acceptor.accept(tcp)).await
            else {
                return;
            };
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(front.header_timeout)
                .serve_connection(TokioIo::new(tls), service);
            let _ = watcher.watch(connection).await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(front.shutdown_grace, graceful.shutdown()).await;
}

/// Waits after failed accepts: 10 ms, doubling to at most 1 s, back to the
/// start after a success.
#[derive(Debug, Default)]
struct AcceptBackoff {
    failures: u32,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    fn next(&mut self) -> Duration {
        let wait = Self::FIRST
            .saturating_mul(1u32 << self.failures.min(10))
            .min(Self::MAX);
        self.failures = self.failures.saturating_add(1);
        wait
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_backoff_doubles_from_10ms_to_1s_and_resets() {
        let mut backoff = AcceptBackoff::default();
        let waits: Vec<u128> = (0..9).map(|_| backoff.next().as_millis()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.next(), Duration::from_millis(10));
    }
}
