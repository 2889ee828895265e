//! A deploy-hook receiver for tests: a real HTTPS server (self-signed,
//! pinned by the store) that records every notification it is sent. It can
//! be told to fail the first N requests to exercise the store's retries.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio_rustls::TlsAcceptor;

/// One notification as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: Vec<u8>,
    pub signature: String,
    pub event: String,
}

#[derive(Clone, Default)]
struct Inbox {
    received: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
}

/// A running receiver.
pub struct Receiver {
    pub url: String,
    pub pin: String,
    inbox: Inbox,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    pub fn start(fail_first: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (identity, _) = tollgate::tls::self_signed(dir.path(), &[]).unwrap();
        let pin = identity.fingerprint().to_string();
        let acceptor = TlsAcceptor::from(identity.server_config().unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let inbox = Inbox {
            received: Arc::default(),
            fail_first: Arc::new(AtomicUsize::new(fail_first)),
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(inbox.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let service = TowerToHyperService::new(app.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(tls), service)
                            .await;
                    }
                });
            }
        });
        Self {
            url: format!("https://{addr}/hook"),
            pin,
            inbox,
            _dir: dir,
            _runtime: runtime,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// Waits (bounded) until `count` notifications arrived.
    pub fn wait_for(&self, count: usize, seconds: u64) -> Vec<Received> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let received = self.received();
            if received.len() >= count || std::time::Instant::now() > deadline {
                return received;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

async fn receive(
    State(inbox): State<Inbox>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let failing = inbox.fail_first.load(Ordering::SeqCst);
    if failing > 0 {
        inbox.fail_first.store(failing - 1, Ordering::SeqCst);
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    inbox.received.lock().unwrap().push(Received {
        body: body.to_vec(),
        signature: header(tollgate::store::hooks::SIGNATURE_HEADER),
        event: header("tollgate-event"),
    });
    StatusCode::NO_CONTENT
}
