//! The HTTPS client of the audit store.
//!
//! TLS is rustls with the ring provider, TLS 1.2 and 1.3 only, trusting
//! either the CA certificates of a PEM file or exactly one pinned end-entity
//! certificate (by the SHA-256 of its DER; the handshake signature is still
//! checked). Every request except the public checkpoint is signed with
//! [`crate::httpsig::sign_request`].
//!
//! Nothing returned here is trusted: callers verify entries, proofs and
//! checkpoints themselves (see [`super::sync`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use super::config::{ClientConfig, Trust, pin_text};
use crate::digest::Digest;
use crate::keys::Signer;
use crate::ledger::{Hash, hash_from_slice};

/// The largest page `GET /v1/entries` returns.
pub const PAGE_SIZE: u64 = 1000;

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

/// The receipt for `POST /v1/entries`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Receipt {
    pub index: u64,
    pub entry_id: Digest,
    pub inclusion_proof: Vec<String>,
    pub checkpoint: String,
    /// False when the entry was already in the log (HTTP 200).
    #[serde(skip)]
    pub created: bool,
}

impl Receipt {
    /// The inclusion proof hashes, decoded.
    pub fn proof(&self) -> Result<Vec<Hash>, String> {
        decode_hashes(&self.inclusion_proof)
    }
}

/// `GET /v1/policy`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PolicyView {
    pub version: u64,
    pub digest: Digest,
    pub document: String,
    /// Log indexes of the accepted policy statements, in order.
    pub entries: Vec<u64>,
    /// The genesis policy document (version 1), where the chain starts.
    pub genesis: String,
    /// The log's checkpoint verifier key, as `tollgate serve` printed it
    /// (what `tollgate join` writes into a new client's configuration).
    pub log_vkey: String,
}

/// `PUT /v1/evidence/{digest}`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EvidenceReceipt {
    pub digest: Digest,
    pub size: u64,
}

#[derive(Deserialize)]
struct EntriesPage {
    entries: Vec<PageEntry>,
}

#[derive(Deserialize)]
struct PageEntry {
    index: u64,
    envelope: String,
}

#[derive(Deserialize)]
struct ProofAnswer {
    proof: Vec<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
    #[serde(default)]
    remediation: String,
}

fn decode_hashes(lines: &[String]) -> Result<Vec<Hash>, String> {
    lines
        .iter()
        .map(|b64| {
            let bytes = crate::encoding::decode_standard(b64)
                .map_err(|e| format!("proof hash {b64:?}: {e}"))?;
            hash_from_slice(&bytes).map_err(|e| format!("proof hash {b64:?}: {e}"))
        })
        .collect()
}

/// Accepts exactly one end-entity certificate, by the SHA-256 of its DER,
/// and checks handshake signatures with the ring provider's algorithms.
#[derive(Debug)]
struct PinnedCertificate {
    pin: [u8; 32],
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if seen == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the store's certificate is {} but the configuration pins {}",
                pin_text(&seen),
                pin_text(&self.pin)
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The rustls client configuration for a trust setting.
pub fn tls_config(trust: &Trust) -> Result<rustls::ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let trust_error = |path: &Path, problem: String| StoreError::Trust {
        path: path.to_path_buf(),
        problem,
    };
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| trust_error(Path::new("(tls)"), e.to_string()))?;
    let config = match trust {
        Trust::Ca(path) => {
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| trust_error(path, e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| trust_error(path, e.to_string()))?;
            if certs.is_empty() {
                return Err(trust_error(
                    path,
                    "no CERTIFICATE blocks in the PEM file".to_owned(),
                ));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| trust_error(path, e.to_string()))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Pin(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCertificate {
                pin: *pin,
                algorithms: provider_algorithms(&provider),
            }))
            .with_no_client_auth(),
    };
    Ok(config)
}

fn provider_algorithms(provider: &CryptoProvider) -> WebPkiSupportedAlgorithms {
    provider.signature_verification_algorithms
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
        let mut request = self.http.request(method.clone(), &url);
        if !public {
            let headers = crate::httpsig::sign_request(
                &self.signer,
                method.as_str(),
                &url,
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
            let page_end = end.min(next.saturating_add(PAGE_SIZE));
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
        decode_hashes(&answer.proof).map_err(|p| self.protocol(&path, p))
    }

    /// `GET /v1/proofs/consistency?from=M&to=N`
    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, StoreError> {
        let path = format!("/v1/proofs/consistency?from={from}&to={to}");
        let answer: ProofAnswer = self.get_json(&path).await?;
        decode_hashes(&answer.proof).map_err(|p| self.protocol(&path, p))
    }

    /// `GET /v1/policy` (unverified; sync checks it against the log).
    pub async fn policy(&self) -> Result<PolicyView, StoreError> {
        self.get_json("/v1/policy").await
    }

    /// `GET /v1/promotions` or `/v1/promotions/{id}`: convenience views,
    /// never used for trust.
    pub async fn promotions(&self, id: Option<&Digest>) -> Result<serde_json::Value, StoreError> {
        match id {
            Some(id) => self.get_json(&format!("/v1/promotions/{id}")).await,
            None => self.get_json("/v1/promotions").await,
        }
    }

    /// `PUT /v1/evidence/{digest}`: uploads an evidence blob.
    pub async fn put_evidence(
        &self,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<EvidenceReceipt, StoreError> {
        let limit = crate::store::MAX_EVIDENCE_BYTES;
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
