use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey};
use time::{Duration, OffsetDateTime};

use super::*;
use crate::keys::Signer;

const RFC_SEED: &str = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU";
const RFC_PUBLIC: &str = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs";
const RFC_SIGNATURE: &str =
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==";
const RFC_BASE: &str = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\
\"@method\": POST\n\
\"@path\": /foo\n\
\"@authority\": example.com\n\
\"content-type\": application/json\n\
\"content-length\": 18\n\
\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \
\"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";

fn rfc_key() -> SigningKey {
    let seed: [u8; 32] = URL_SAFE_NO_PAD
        .decode(RFC_SEED)
        .unwrap()
        .try_into()
        .unwrap();
    SigningKey::from_bytes(&seed)
}

#[test]
fn rfc9421_b26_ed25519_vector() {
    let key = rfc_key();
    assert_eq!(
        key.verifying_key().as_bytes().as_slice(),
        URL_SAFE_NO_PAD.decode(RFC_PUBLIC).unwrap()
    );
    let headers = |name: &str| match name {
        "date" => Some("Tue, 20 Apr 2021 02:07:55 GMT".to_owned()),
        "content-type" => Some("application/json".to_owned()),
        "content-length" => Some("18".to_owned()),
        _ => None,
    };
    let params = SignatureParams::new(&[
        "date",
        "@method",
        "@path",
        "@authority",
        "content-type",
        "content-length",
    ])
    .with_integer("created", 1_618_884_473)
    .unwrap()
    .with_string("keyid", "test-key-ed25519")
    .unwrap();
    let base = signature_base(
        "POST",
        "https://example.com/foo?param=Value&Pet=dog",
        &headers,
        &params,
    )
    .unwrap();
    assert_eq!(base, RFC_BASE);
    let signature = key.sign(base.as_bytes());
    assert_eq!(
        crate::encoding::encode(&signature.to_bytes()),
        RFC_SIGNATURE
    );
    let expected =
        Signature::from_slice(&crate::encoding::decode_standard(RFC_SIGNATURE).unwrap()).unwrap();
    key.verifying_key()
        .verify_strict(base.as_bytes(), &expected)
        .unwrap();
}

#[test]
fn rfc9530_content_digest() {
    let body = b"{\"hello\": \"world\"}";
    let value = content_digest(body);
    assert_eq!(
        value,
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    );
    check_content_digest(&value, body).unwrap();
    // Other algorithms alongside are ignored; sha-256 alone is required.
    check_content_digest(&format!("unixsum=:AAAA:, {value}"), body).unwrap();
    assert_eq!(
        check_content_digest(&value, b"{\"hello\": \"world!\"}"),
        Err(AuthError::DigestMismatch)
    );
    assert_eq!(
        check_content_digest("sha-512=:AAAA:", body),
        Err(AuthError::UnsupportedDigest)
    );
    assert_eq!(
        check_content_digest("sha-256=\"abc\"", body)
            .unwrap_err()
            .code(),
        "malformed_signature"
    );
    assert!(check_content_digest("not a dictionary ((", body).is_err());
}

#[test]
fn derived_components_are_normalized() {
    let uri = TargetUri::parse("HTTPS://Example.COM:443?x=1").unwrap();
    assert_eq!(uri.target_uri(), "https://example.com/?x=1");
    assert_eq!(uri.authority(), "example.com");
    assert_eq!(uri.path(), "/");
    assert_eq!(uri.query(), "?x=1");
    let uri = TargetUri::parse("https://127.0.0.1:8443/v1/entries").unwrap();
    assert_eq!(uri.authority(), "127.0.0.1:8443");
    assert_eq!(uri.query(), "?");
    assert!(TargetUri::parse("/v1/entries").is_err());
    assert!(TargetUri::parse("ftp://x/").is_err());
    assert!(TargetUri::parse("https://u@x/").is_err());
}

struct Fixture {
    signer: Signer,
    now: OffsetDateTime,
}

const URI: &str = "https://127.0.0.1:8443/v1/entries?start=0&end=10";
const BODY: &[u8] = b"{\"payload\":\"...\"}";

impl Fixture {
    fn new() -> Self {
        Self {
            signer: Signer::generate("alice"),
            now: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        }
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        sign_request(&self.signer, "POST", URI, BODY, self.now).unwrap()
    }

