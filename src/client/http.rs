//! The HTTPS client of the audit store.
//!
//! TLS is rustls with the ring provider, TLS 1.2 and 1.3 only, trusting a
//! pin or a CA file ([`crate::tls::Trust`]). Every request except the public checkpoint is signed with
//! [`crate::httpsig::sign_request`].
//!
//! Nothing returned here is trusted: callers verify entries, proofs and
//! checkpoints themselves (see [`super::sync`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use time::OffsetDateTime;

use super::config::{ClientConfig, Trust};
use crate::digest::Digest;
use crate::keys::Signer;
use crate::ledger::Hash;

/// Why a request to the store did not produce a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or the TLS handshake failed (exit 3).
    #[error("cannot reach the store at {url}: {detail}\n  fix: {fix}")]
    Unreachable {
        url: String,
        detail: String,
        fix: &'static str,
    },
    /// The store answered with an error (4xx: a refusal; 5xx: its failure).
    #[error("the store answered {status} {code}: {message}\n  fix: {remediation}")]
    Refused {
        status: u16,
        code: String,
        message: String,
        remediation: String,
    },
    /// The answer was not what the API promises.
    #[error("the store at {url} sent a malformed answer: {problem}")]
    Protocol { url: String, problem: String },
    /// The TLS trust could not be set up from the configuration (exit 2).
    #[error("{path}: cannot use it as TLS trust: {problem}")]
    Trust { path: PathBuf, problem: String },
    #[error("cannot sign the request: {0}")]
    Sign(#[from] crate::httpsig::AuthError),
    /// Refused before sending: the store would refuse it as too large (exit 2).
    #[error(
        "the evidence file is {size} bytes; the store accepts at most {limit}\n  fix: compress it or split it into several files"
    )]
    TooLarge { size: usize, limit: usize },
}

impl StoreError {
    /// True when the store is down, unreachable or unavailable (exit 3).
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Refused { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

use crate::wire::{EntriesPage, ErrorBody, MAX_EVIDENCE_BYTES, MAX_PAGE, ProofAnswer};
pub use crate::wire::{EvidenceReceipt, PolicyView, Receipt};

/// The rustls client configuration for a trust setting.
pub fn tls_config(trust: &Trust) -> Result<rustls::ClientConfig, StoreError> {
    crate::tls::client_config(trust).map_err(|e| StoreError::Trust {
        path: e.path,
        problem: e.problem,
    })
}

/// A signed-request client of one store.
#[derive(Debug, Clone)]
pub struct StoreClient {
    base: String,
    http: reqwest::Client,
    signer: Arc<Signer>,
}

impl StoreClient {
    /// A client for the configured store, signing with `signer`.
    pub fn new(config: &ClientConfig, signer: Arc<Signer>) -> Result<Self, StoreError> {
        Self::with_trust(&config.store, &config.trust, signer)
    }

    pub fn with_trust(base: &str, trust: &Trust, signer: Arc<Signer>) -> Result<Self, StoreError> {
        let tls = tls_config(trust)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .https_only(true)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_mins(2))
            .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StoreError::Trust {
                path: PathBuf::from("(tls)"),
                problem: error_chain(&e),
            })?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            signer,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    /// The request for `url`, signed (RFC 9421) unless `public`.
    fn request(
        &self,
        method: &Method,
        url: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
        public: bool,
    ) -> Result<reqwest::RequestBuilder, StoreError> {
        let mut request = self.http.request(method.clone(), url);
        if !public {
            let headers = crate::httpsig::sign_request(
                &self.signer,
                method.as_str(),
                url,
                &body,
                OffsetDateTime::now_utc(),
            )?;
            for (name, value) in headers {
                request = request.header(name, value);
            }
        }
        if let Some(content_type) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        if !body.is_empty() || method == Method::POST || method == Method::PUT {
            request = request.body(body);
        }
        Ok(request)
    }

    /// `GET /v1/events`: the store's checkpoint stream, resumed after
    /// `last_seen` (the tree size of the last event seen). The events only
    /// say that the log grew; the caller syncs to verify it.
    pub async fn events(&self, last_seen: Option<u64>) -> Result<Events, StoreError> {
        let url = self.url("/v1/events");
        let mut request = self
            .request(&Method::GET, &url, Vec::new(), None, false)?
            // A stream stays open; it is re-opened after this, resuming.
            .timeout(EVENTS_REOPEN);
        if let Some(size) = last_seen {
            request = request.header("last-event-id", size.to_string());
        }
        let response = request.send().await.map_err(|e| unreachable(&url, &e))?;
        if !response.status().is_success() {
            return Err(self.protocol(
                "/v1/events",
                format!("the event stream answered {}", response.status()),
            ));
        }
        Ok(Events {
            url,
            response,
            buffer: Vec::new(),
            id: None,
        })
    }

    /// Sends one request; signs it unless `public`. Returns status and body.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
        public: bool,
    ) -> Result<(StatusCode, Vec<u8>), StoreError> {
        let url = self.url(path_and_query);
        let request = self.request(&method, &url, body, content_type, public)?;
        let response = request.send().await.map_err(|e| unreachable(&url, &e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unreachable(&url, &e))?
            .to_vec();
        if status.is_success() {
            return Ok((status, bytes));
        }
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => StoreError::Refused {
                status: status.as_u16(),
                code: body.error,
                message: body.message,
                remediation: if body.remediation.is_empty() {
                    "see the store's log".to_owned()
                } else {
                    body.remediation
                },
            },
            Err(_) => StoreError::Refused {
                status: status.as_u16(),
                code: status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_ascii_lowercase(),
                message: String::from_utf8_lossy(&bytes).chars().take(500).collect(),
                remediation: "the store sent no explanation; check its log".to_owned(),
            },
        })
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T, StoreError> {
        let (_, bytes) = self
            .send(Method::GET, path, Vec::new(), None, false)
            .await?;
        self.json(path, &bytes)
    }

