//! Interop: the independent `httpsig` crate (RFC 9421) signs a request the
//! way tollgate's client would, and `tollgate::httpsig::verify_request`
//! accepts it. The `httpsig` crate builds the signature base from component
//! lines the caller supplies, so the component values below are written out;
//! the base layout, the `@signature-params` serialization, the header
//! encoding and the ed25519 signature are all the other crate's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use httpsig::prelude::message_component::{HttpMessageComponent, HttpMessageComponentId};
use httpsig::prelude::{AlgorithmName, HttpSignatureBase, HttpSignatureParams, SecretKey};
use time::{Duration, OffsetDateTime};
use tollgate::httpsig::{content_digest, verify_request};
use tollgate::keys::Signer;

#[test]
fn requests_signed_by_the_httpsig_crate_verify() {
    let ours = Signer::generate("interop");
    let seed = ours.signing_key().to_bytes();
    let theirs = SecretKey::from_bytes(&AlgorithmName::Ed25519, &seed).unwrap();
    let keyid = ours.public().key_id().to_string();

    let uri = "https://127.0.0.1:8443/v1/entries";
    let body = br#"{"payloadType":"application/vnd.in-toto+json"}"#;
    let digest = content_digest(body);
    let created: u64 = 1_700_000_000;

    let ids: Vec<HttpMessageComponentId> = ["\"@method\"", "\"@target-uri\"", "\"content-digest\""]
        .iter()
        .map(|s| HttpMessageComponentId::try_from(*s).unwrap())
        .collect();
    let mut params = HttpSignatureParams::try_new(&ids).unwrap();
    params
        .set_created(created)
        .set_nonce("0123456789abcdef")
        .set_alg(&AlgorithmName::Ed25519)
        .set_keyid(&keyid);
    let lines: Vec<HttpMessageComponent> = [
        "\"@method\": POST".to_owned(),
        format!("\"@target-uri\": {uri}"),
        format!("\"content-digest\": {digest}"),
    ]
    .iter()
    .map(|line| HttpMessageComponent::try_from(line.as_str()).unwrap())
    .collect();
    let base = HttpSignatureBase::try_new(&lines, &params).unwrap();
    let headers = base
        .build_signature_headers(&theirs, Some("tollgate"))
        .unwrap();
    let signature_input = headers.signature_input_header_value();
    let signature = headers.signature_header_value();

    let key = *ours.public().verifying_key();
    let verified = verify_request(
        "POST",
        uri,
        |name| match name {
            "signature-input" => Some(signature_input.clone()),
            "signature" => Some(signature.clone()),
            "content-digest" => Some(digest.clone()),
            _ => None,
        },
        body,
        |id| (id == keyid).then_some(key),
        OffsetDateTime::from_unix_timestamp(1_700_000_010).unwrap(),
        Duration::minutes(5),
    )
    .unwrap();
    assert_eq!(verified.nonce, "0123456789abcdef");
    assert_eq!(verified.created, 1_700_000_000);

    // The converse: our signature base is byte-identical to the other
    // crate's for the same components and parameters. (Its verifier cannot
    // check our own headers directly: it re-serializes parameters in a fixed
    // order, created;nonce;alg;keyid, while RFC 9421 §3.2 keeps the received
    // order and tollgate sends created;nonce;keyid;alg.)
    let ours_params =
        tollgate::httpsig::SignatureParams::new(&["@method", "@target-uri", "content-digest"])
            .with_integer("created", 1_700_000_000)
            .unwrap()
            .with_string("nonce", "0123456789abcdef")
            .unwrap()
            .with_string("alg", "ed25519")
            .unwrap()
            .with_string("keyid", &keyid)
            .unwrap();
    let lookup = |n: &str| (n == "content-digest").then(|| digest.clone());
    let our_base = tollgate::httpsig::signature_base("POST", uri, &lookup, &ours_params).unwrap();
    assert_eq!(our_base, base.to_string());
}

/// The other crate's headers, sent to a running store over HTTPS, are
/// accepted like tollgate's own client's.
#[test]
fn a_running_store_accepts_requests_signed_by_the_httpsig_crate() {
    let world = common::World::new();
    let served = common::served::Served::start(&world, common::served::Db::Sqlite);
    let bob = tollgate::keys::file::read(&served.path().join("people/bob/key")).unwrap();
    let theirs =
        SecretKey::from_bytes(&AlgorithmName::Ed25519, &bob.signing_key().to_bytes()).unwrap();
    let keyid = bob.public().key_id().to_string();
    let uri = format!("https://{}/v1/policy", served.addr);
    let digest = content_digest(b"");
    let created = u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap();

    let ids: Vec<HttpMessageComponentId> = ["\"@method\"", "\"@target-uri\"", "\"content-digest\""]
        .iter()
        .map(|s| HttpMessageComponentId::try_from(*s).unwrap())
        .collect();
    let mut params = HttpSignatureParams::try_new(&ids).unwrap();
    params
        .set_created(created)
        .set_nonce(&tollgate::statement::new_nonce())
        .set_alg(&AlgorithmName::Ed25519)
        .set_keyid(&keyid);
    let lines: Vec<HttpMessageComponent> = [
        "\"@method\": GET".to_owned(),
        format!("\"@target-uri\": {uri}"),
        format!("\"content-digest\": {digest}"),
    ]
    .iter()
    .map(|line| HttpMessageComponent::try_from(line.as_str()).unwrap())
    .collect();
    let headers = HttpSignatureBase::try_new(&lines, &params)
        .unwrap()
        .build_signature_headers(&theirs, Some("tollgate"))
        .unwrap();

    let pin = tollgate::client::config::parse_pin(&served.pin).unwrap();
    let tls =
        tollgate::client::http::tls_config(&tollgate::client::config::Trust::Pin(pin)).unwrap();
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let response = runtime
        .block_on(
            http.get(&uri)
                .header("content-digest", &digest)
                .header("signature-input", headers.signature_input_header_value())
                .header("signature", headers.signature_header_value())
                .send(),
        )
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = runtime.block_on(response.json()).unwrap();
    assert_eq!(body["version"], 1);
}
