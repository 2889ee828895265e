#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `tollgate serve`'s HTTPS front against hostile and broken clients
//! (DESIGN §4, §8): an in-process server on 127.0.0.1 with a self-signed
//! certificate, a real HTTPS client that pins it and signs requests per
//! RFC 9421 (so requests can be broken on purpose), and raw TLS or TCP where
//! byte-level control is needed.
//!
//! Every refusal must be a 4xx with a JSON `{error, message, remediation}`
//! body, must leave the log unchanged (same checkpoint size and root), and
//! the server must still serve the next good request. The append pipeline's
//! refusals run on SQLite and on PostgreSQL (a fresh schema per test, from
//! `common::pg`: skipped with one line when PostgreSQL does not answer,
//! unless `TOLLGATE_REQUIRE_POSTGRES=1`).

use crate::common;

use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use rustls_pki_types::ServerName;
use serde_json::Value;
use sqlx::Connection as _;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use common::{ORIGIN, World};
use tollgate::client::config::Trust;
use tollgate::client::http::tls_config;
use tollgate::digest::Digest;
use tollgate::keys::Signer;
use tollgate::ledger::Hash;
use tollgate::statement::{GateResult, GateStatus, Predicate, Statement};
use tollgate::store::server::{Limits, RunningServer};
use tollgate::store::{DatabaseUrl, Store, StoreConfig};