    fn json<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        bytes: &[u8],
    ) -> Result<T, StoreError> {
        serde_json::from_slice(bytes).map_err(|e| self.protocol(path, e.to_string()))
    }

    fn protocol(&self, path: &str, problem: String) -> StoreError {
        StoreError::Protocol {
            url: self.url(path),
            problem,
        }
    }

    /// `GET /v1/checkpoint`: the signed checkpoint note bytes (unverified).
    pub async fn checkpoint(&self) -> Result<Vec<u8>, StoreError> {
        let (_, bytes) = self
            .send(Method::GET, "/v1/checkpoint", Vec::new(), None, true)
            .await?;
        Ok(bytes)
    }

    /// `POST /v1/entries`: submits an envelope (JSON bytes).
    pub async fn submit(&self, envelope: Vec<u8>) -> Result<Receipt, StoreError> {
        let path = "/v1/entries";
        let (status, bytes) = self
            .send(
                Method::POST,
                path,
                envelope,
                Some("application/json"),
                false,
            )
            .await?;
        let mut receipt: Receipt = self.json(path, &bytes)?;
        receipt.created = status == StatusCode::CREATED;
        Ok(receipt)
    }

    /// `GET /v1/entries?start=A&end=B` (end exclusive; at most one page):
    /// `(index, envelope bytes)` in order. Refuses gaps and reordering.
    pub async fn entries_page(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let path = format!("/v1/entries?start={start}&end={end}");
        let page: EntriesPage = self.get_json(&path).await?;
        let mut out = Vec::with_capacity(page.entries.len());
        for (offset, entry) in page.entries.into_iter().enumerate() {
            let want = start + offset as u64;
            if entry.index != want {
                return Err(self.protocol(
                    &path,
                    format!("entry {} arrived where {want} belongs", entry.index),
                ));
            }
            let bytes = crate::encoding::decode_standard(&entry.envelope)
                .map_err(|e| self.protocol(&path, format!("entry {want}: {e}")))?;
            out.push(bytes);
        }
        if out.is_empty() && end > start {
            return Err(self.protocol(&path, "an empty page for a non-empty range".to_owned()));
        }
        Ok(out)
    }

    /// Every entry in `[start, end)`, paged.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::new();
        let mut next = start;
        while next < end {
            let page_end = end.min(next.saturating_add(MAX_PAGE));
            let page = self.entries_page(next, page_end).await?;
            next += page.len() as u64;
            out.extend(page);
        }
        Ok(out)
    }

    /// `GET /v1/proofs/inclusion?index=I&size=N`
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        let path = format!("/v1/proofs/inclusion?index={index}&size={size}");
        let answer: ProofAnswer = self.get_json(&path).await?;
        answer.hashes().map_err(|p| self.protocol(&path, p))
    }

    /// `GET /v1/proofs/consistency?from=M&to=N`
    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, StoreError> {
        let path = format!("/v1/proofs/consistency?from={from}&to={to}");
        let answer: ProofAnswer = self.get_json(&path).await?;
        answer.hashes().map_err(|p| self.protocol(&path, p))
    }

    /// `GET /v1/policy` (unverified; sync checks it against the log).
    pub async fn policy(&self) -> Result<PolicyView, StoreError> {
        self.get_json("/v1/policy").await
    }

    /// `GET /v1/promotions`: the store's own fold, a convenience view,
    /// never used for trust.
    pub async fn promotions(&self) -> Result<crate::wire::PromotionList, StoreError> {
        self.get_json("/v1/promotions").await
    }

    /// `GET /v1/promotions/{id}`: a convenience view, never used for trust.
    pub async fn promotion(&self, id: &Digest) -> Result<crate::wire::PromotionView, StoreError> {
        self.get_json(&format!("/v1/promotions/{id}")).await
    }

    /// `PUT /v1/evidence/{digest}`: uploads an evidence blob.
    pub async fn put_evidence(
        &self,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<EvidenceReceipt, StoreError> {
        let limit = MAX_EVIDENCE_BYTES;
        if bytes.len() > limit {
            return Err(StoreError::TooLarge {
                size: bytes.len(),
                limit,
            });
        }
        let digest = Digest::of(&bytes);
        let path = format!("/v1/evidence/{digest}");
        let (_, answer) = self
            .send(Method::PUT, &path, bytes, Some(content_type), false)
            .await?;
        let receipt: EvidenceReceipt = self.json(&path, &answer)?;
        if receipt.digest != digest {
            return Err(self.protocol(
                &path,
                format!("stored as {} instead of {digest}", receipt.digest),
            ));
        }
        Ok(receipt)
    }

    /// `GET /v1/evidence/{digest}`, checked against the digest.
    pub async fn get_evidence(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let path = format!("/v1/evidence/{digest}");
        let (_, bytes) = self
            .send(Method::GET, &path, Vec::new(), None, false)
            .await?;
        if Digest::of(&bytes) != *digest {
            return Err(self.protocol(&path, "the blob does not match its digest".to_owned()));
        }
        Ok(bytes)
    }
}