    fn verify_with(
        &self,
        headers: &[(&'static str, String)],
        method: &str,
        uri: &str,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<VerifiedRequest, AuthError> {
        let id = self.signer.public().key_id().to_string();
        let key = *self.signer.public().verifying_key();
        verify_request(
            method,
            uri,
            |name| {
                headers
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.clone())
            },
            body,
            |keyid| (keyid == id).then_some(key),
            now,
            Duration::minutes(5),
        )
    }

    fn verify(&self, headers: &[(&'static str, String)]) -> Result<VerifiedRequest, AuthError> {
        self.verify_with(headers, "POST", URI, BODY, self.now)
    }
}

fn replace(headers: &mut [(&'static str, String)], name: &str, value: &str) {
    for (n, v) in headers.iter_mut() {
        if *n == name {
            *v = value.to_owned();
        }
    }
}

#[test]
fn signed_request_round_trips() {
    let f = Fixture::new();
    let headers = f.headers();
    let input = &headers
        .iter()
        .find(|(n, _)| *n == "signature-input")
        .unwrap()
        .1;
    assert!(input.starts_with(
        "tollgate=(\"@method\" \"@target-uri\" \"content-digest\");created=1700000000;nonce=\""
    ));
    assert!(input.ends_with(&format!(
        ";keyid=\"{}\";alg=\"ed25519\"",
        f.signer.public().key_id()
    )));
    let verified = f.verify(&headers).unwrap();
    assert_eq!(verified.keyid, f.signer.public().key_id().to_string());
    assert_eq!(verified.created, 1_700_000_000);
    assert_eq!(verified.nonce.len(), 32);
    // The server rebuilds the URI with the default port spelled out or not:
    // normalization makes both the same.
    let headers = sign_request(
        &f.signer,
        "GET",
        "https://store.example/v1/policy",
        b"",
        f.now,
    )
    .unwrap();
    f.verify_with(
        &headers,
        "GET",
        "https://store.example:443/v1/policy",
        b"",
        f.now,
    )
    .unwrap();
    // Two signatures of the same request use different nonces.
    assert_ne!(f.verify(&f.headers()).unwrap().nonce, verified.nonce);
}

#[test]
fn tampering_is_refused() {
    let f = Fixture::new();
    let headers = f.headers();
    assert_eq!(
        f.verify_with(&headers, "POST", URI, b"{\"payload\":\"!!!\"}", f.now),
        Err(AuthError::DigestMismatch)
    );
    assert_eq!(
        f.verify_with(&headers, "PUT", URI, BODY, f.now),
        Err(AuthError::BadSignature)
    );
    assert_eq!(
        f.verify_with(
            &headers,
            "POST",
            "https://127.0.0.1:8443/v1/entries",
            BODY,
            f.now
        ),
        Err(AuthError::BadSignature)
    );
    // A new body with a matching digest but the old signature.
    let mut swapped = headers.clone();
    replace(&mut swapped, "content-digest", &content_digest(b"other"));
    assert_eq!(
        f.verify_with(&swapped, "POST", URI, b"other", f.now),
        Err(AuthError::BadSignature)
    );
    // Flipping a byte of the signature.
    let mut flipped = headers.clone();
    let sig = &headers.iter().find(|(n, _)| *n == "signature").unwrap().1;
    let mut bytes =
        crate::encoding::decode_standard(&sig["tollgate=:".len()..sig.len() - 1]).unwrap();
    bytes[0] ^= 1;
    replace(
        &mut flipped,
        "signature",
        &format!("tollgate=:{}:", crate::encoding::encode(&bytes)),
    );
    assert_eq!(f.verify(&flipped), Err(AuthError::BadSignature));
}

#[test]
fn stale_and_future_requests_are_refused() {
    let f = Fixture::new();
    let headers = f.headers();
    let late = f.now + Duration::minutes(6);
    let err = f
        .verify_with(&headers, "POST", URI, BODY, late)
        .unwrap_err();
    assert!(matches!(
        err,
        AuthError::Skew {
            skew: 360,
            max: 300,
            ..
        }
    ));
    assert_eq!((err.status(), err.code()), (401, "clock_skew"));
    let early = f.now - Duration::minutes(6);
    assert!(matches!(
        f.verify_with(&headers, "POST", URI, BODY, early),
        Err(AuthError::Skew { .. })
    ));
    f.verify_with(&headers, "POST", URI, BODY, f.now + Duration::minutes(5))
        .unwrap();
}

#[test]
fn unknown_keys_are_refused() {
    let f = Fixture::new();
    let other = Fixture {
        signer: Signer::generate("mallory"),
        now: f.now,
    };
    let err = f.verify(&other.headers()).unwrap_err();
    assert_eq!(
        err,
        AuthError::UnknownKey(other.signer.public().key_id().to_string())
    );
    assert_eq!((err.status(), err.code()), (401, "unknown_key"));
}

fn sign_custom(f: &Fixture, params: &SignatureParams, body: &[u8]) -> Vec<(&'static str, String)> {
    let digest = content_digest(body);
    let lookup = |name: &str| (name == "content-digest").then(|| digest.clone());
    let base = signature_base("POST", URI, &lookup, params).unwrap();
    let sig = f.signer.signing_key().sign(base.as_bytes());
    vec![
        ("content-digest", digest.clone()),
        (
            "signature-input",
            format!("tollgate={}", params.serialize().unwrap()),
        ),
        (
            "signature",
            format!("tollgate=:{}:", crate::encoding::encode(&sig.to_bytes())),
        ),
    ]
}

#[test]
fn required_components_and_params_are_enforced() {
    let f = Fixture::new();
    let id = f.signer.public().key_id().to_string();
    let full = |covered: &[&str]| {
        SignatureParams::new(covered)
            .with_integer("created", f.now.unix_timestamp())
            .unwrap()
            .with_string("nonce", "n1")
            .unwrap()
            .with_string("keyid", &id)
            .unwrap()
    };
    // Without alg is fine; the required set is what matters.
    f.verify(&sign_custom(&f, &full(&REQUIRED_COMPONENTS), BODY))
        .unwrap();
    let headers = sign_custom(&f, &full(&["@method", "content-digest"]), BODY);
    let err = f.verify(&headers).unwrap_err();
    assert_eq!(err, AuthError::MissingComponent("@target-uri".to_owned()));
    assert_eq!(err.status(), 400);
    let headers = sign_custom(&f, &full(&["@method", "@target-uri"]), BODY);
    assert_eq!(
        f.verify(&headers),
        Err(AuthError::MissingComponent("content-digest".to_owned()))
    );
    let no_nonce = SignatureParams::new(&REQUIRED_COMPONENTS)
        .with_integer("created", f.now.unix_timestamp())
        .unwrap()
        .with_string("keyid", &id)
        .unwrap();
    assert_eq!(
        f.verify(&sign_custom(&f, &no_nonce, BODY)),
        Err(AuthError::MissingParam("nonce"))
    );
    let rsa = full(&REQUIRED_COMPONENTS)
        .with_string("alg", "rsa-pss-sha512")
        .unwrap();
    assert_eq!(
        f.verify(&sign_custom(&f, &rsa, BODY)),
        Err(AuthError::UnsupportedAlg("rsa-pss-sha512".to_owned()))
    );
    let expired = full(&REQUIRED_COMPONENTS)
        .with_integer("expires", f.now.unix_timestamp() - 1)
        .unwrap();
    assert_eq!(
        f.verify(&sign_custom(&f, &expired, BODY)),
        Err(AuthError::Expired(f.now.unix_timestamp() - 1))
    );
    let twice = full(&["@method", "@target-uri", "content-digest", "@method"]);
    assert_eq!(
        f.verify(&sign_custom_unchecked(&twice)).unwrap_err().code(),
        "malformed_signature"
    );
}

fn sign_custom_unchecked(params: &SignatureParams) -> Vec<(&'static str, String)> {
    vec![
        ("content-digest", content_digest(BODY)),
        (
            "signature-input",
            format!("tollgate={}", params.serialize().unwrap()),
        ),
        (
            "signature",
            format!("tollgate=:{}:", crate::encoding::encode(&[0u8; 64])),
        ),
    ]
}

#[test]
fn missing_and_malformed_headers_are_refused() {
    let f = Fixture::new();
    let headers = f.headers();
    for name in ["signature-input", "signature", "content-digest"] {
        let without: Vec<_> = headers
            .iter()
            .filter(|(n, _)| *n != name)
            .cloned()
            .collect();
        let err = f.verify(&without).unwrap_err();
        assert_eq!(err, AuthError::MissingHeader(name));
        assert_eq!((err.status(), err.code()), (400, "missing_header"));
    }
    let mut bad = headers.clone();
    replace(&mut bad, "signature", "tollgate=:AAAA:");
    assert_eq!(f.verify(&bad).unwrap_err().status(), 400);
    let mut bad = headers.clone();
    replace(&mut bad, "signature-input", "tollgate=\"not a list\"");
    assert_eq!(f.verify(&bad).unwrap_err().code(), "malformed_signature");
    let mut relabelled = headers;
    replace(&mut relabelled, "signature", "other=:AAAA:");
    assert_eq!(
        f.verify(&relabelled).unwrap_err().code(),
        "malformed_signature"
    );
}

#[test]
fn header_map_lookup_combines_field_lines() {
    use axum::http::{HeaderMap, HeaderValue};
    let mut map = HeaderMap::new();
    map.append("x-list", HeaderValue::from_static("a"));
    map.append("x-list", HeaderValue::from_static("b"));
    map.insert("content-digest", HeaderValue::from_static("sha-256=:AA==:"));
    let lookup = header_lookup(&map);
    assert_eq!(lookup("x-list").as_deref(), Some("a, b"));
    assert_eq!(lookup("content-digest").as_deref(), Some("sha-256=:AA==:"));
    assert_eq!(lookup("signature"), None);
}