/// One test's database: a temporary SQLite file or a fresh PostgreSQL schema.
struct Db {
    database: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Db {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            database: DatabaseUrl::Sqlite(dir.path().join("data").join("store.db")),
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh schema, or `None` when PostgreSQL does not answer (see
    /// `common::pg`).
    fn postgres() -> Option<Self> {
        let url = common::pg::url()?;
        let schema = format!("tgh_{}", &tollgate::statement::new_nonce()[..16]);
        Some(Self {
            database: DatabaseUrl::parse(&url).with_schema(&schema),
            _dir: None,
            pg: Some((url, schema)),
        })
    }

    async fn cleanup(pg: Option<(String, String)>) {
        if let Some((url, schema)) = pg {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

/// Runs a scenario, drops the PostgreSQL schema whatever happened, then
/// reports the scenario's panic if any.
async fn run<F, Fut>(db: Db, scenario: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let pg = db.pg.clone();
    let result = tokio::spawn(scenario(db)).await;
    Db::cleanup(pg).await;
    if let Err(error) = result {
        if error.is_panic() {
            std::panic::resume_unwind(error.into_panic());
        }
        panic!("scenario did not finish: {error}");
    }
}

/// A running in-process store and a client that pins its certificate.
struct Harness {
    world: World,
    store: Store,
    server: Option<RunningServer>,
    addr: SocketAddr,
    base: String,
    http: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
    /// Envelopes of `world` already sent to the store.
    sent: usize,
    _db: Db,
    _tls_dir: tempfile::TempDir,
}

/// A response: status, headers and body.
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

impl Harness {
    async fn start(db: Db, limits: Limits) -> Self {
        let world = World::new();
        let log = Signer::generate(ORIGIN);
        let store = Store::open(StoreConfig::new(
            db.database.clone(),
            world.policy.clone(),
            log,
        ))
        .await
        .unwrap();
        let tls_dir = tempfile::tempdir().unwrap();
        let (identity, created) = tollgate::tls::self_signed(tls_dir.path(), &[]).unwrap();
        assert!(created);
        let server = tollgate::store::server::start(
            store.clone(),
            &identity,
            "127.0.0.1:0".parse().unwrap(),
            limits,
        )
        .await
        .unwrap();
        let addr = server.addr;
        let trust = Trust::Pin(*identity.fingerprint().as_bytes());
        let tls = Arc::new(tls_config(&trust).unwrap());
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .https_only(true)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            world,
            store,
            server: Some(server),
            addr,
            base: format!("https://{addr}"),
            http,
            tls,
            sent: 0,
            _db: db,
            _tls_dir: tls_dir,
        }
    }

    async fn sqlite() -> Self {
        Self::start(Db::sqlite(), Limits::default()).await
    }

    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    /// The RFC 9421 headers for a request by `who`, signed at `at`.
    fn sign_at(
        &self,
        signer: &Signer,
        method: &Method,
        path_and_query: &str,
        body: &[u8],
        at: OffsetDateTime,
    ) -> Vec<(&'static str, String)> {
        // Signed as the client sends it (the URL parser resolves `%2e%2e`).
        let url = reqwest::Url::parse(&self.url(path_and_query)).unwrap();
        tollgate::httpsig::sign_request(signer, method.as_str(), url.as_str(), body, at).unwrap()
    }

    fn signer(&self, who: &str) -> &Signer {
        &self.world.signers[who]
    }

    /// Sends a request with exactly these headers and body.
    async fn send_with(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self.http.request(method, self.url(path_and_query));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.body(body).send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap().to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A request signed by `who`, now.
    async fn send_as(
        &self,
        who: &str,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> Answer {
        let headers = self.sign_at(
            self.signer(who),
            &method,
            path_and_query,
            &body,
            OffsetDateTime::now_utc(),
        );
        self.send_with(method, path_and_query, &headers, body).await
    }

    /// A request signed by ci-main, now.
    async fn send(&self, method: Method, path_and_query: &str, body: Vec<u8>) -> Answer {
        self.send_as("ci-main", method, path_and_query, body).await
    }

    async fn submit(&self, envelope: Vec<u8>) -> Answer {
        self.send(Method::POST, "/v1/entries", envelope).await
    }

    /// Submits every envelope of the world not yet sent; all must land.
    async fn flush(&mut self) {
        while self.sent < self.world.envelopes.len() {
            let answer = self.submit(self.world.envelopes[self.sent].to_json()).await;
            assert_eq!(
                answer.status,
                StatusCode::CREATED,
                "{}",
                String::from_utf8_lossy(&answer.body)
            );
            assert_eq!(answer.json()["index"], self.sent as u64);
            self.sent += 1;
        }
    }

    /// The world's clock set to the store's (the store checks statement times
    /// against its real clock).
    fn now(&mut self) {
        self.world.clock = OffsetDateTime::now_utc();
    }

    /// The log's size and root as the store holds them.
    fn head(&self) -> (u64, Hash) {
        let cp = self.store.checkpoint();
        let cp = cp.checkpoint();
        (cp.size, cp.root)
    }

    /// The public checkpoint over HTTPS: the server still serves.
    async fn checkpoint_text(&self) -> Vec<u8> {
        let response = self
            .http
            .get(self.url("/v1/checkpoint"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.unwrap().to_vec()
    }

    /// Asserts a refusal: the status, the JSON error code, non-empty message
    /// and remediation; the log unchanged; the server still answering.
    async fn refused(&self, answer: &Answer, status: u16, code: &str, what: &str) -> Value {
        let before = self.head();
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        assert_eq!(answer.status.as_u16(), status, "{what}: {text}");
        let json = answer.json();
        assert_eq!(json["error"], code, "{what}: {text}");
        for field in ["message", "remediation"] {
            assert!(
                json[field].as_str().is_some_and(|s| !s.trim().is_empty()),
                "{what}: `{field}` is empty: {text}"
            );
        }
        let served = self.checkpoint_text().await;
        assert_eq!(self.head(), before, "{what}: the log changed");
        assert_eq!(served, self.store.checkpoint().as_bytes(), "{what}");
        json
    }

    /// Like [`Harness::refused`] for a status range (4xx) and any code.
    async fn refused_4xx(&self, answer: &Answer, allowed: &[u16], what: &str) -> Value {
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        assert!(
            allowed.contains(&answer.status.as_u16()),
            "{what}: status {} not in {allowed:?}: {text}",
            answer.status
        );
        let code = answer.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.refused(answer, answer.status.as_u16(), &code, what)
            .await
    }

    /// A new dev promotion (and its gate) lands: the server still works.
    async fn still_accepts(&mut self) {
        self.now();
        let artifact = Digest::of(tollgate::statement::new_nonce().as_bytes());
        let id = self
            .world
            .request("ci-main", "still", artifact, None, "dev");
        self.now();
        self.world.gate(id, "unit-tests", GateStatus::Pass);
        let before = self.head().0;
        self.flush().await;
        assert_eq!(self.head().0, before + 2);
    }

    /// Opens a TLS connection to the server (pinned certificate).
    async fn tls_stream(&self) -> tokio_rustls::client::TlsStream<TcpStream> {
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        TlsConnector::from(Arc::clone(&self.tls))
            .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
            .await
            .unwrap()
    }

    /// Writes `bytes` on a fresh TLS connection and reads until the server
    /// closes it (or 10 s pass).
    async fn raw(&self, bytes: &[u8]) -> Vec<u8> {
        let mut stream = self.tls_stream().await;
        stream.write_all(bytes).await.unwrap();
        stream.flush().await.unwrap();
        read_all(&mut stream, Duration::from_secs(10)).await
    }

    /// A raw signed request (by ci-main) with `Connection: close`; the path is
    /// sent exactly as given.
    fn raw_request(&self, method: &str, path: &str, extra: &str, body: &[u8]) -> Vec<u8> {
        let headers = tollgate::httpsig::sign_request(
            self.signer("ci-main"),
            method,
            &self.url(path),
            body,
            OffsetDateTime::now_utc(),
        )
        .unwrap();
        let mut text = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-length: {}\r\n{extra}",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            let _ = write!(text, "{name}: {value}\r\n");
        }
        text.push_str("\r\n");
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(body);
        bytes
    }
}

async fn read_all<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, limit: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) | Err(_) => return out,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Parses a raw HTTP/1.1 response into an [`Answer`] (no chunked bodies:
/// the server answers errors with a content-length).
fn parse_raw(bytes: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
    let mut lines = head.lines();
    let status_line = lines.next().unwrap();
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    let status: u16 = status_line[9..12].parse().unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        headers.append(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    Answer {
        status: StatusCode::from_u16(status).unwrap(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

// ---------------------------------------------------------------------------
// 1. Refusals of the append pipeline, on both databases.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_refusals_sqlite() {
    run(Db::sqlite(), pipeline_refusals).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_refusals_postgres() {
    if let Some(db) = Db::postgres() {
        run(db, pipeline_refusals).await;
    }
}

async fn pipeline_refusals(db: Db) {
    let mut h = Harness::start(db, Limits::default()).await;
    let artifact = Digest::of(b"app-hostile");
    h.now();
    h.world.through("app", artifact, "dev");
    h.now();
    let promotion = h
        .world
        .request("alice", "app", artifact, Some("dev"), "staging");
    h.now();
    h.world.gate(promotion, "unit-tests", GateStatus::Pass);
    h.now();
    let erin = h.world.approval_statement("release-manager", promotion);
    let erin_envelope = h.world.sign("erin", &erin);
    h.world.submit_envelope(erin_envelope);
    h.flush().await;
    let size = h.head().0;
    assert_eq!(size, 6);
    h.now();

    // --- Request authentication (RFC 9421) ---

    // A request signed by a key the policy does not know.
    let mallory = Signer::generate("mallory");
    let headers = h.sign_at(
        &mallory,
        &Method::GET,
        "/v1/policy",
        b"",
        OffsetDateTime::now_utc(),
    );
    let a = h
        .send_with(Method::GET, "/v1/policy", &headers, Vec::new())
        .await;
    h.refused(&a, 401, "unknown_key", "unknown request key")
        .await;

    // The same signed request twice: the nonce is replayed.
    let body = h.world.envelopes[0].to_json();
    let headers = h.sign_at(
        h.signer("ci-main"),
        &Method::POST,
        "/v1/entries",
        &body,
        OffsetDateTime::now_utc(),
    );
    let first = h
        .send_with(Method::POST, "/v1/entries", &headers, body.clone())
        .await;
    assert_eq!(first.status, StatusCode::OK, "already in the log");
    let a = h
        .send_with(Method::POST, "/v1/entries", &headers, body.clone())
        .await;
    h.refused(&a, 401, "replayed_nonce", "replayed request nonce")
        .await;

    // `created` more than 5 minutes away, either way.
    for skew in [time::Duration::minutes(6), time::Duration::minutes(-6)] {
        let headers = h.sign_at(
            h.signer("ci-main"),
            &Method::GET,
            "/v1/policy",
            b"",
            OffsetDateTime::now_utc() + skew,
        );
        let a = h
            .send_with(Method::GET, "/v1/policy", &headers, Vec::new())
            .await;
        h.refused(&a, 401, "clock_skew", "request created skew")
            .await;
    }

    // A body that is not the one the content-digest (and signature) covers.
    let headers = h.sign_at(
        h.signer("ci-main"),
        &Method::POST,
        "/v1/entries",
        b"{}",
        OffsetDateTime::now_utc(),
    );
    let a = h
        .send_with(Method::POST, "/v1/entries", &headers, body.clone())
        .await;
    h.refused(&a, 400, "content_digest_mismatch", "wrong content-digest")
        .await;

    // No signature headers at all, or only some of them.
    let a = h
        .send_with(Method::POST, "/v1/entries", &[], body.clone())
        .await;
    h.refused(&a, 400, "missing_header", "no signature headers")
        .await;
    let headers = h.sign_at(
        h.signer("ci-main"),
        &Method::POST,
        "/v1/entries",
        &body,
        OffsetDateTime::now_utc(),
    );
    for drop in ["signature", "signature-input", "content-digest"] {
        let partial: Vec<_> = headers
            .iter()
            .filter(|(name, _)| *name != drop)
            .cloned()
            .collect();
        let a = h
            .send_with(Method::POST, "/v1/entries", &partial, body.clone())
            .await;
        h.refused(&a, 400, "missing_header", drop).await;
    }

    // --- Entries the policy refuses ---

    // An entry signed by a key the policy does not list.
    let stranger = mallory.sign_statement(
        h.world
            .request_statement("app", Digest::of(b"mallory"), None, "dev")
            .to_payload(),
    );
    let a = h.submit(stranger.to_json()).await;
    h.refused(&a, 403, "unknown_signer", "entry by unknown key")
        .await;

    // Alice (release manager) signing a gate result: only ci may.
    let gate = Statement::about(
        "app",
        artifact,
        Predicate::GateResult(GateResult {
            promotion,
            gate: "unit-tests".into(),
            status: GateStatus::Pass,
            summary: "all green, trust me".into(),
            measurements: Vec::new(),
            evidence: Vec::new(),
            remediation: None,
            produced_at: OffsetDateTime::now_utc(),
            evaluator: None,
        }),
    );
    let a = h.submit(h.world.sign("alice", &gate).to_json()).await;
    h.refused(&a, 403, "forbidden", "alice signs a gate result")
        .await;

    // Carol (oncall) claiming the security role.
    let carol = h
        .world
        .sign("carol", &h.world.approval_statement("security", promotion));
    let a = h.submit(carol.to_json()).await;
    h.refused(&a, 403, "forbidden", "carol claims security")
        .await;

    // Alice approving the promotion she requested.
    let own = h.world.sign(
        "alice",
        &h.world.approval_statement("release-manager", promotion),
    );
    let a = h.submit(own.to_json()).await;
    let json = h.refused(&a, 403, "forbidden", "self-approval").await;
    assert!(
        json["message"].as_str().unwrap().contains("cannot approve"),
        "{json}"
    );

    // A gate result for a promotion that is not in the log.
    let ghost = Statement::about(
        "app",
        artifact,
        Predicate::GateResult(GateResult {
            promotion: Digest::of(b"no such promotion"),
            gate: "unit-tests".into(),
            status: GateStatus::Pass,
            summary: "ok".into(),
            measurements: Vec::new(),
            evidence: Vec::new(),
            remediation: None,
            produced_at: OffsetDateTime::now_utc(),
            evaluator: None,
        }),
    );
    let a = h.submit(h.world.sign("ci-main", &ghost).to_json()).await;
    let json = h
        .refused(&a, 422, "invalid_entry", "unknown promotion")
        .await;
    assert!(
        json["message"].as_str().unwrap().contains("not in the log"),
        "{json}"
    );

    // Erin's decision nonce again, on a fresh decision.
    let Predicate::Decision(mut replay) = erin.predicate.clone() else {
        unreachable!()
    };
    replay.rationale = "again".into();
    replay.issued_at = OffsetDateTime::now_utc();
    let replayed = Statement::about("app", artifact, Predicate::Decision(replay));
    let a = h.submit(h.world.sign("erin", &replayed).to_json()).await;
    let json = h
        .refused(&a, 422, "invalid_entry", "replayed decision nonce")
        .await;
    assert!(
        json["message"].as_str().unwrap().contains("replay"),
        "{json}"
    );

    // A decision issued more than 5 minutes from the store's clock.
    for skew in [time::Duration::minutes(10), time::Duration::minutes(-10)] {
        h.world.clock = OffsetDateTime::now_utc() + skew;
        let skewed = h.world.sign(
            "grace",
            &h.world.approval_statement("release-manager", promotion),
        );
        let a = h.submit(skewed.to_json()).await;
        h.refused(&a, 422, "clock_skew", "decision clock skew")
            .await;
    }
    h.now();

    // A decision bound to gate results that are not the current ones.
    let Predicate::Decision(mut stale) = h
        .world
        .approval_statement("release-manager", promotion)
        .predicate
    else {
        unreachable!()
    };
    stale.bound.gate_results = Digest::of(b"what I saw last week");
    let stale = Statement::about("app", artifact, Predicate::Decision(stale));
    let a = h.submit(h.world.sign("grace", &stale).to_json()).await;
    let json = h.refused(&a, 422, "invalid_entry", "stale binding").await;
    assert!(
        json["message"].as_str().unwrap().contains("gate results"),
        "{json}"
    );

    // The same entry twice: 200 with the same index, nothing appended.
    let before = h.head();
    for (index, envelope) in [(0, &h.world.envelopes[0]), (5, &h.world.envelopes[5])] {
        let a = h.submit(envelope.to_json()).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.json()["index"], index);
        assert_eq!(a.json()["entry_id"], envelope.entry_id().to_string());
    }
    assert_eq!(h.head(), before);

    // After all of that, a valid decision still lands at the next index.
    h.now();
    let grace = h.world.sign(
        "grace",
        &h.world.approval_statement("release-manager", promotion),
    );
    let a = h.submit(grace.to_json()).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json()["index"], size);
    h.stop().await;
}

// ---------------------------------------------------------------------------
// 2. Hostile input (SQLite).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_are_refused() {
    let mut h = Harness::sqlite().await;
    h.still_accepts().await;

    let cases: Vec<(&str, Vec<u8>, u16, &str)> =
        vec![
        ("malformed JSON", b"{not json".to_vec(), 400, "malformed_entry"),
        ("empty body", Vec::new(), 400, "malformed_entry"),
        ("not UTF-8", vec![0xff, 0xfe, 0x00, 0x7b], 400, "malformed_entry"),
        ("a JSON number", b"42".to_vec(), 400, "malformed_entry"),
        ("a JSON array", b"[1,2,3]".to_vec(), 400, "malformed_entry"),
        (
            "an object that is not an envelope",
            br#"{"hello":"world"}"#.to_vec(),
            400,
            "malformed_entry",
        ),
        (
            "an envelope with no signatures",
            br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#
                .to_vec(),
            400,
            "malformed_entry",
        ),
        (
            "200-deep array nesting",
            format!("{}{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
            400,
            "malformed_entry",
        ),
        (
            "200-deep object nesting",
            format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200)).into_bytes(),
            400,
            "malformed_entry",
        ),
        (
            "60 000-deep nesting",
            "[".repeat(60_000).into_bytes(),
            400,
            "malformed_entry",
        ),
    ];
    for (what, body, status, code) in cases {
        let a = h.submit(body).await;
        h.refused(&a, status, code, what).await;
    }

    // A valid envelope whose payload is deeply nested JSON, signed by ci.
    let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let envelope = h.world.signers["ci-main"].sign_statement(nested.into_bytes());
    let a = h.submit(envelope.to_json()).await;
    h.refused_4xx(&a, &[400, 422], "deep payload").await;

    // Larger than the 128 KiB body limit, with a Content-Length...
    let big = vec![b' '; 129 * 1024];
    let a = h.submit(big.clone()).await;
    h.refused(&a, 413, "too_large", "oversized with content-length")
        .await;
    // ... and chunked, without one.
    let signed = h.raw_request("POST", "/v1/entries", "", &big);
    let head = String::from_utf8_lossy(&signed[..signed.len() - big.len()]).replace(
        &format!("content-length: {}\r\n", big.len()),
        "transfer-encoding: chunked\r\n",
    );
    let mut request = head.into_bytes();
    for chunk in big.chunks(16 * 1024) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let a = parse_raw(&h.raw(&request).await);
    h.refused(&a, 413, "too_large", "oversized, chunked").await;
    // Between the envelope limit (64 KiB) and the body limit: the store's own.
    let a = h.submit(vec![b' '; 70_000]).await;
    h.refused(&a, 413, "too_large", "over the envelope limit")
        .await;

    h.still_accepts().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_declared_bodies_are_refused_before_reading() {
    let mut h = Harness::sqlite().await;
    // A Content-Length far over the limit (more than twice: the server reads
    // and discards bodies up to that) is refused from the headers alone,
    // without waiting for the body, which is never sent.
    for (path, length) in [
        ("/v1/entries".to_owned(), 2 * 128 * 1024 + 1),
        (
            format!("/v1/evidence/{}", Digest::of(b"huge")),
            2 * 8 * 1024 * 1024 + 1,
        ),
        (
            format!("/v1/evidence/{}", Digest::of(b"huge")),
            usize::MAX / 2,
        ),
    ] {
        let method = if path == "/v1/entries" { "POST" } else { "PUT" };
        let mut request = h.raw_request(method, &path, "", b"");
        // Replace the signed content-length with the hostile one.
        let text = String::from_utf8(request.clone()).unwrap();
        request = text
            .replace(
                "content-length: 0\r\n",
                &format!("content-length: {length}\r\n"),
            )
            .into_bytes();
        let a = parse_raw(&h.raw(&request).await);
        h.refused(&a, 413, "too_large", &format!("{path} length {length}"))
            .await;
    }
    h.still_accepts().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_uploads_are_verified_and_bounded() {
    let mut h = Harness::sqlite().await;

    // Over 8 MiB, streamed in full.
    let huge = vec![7u8; 8 * 1024 * 1024 + 1];
    let path = format!("/v1/evidence/{}", Digest::of(&huge));
    let a = h.send(Method::PUT, &path, huge).await;
    h.refused(&a, 413, "too_large", "huge evidence").await;

    // A body that does not hash to the digest in the path.
    let path = format!("/v1/evidence/{}", Digest::of(b"what I claim"));
    let a = h.send(Method::PUT, &path, b"what I send".to_vec()).await;
    h.refused_4xx(&a, &[400, 422], "evidence digest mismatch")
        .await;
    let a = h.send(Method::GET, &path, Vec::new()).await;
    h.refused(&a, 404, "not_found", "mismatched blob not stored")
        .await;

    // Someone whose roles do not upload evidence.
    let path = format!("/v1/evidence/{}", Digest::of(b"alice's blob"));
    let a = h
        .send_as("alice", Method::PUT, &path, b"alice's blob".to_vec())
        .await;
    h.refused(&a, 403, "forbidden", "alice uploads evidence")
        .await;

    // A good upload, and it reads back.
    let path = format!("/v1/evidence/{}", Digest::of(b"junit"));
    let a = h.send(Method::PUT, &path, b"junit".to_vec()).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let a = h.send(Method::GET, &path, Vec::new()).await;
    assert_eq!(
        (a.status, a.body.as_slice()),
        (StatusCode::OK, &b"junit"[..])
    );
    h.still_accepts().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_path_tricks_never_read_files() {
    let mut h = Harness::sqlite().await;
    let hex = Digest::of(b"x").to_hex();
    // Sent through reqwest (which keeps percent-escapes as they are).
    let tricks = [
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_owned(),
        "..%2f..%2fetc%2fpasswd".to_owned(),
        "%2e%2e".to_owned(),
        format!("sha256:{}", &hex[..63]),
        format!("sha256:{hex}0"),
        format!("sha256:{}", hex.to_uppercase()),
        format!("SHA256:{hex}"),
        format!("sha512:{hex}{hex}"),
        format!("sha256:{}%00", &hex[..63]),
        format!("sha256:{hex}%00"),
        "%00".to_owned(),
        "%ff%fe".to_owned(),
        "sha256:".to_owned(),
        format!("sha256:{hex}%2f..%2f..%2fetc%2fpasswd"),
        "~%2f.ssh%2fid_ed25519".to_owned(),
    ];
    for trick in &tricks {
        let path = format!("/v1/evidence/{trick}");
        for method in [Method::GET, Method::PUT] {
            let a = h.send(method.clone(), &path, b"x".to_vec()).await;
            h.refused_4xx(&a, &[400, 404], &format!("{method} {path}"))
                .await;
        }
        let path = format!("/v1/promotions/{trick}");
        let a = h.send(Method::GET, &path, Vec::new()).await;
        h.refused_4xx(&a, &[400, 404], &format!("GET {path}")).await;
    }
    // Sent byte for byte: dot segments and a raw NUL are not normalised away.
    for path in [
        "/v1/evidence/../../../../etc/passwd".to_owned(),
        "/v1/evidence/..".to_owned(),
        "/v1/evidence/./sha256".to_owned(),
        "/v1/evidence//etc/passwd".to_owned(),
        format!("/v1/evidence/sha256:{hex}/../../x"),
    ] {
        let raw = h.raw(&h.raw_request("GET", &path, "", b"")).await;
        let a = parse_raw(&raw);
        h.refused_4xx(&a, &[400, 404], &format!("raw GET {path}"))
            .await;
        assert!(!String::from_utf8_lossy(&raw).contains("root:"), "{path}");
    }
    // A NUL byte in the request target is not even HTTP: the connection is
    // refused by the parser, with no file read and no 5xx.
    let mut request = h.raw_request("GET", "/v1/evidence/sha256:ab", "", b"");
    let at = request.windows(2).position(|w| w == b"ab").unwrap();
    request[at + 1] = 0;
    let raw = h.raw(&request).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(
        raw.is_empty() || text.starts_with("HTTP/1.1 4"),
        "NUL in the target: {text}"
    );
    h.still_accepts().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_query_strings_are_400() {
    let mut h = Harness::sqlite().await;
    h.still_accepts().await;
    h.still_accepts().await;
    let size = h.head().0;
    assert_eq!(size, 4);
    let bad = [
        "/v1/entries".to_owned(),
        "/v1/entries?".to_owned(),
        "/v1/entries?start=0".to_owned(),
        "/v1/entries?end=1".to_owned(),
        "/v1/entries?start=-1&end=2".to_owned(),
        "/v1/entries?start=0&end=-2".to_owned(),
        "/v1/entries?start=a&end=2".to_owned(),
        "/v1/entries?start=0&end=2.5".to_owned(),
        "/v1/entries?start=0&end=1e3".to_owned(),
        "/v1/entries?start=0&end=18446744073709551616".to_owned(),
        "/v1/entries?start=18446744073709551615&end=18446744073709551615".to_owned(),
        "/v1/entries?start=2&end=2".to_owned(),
        "/v1/entries?start=3&end=1".to_owned(),
        format!("/v1/entries?start=0&end={}", size + 1),
        "/v1/entries?start=0&end=1001".to_owned(),
        "/v1/entries?start=0&end=5000000".to_owned(),
        "/v1/entries?start=0&end=2&start=1".to_owned(),
        "/v1/entries?start=0&end=2&extra=1".to_owned(),
        "/v1/entries?start=%00&end=2".to_owned(),
        "/v1/entries?start=%ff&end=2".to_owned(),
        "/v1/proofs/inclusion".to_owned(),
        "/v1/proofs/inclusion?index=0".to_owned(),
        "/v1/proofs/inclusion?index=-1&size=2".to_owned(),
        "/v1/proofs/inclusion?index=x&size=2".to_owned(),
        "/v1/proofs/inclusion?index=2&size=2".to_owned(),
        "/v1/proofs/inclusion?index=3&size=1".to_owned(),
        "/v1/proofs/inclusion?index=0&size=0".to_owned(),
        format!("/v1/proofs/inclusion?index=0&size={}", size + 1),
        "/v1/proofs/inclusion?index=0&size=18446744073709551615".to_owned(),
        "/v1/proofs/consistency".to_owned(),
        "/v1/proofs/consistency?from=1".to_owned(),
        "/v1/proofs/consistency?from=-1&to=2".to_owned(),
        "/v1/proofs/consistency?from=one&to=2".to_owned(),
        "/v1/proofs/consistency?from=3&to=2".to_owned(),
        format!("/v1/proofs/consistency?from=1&to={}", size + 1),
        "/v1/proofs/consistency?from=1&to=18446744073709551615".to_owned(),
    ];
    for path in &bad {
        let a = h.send(Method::GET, path, Vec::new()).await;
        h.refused_4xx(&a, &[400], path).await;
    }
    // The good ones still answer.
    for path in [
        format!("/v1/entries?start=0&end={size}"),
        format!("/v1/proofs/inclusion?index=0&size={size}"),
        format!("/v1/proofs/consistency?from=1&to={size}"),
    ] {
        let a = h.send(Method::GET, &path, Vec::new()).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
    }
    h.still_accepts().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_wrong_methods() {
    let mut h = Harness::sqlite().await;
    for path in [
        "/",
        "/v1",
        "/v1/",
        "/v2/entries",
        "/v1/entries/0",
        "/v1/proofs",
        "/v1/evidence",
        "/v1/evidence/",
        "/V1/ENTRIES",
        "/.env",
        "/v1/entries%2f..",
    ] {
        let a = h.send(Method::GET, path, Vec::new()).await;
        h.refused(&a, 404, "not_found", path).await;
    }
    // Unsigned, an unknown route is refused before routing (400 or 404).
    let a = h.send_with(Method::GET, "/nope", &[], Vec::new()).await;
    h.refused_4xx(&a, &[400, 401, 404], "unsigned unknown route")
        .await;

    let digest = Digest::of(b"x").to_string();
    let wrong = [
        (Method::DELETE, "/v1/entries".to_owned()),
        (Method::PUT, "/v1/entries".to_owned()),
        (Method::PATCH, "/v1/entries".to_owned()),
        (Method::POST, "/v1/checkpoint".to_owned()),
        (Method::DELETE, "/v1/checkpoint".to_owned()),
        (Method::POST, "/v1/policy".to_owned()),
        (
            Method::POST,
            "/v1/proofs/inclusion?index=0&size=1".to_owned(),
        ),
        (Method::DELETE, format!("/v1/evidence/{digest}")),
        (Method::POST, format!("/v1/evidence/{digest}")),
        (Method::POST, "/v1/promotions".to_owned()),
        (Method::POST, "/v1/events".to_owned()),
    ];
    for (method, path) in &wrong {
        let a = h.send(method.clone(), path, Vec::new()).await;
        h.refused(&a, 405, "method_not_allowed", &format!("{method} {path}"))
            .await;
        assert!(
            a.headers.get("allow").is_some(),
            "{method} {path}: no Allow"
        );
    }
    h.still_accepts().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_the_tls_port_gets_no_http() {
    let mut h = Harness::sqlite().await;
    for request in [
        &b"GET /v1/checkpoint HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"[..],
        &b"POST /v1/entries HTTP/1.0\r\ncontent-length: 2\r\n\r\n{}"[..],
        &b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..],
        &[0u8; 64][..],
    ] {
        let mut tcp = TcpStream::connect(h.addr).await.unwrap();
        tcp.write_all(request).await.unwrap();
        let back = read_all(&mut tcp, Duration::from_secs(10)).await;
        assert!(
            !back.starts_with(b"HTTP/"),
            "plain HTTP was answered: {:?}",
            String::from_utf8_lossy(&back)
        );
    }
    h.still_accepts().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_stalled_clients_do_not_block_others() {
    let limits = Limits {
        handshake_timeout: Duration::from_millis(500),
        header_timeout: Duration::from_millis(500),
        body_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let mut h = Harness::start(Db::sqlite(), limits).await;

    // Connections that never complete the TLS handshake, held open.
    let mut stalled = Vec::new();
    for _ in 0..32 {
        let mut tcp = TcpStream::connect(h.addr).await.unwrap();
        tcp.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
        stalled.push(tcp);
    }
    // Others are served meanwhile.
    h.still_accepts().await;
    // And the stalled ones are closed by the handshake timeout.
    for mut tcp in stalled {
        let back = read_all(&mut tcp, Duration::from_secs(5)).await;
        assert!(!back.starts_with(b"HTTP/"));
    }

    // Headers, then a body trickled slower than the body timeout.
    let body = h.world.envelopes[0].to_json();
    let request = h.raw_request("POST", "/v1/entries", "", &body);
    let split = request.len() - body.len();
    let started = std::time::Instant::now();
    let mut stream = h.tls_stream().await;
    stream.write_all(&request[..split]).await.unwrap();
    let mut answer = Vec::new();
    for byte in &body[..20] {
        if stream.write_all(&[*byte]).await.is_err() || stream.flush().await.is_err() {
            break;
        }
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
    }
    answer.extend(read_all(&mut stream, Duration::from_secs(5)).await);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the slow client held the server"
    );
    if !answer.is_empty() {
        let a = parse_raw(&answer);
        h.refused(&a, 408, "request_timeout", "trickled body").await;
    }

    // Headers that never finish.
    let mut stream = h.tls_stream().await;
    stream
        .write_all(b"GET /v1/policy HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let back = read_all(&mut stream, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&back);
    assert!(
        back.is_empty() || text.starts_with("HTTP/1.1 408"),
        "unfinished headers: {text}"
    );

    h.still_accepts().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let limits = Limits {
        max_connections: 2,
        header_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let mut h = Harness::start(Db::sqlite(), limits).await;
    // Two connections that never send a request hold both slots...
    let mut idle = vec![h.tls_stream().await, h.tls_stream().await];
    // ...so the next client waits in the backlog instead of being refused,
    // and is served once the header timeout closes the idle ones.
    h.still_accepts().await;
    for stream in &mut idle {
        let back = read_all(stream, Duration::from_secs(5)).await;
        assert!(
            !back.starts_with(b"HTTP/1.1 2"),
            "an idle connection got an answer"
        );
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_per_key_is_429_with_retry_after() {
    let limits = Limits {
        rate_per_key: 1,
        ..Limits::default()
    };
    let mut h = Harness::start(Db::sqlite(), limits).await;
    // The burst is two requests; the third within the second is refused.
    let mut limited = None;
    for _ in 0..5 {
        let a = h
            .send_as("alice", Method::GET, "/v1/policy", Vec::new())
            .await;
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(a);
            break;
        }
        assert_eq!(a.status, StatusCode::OK);
    }
    let a = limited.expect("no 429 within five quick requests");
    h.refused(&a, 429, "rate_limited", "rate limit").await;
    let retry = a.headers.get("retry-after").expect("retry-after");
    assert!(retry.to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // Other keys are not affected.
    let a = h
        .send_as("bob", Method::GET, "/v1/policy", Vec::new())
        .await;
    assert_eq!(a.status, StatusCode::OK);
    // And the limited key is served again after waiting.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let a = h
        .send_as("alice", Method::GET, "/v1/policy", Vec::new())
        .await;
    assert_eq!(a.status, StatusCode::OK);
    h.still_accepts().await;
    h.stop().await;
}

// ---------------------------------------------------------------------------
// 3. Memory: the real binary against 200 uploads by strangers.

/// A process's resident memory in KiB (`VmRSS` of /proc/<pid>/status).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Connects to a served store over TLS, trusting its pinned certificate.
async fn served_tls(
    addr: &str,
    tls: &Arc<rustls::ClientConfig>,
) -> Option<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await.ok()?;
    TlsConnector::from(Arc::clone(tls))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .ok()
}

#[test]
fn strangers_uploading_at_once_neither_grow_the_store_nor_block_it() {
    use common::served::{Db as ServedDb, Served};
    const HOSTILE: usize = 200;
    const DECLARED: usize = 6 * 1024 * 1024;
    const SENT: usize = 1024 * 1024;
    const LIMIT_KIB: u64 = 64 * 1024;

    let world = World::new();
    let s = Served::start(&world, ServedDb::Sqlite);
    let pid = s.pid();
    let request = |n: usize| {
        let digest = Digest::of(format!("web-{n}").as_bytes()).to_string();
        s.expect(
            0,
            "ci-main",
            &[
                "promote",
                "request",
                "--service",
                "web",
                "--version",
                "1",
                "--digest",
                &digest,
                "--to",
                "dev",
            ],
        );
    };
    request(0);
    let baseline = rss_kib(pid);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let trust = Trust::Pin(tollgate::client::config::parse_pin(&s.pin).unwrap());
    let tls = Arc::new(tls_config(&trust).unwrap());
    let addr = s.addr.clone();
    let stranger = Signer::generate("mallory");
    let (sent_tx, mut sent_rx) = tokio::sync::mpsc::channel::<()>(HOSTILE);
    let (release, released) = tokio::sync::watch::channel(false);
    let mut hostile = Vec::new();
    for n in 0..HOSTILE {
        let (tls, addr, sent_tx, mut released) = (
            Arc::clone(&tls),
            addr.clone(),
            sent_tx.clone(),
            released.clone(),
        );
        // Half sign with a key no policy knows, half do not sign at all.
        let path = format!(
            "/v1/evidence/{}",
            Digest::of(format!("junk-{n}").as_bytes())
        );
        let signed = (n % 2 == 0).then(|| {
            tollgate::httpsig::sign_request(
                &stranger,
                "PUT",
                &format!("https://{addr}{path}"),
                &vec![0u8; DECLARED],
                OffsetDateTime::now_utc(),
            )
            .unwrap()
        });
        hostile.push(runtime.spawn(async move {
            let Some(mut stream) = served_tls(&addr, &tls).await else {
                let _ = sent_tx.send(()).await;
                return;
            };
            let mut head = format!(
                "PUT {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/octet-stream\r\ncontent-length: {DECLARED}\r\n"
            );
            for (name, value) in signed.unwrap_or_default() {
                let _ = write!(head, "{name}: {value}\r\n");
            }
            head.push_str("\r\n");
            let chunk = vec![0u8; 64 * 1024];
            let mut ok = stream.write_all(head.as_bytes()).await.is_ok();
            let mut written = 0;
            while ok && written < SENT {
                ok = stream.write_all(&chunk).await.is_ok() && stream.flush().await.is_ok();
                written += chunk.len();
            }
            let _ = sent_tx.send(()).await;
            // Hold the connection until the honest client was served.
            let _ = released.wait_for(|r| *r).await;
            drop(stream);
        }));
    }
    drop(sent_tx);
    runtime.block_on(async {
        for _ in 0..HOSTILE {
            sent_rx.recv().await.unwrap();
        }
    });
    let during = rss_kib(pid);
    // An honest, signed client is served while the strangers hold on.
    request(1);
    let after = rss_kib(pid);
    let _ = release.send(true);
    runtime.block_on(async {
        for task in hostile {
            task.await.unwrap();
        }
    });
    let growth = during.max(after).saturating_sub(baseline);
    eprintln!(
        "store RSS: baseline {baseline} KiB, with {HOSTILE} hostile uploads {during} KiB, after an honest request {after} KiB; growth {growth} KiB"
    );
    assert!(
        growth <= LIMIT_KIB,
        "the store grew by {growth} KiB under {HOSTILE} hostile uploads (limit {LIMIT_KIB} KiB)"
    );
}