/// The full cause chain of an error, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

fn unreachable(url: &str, error: &reqwest::Error) -> StoreError {
    let detail = error_chain(error);
    let fix = if detail.contains("configuration pins") {
        "the store's certificate changed or someone is in the middle; check the fingerprint \
         with whoever runs the store before updating `pin`"
    } else if detail.contains("certificate") || detail.contains("UnknownIssuer") {
        "check `ca`/`pin` in the client configuration"
    } else {
        "check that the store is running and that `store` in the client configuration is right"
    };
    StoreError::Unreachable {
        url: url.to_owned(),
        detail,
        fix,
    }
}

/// How long one event stream stays open before it is re-opened (resuming
/// from the last event id, so nothing is missed).
const EVENTS_REOPEN: Duration = Duration::from_mins(30);

/// The longest event the stream may send: a signed checkpoint note with
/// cosignatures is well under this.
const MAX_EVENT_BYTES: usize = 64 * 1024;

/// An open `/v1/events` stream.
///
/// Server-sent events are parsed here rather than with a crate: the store
/// sends only `id:`, `event:` and `data:` lines, and the available SSE
/// crates want a `Stream` of bytes, which reqwest gives only with another
/// feature and another dependency. This reads `id:` and dispatches on the
/// blank line, per the WHATWG event-stream format.
#[derive(Debug)]
pub struct Events {
    url: String,
    response: reqwest::Response,
    buffer: Vec<u8>,
    id: Option<u64>,
}

impl Events {
    /// The tree size of the next checkpoint event; `None` when the store
    /// closed the stream.
    pub async fn next_size(&mut self) -> Result<Option<u64>, StoreError> {
        loop {
            while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                let line = line.trim_end_matches(['\r', '\n']);
                if line.is_empty() {
                    if let Some(id) = self.id.take() {
                        return Ok(Some(id));
                    }
                } else if let Some(id) = line.strip_prefix("id:") {
                    self.id = id.trim().parse().ok();
                }
            }
            if self.buffer.len() > MAX_EVENT_BYTES {
                return Err(StoreError::Protocol {
                    url: self.url.clone(),
                    problem: format!("an event longer than {MAX_EVENT_BYTES} bytes"),
                });
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buffer.extend_from_slice(&chunk),
                Ok(None) => return Ok(None),
                Err(e) => return Err(unreachable(&self.url, &e)),
            }
        }
    }
}
