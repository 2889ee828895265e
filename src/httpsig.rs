//! HTTP Message Signatures (RFC 9421) with ed25519, and `Content-Digest`
//! (RFC 9530): how a client signs its requests to the audit store and how the
//! store checks them.
//!
//! A tollgate request carries three headers:
//!
//! ```text
//! content-digest:  sha-256=:<base64 of sha256(body)>:
//! signature-input: tollgate=("@method" "@target-uri" "content-digest");created=<unix>;nonce="<hex>";keyid="<hex key id>";alg="ed25519"
//! signature:       tollgate=:<base64 of the ed25519 signature>:
//! ```
//!
//! The signature base is built exactly as RFC 9421 §2.5 says; the
//! `@signature-params` line is the sfv serialization of the parsed inner
//! list, so a received `Signature-Input` is re-serialized canonically.
//!
//! Target URIs are normalized before use on both sides (lowercase scheme and
//! host, default port dropped, empty path as `/`): the client signs the URL
//! it dials and the server rebuilds it from `Host` and the request path, and
//! the two agree without either side guessing the other's spelling.
//!
//! Nonce replay tracking is the verifier's caller's job: [`verify_request`]
//! returns the nonce and `created` so the server can remember them for the
//! skew window.

use ed25519_dalek::{Signature, Signer as _, VerifyingKey};
use sfv::{BareItem, Dictionary, InnerList, Item, Key, ListEntry, Parameters, Parser};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::keys::Signer;

/// The dictionary label of tollgate's signature.
pub const LABEL: &str = "tollgate";
/// The only signature algorithm accepted.
pub const ALG: &str = "ed25519";
/// Components every tollgate request signature must cover.
pub const REQUIRED_COMPONENTS: [&str; 3] = ["@method", "@target-uri", "content-digest"];
/// Parameters every tollgate request signature must carry.
pub const REQUIRED_PARAMS: [&str; 3] = ["created", "nonce", "keyid"];

/// Why a signed request was refused. Each kind maps to an HTTP status, a
/// stable machine code and a remediation the client can show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the request has no `{0}` header")]
    MissingHeader(&'static str),
    #[error("the `{field}` header is malformed: {reason}")]
    Malformed { field: &'static str, reason: String },
    #[error("the signature does not cover `{0}`")]
    MissingComponent(String),
    #[error("the signature has no `{0}` parameter")]
    MissingParam(&'static str),
    #[error("covered component `{0}` is not present in the request")]
    AbsentComponent(String),
    #[error("signature algorithm `{0}` is not supported; tollgate uses ed25519")]
    UnsupportedAlg(String),
    #[error("the content-digest has no sha-256 value")]
    UnsupportedDigest,
    #[error("the body does not match its content-digest")]
    DigestMismatch,
    #[error("no enrolled key has id {0}")]
    UnknownKey(String),
    #[error("the signature does not verify")]
    BadSignature,
    #[error(
        "the request was signed at {created}, {skew}s away from the server's clock (limit {max}s)"
    )]
    Skew { created: i64, skew: i64, max: i64 },
    #[error("the signature expired at {0}")]
    Expired(i64),
}

impl AuthError {
    /// The HTTP status the server answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingHeader(_)
            | Self::Malformed { .. }
            | Self::MissingComponent(_)
            | Self::MissingParam(_)
            | Self::AbsentComponent(_)
            | Self::UnsupportedAlg(_)
            | Self::UnsupportedDigest
            | Self::DigestMismatch => 400,
            Self::UnknownKey(_) | Self::BadSignature | Self::Skew { .. } | Self::Expired(_) => 401,
        }
    }

    /// A stable machine-readable code (the `error` field of the JSON body).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingHeader(_) => "missing_header",
            Self::Malformed { .. } => "malformed_signature",
            Self::MissingComponent(_) => "missing_component",
            Self::MissingParam(_) => "missing_signature_param",
            Self::AbsentComponent(_) => "absent_component",
            Self::UnsupportedAlg(_) => "unsupported_alg",
            Self::UnsupportedDigest => "unsupported_digest",
            Self::DigestMismatch => "content_digest_mismatch",
            Self::UnknownKey(_) => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::Skew { .. } => "clock_skew",
            Self::Expired(_) => "signature_expired",
        }
    }

    /// What the user can do about it.
    pub fn remediation(&self) -> &'static str {
        match self {
            Self::MissingHeader(_)
            | Self::Malformed { .. }
            | Self::MissingComponent(_)
            | Self::MissingParam(_)
            | Self::AbsentComponent(_)
            | Self::UnsupportedAlg(_)
            | Self::UnsupportedDigest => {
                "use the tollgate client (or sign per RFC 9421 with ed25519 covering \
                 \"@method\" \"@target-uri\" \"content-digest\" with created, nonce and keyid)"
            }
            Self::DigestMismatch => {
                "the body changed in transit or was signed before it was final; send it again"
            }
            Self::UnknownKey(_) => {
                "your key is not in the accepted policy; ask an admin to add it \
                 (`tollgate key show` prints it) and submit the new policy"
            }
            Self::BadSignature => {
                "check that the client uses the key named by keyid and that nothing \
                 between you and the store rewrites the request"
            }
            Self::Skew { .. } | Self::Expired(_) => {
                "synchronise this machine's clock (NTP) and retry"
            }
        }
    }
}

fn malformed(field: &'static str, reason: impl Into<String>) -> AuthError {
    AuthError::Malformed {
        field,
        reason: reason.into(),
    }
}

/// `sha-256=:<base64>:` for a body (RFC 9530).
pub fn content_digest(body: &[u8]) -> String {
    format!(
        "sha-256=:{}:",
        crate::encoding::encode(Sha256::digest(body).as_slice())
    )
}

/// The `sha-256` value of a `Content-Digest` header value (RFC 9530): an
/// sf-dictionary whose `sha-256` member is required; other algorithms are
/// ignored. A server can take it before reading the body and hash the body
/// as it streams in.
pub fn content_digest_sha256(header_value: &str) -> Result<Vec<u8>, AuthError> {
    let dict: Dictionary = Parser::new(header_value)
        .parse()
        .map_err(|e| malformed("content-digest", e.to_string()))?;
    let Some(entry) = dict.get("sha-256") else {
        return Err(AuthError::UnsupportedDigest);
    };
    let ListEntry::Item(item) = entry else {
        return Err(malformed(
            "content-digest",
            "sha-256 is not a byte sequence",
        ));
    };
    let Some(expected) = item.bare_item.as_byte_sequence() else {
        return Err(malformed(
            "content-digest",
            "sha-256 is not a byte sequence",
        ));
    };
    Ok(expected.to_vec())
}

/// Checks a `Content-Digest` header value against the body (see
/// [`content_digest_sha256`]).
pub fn check_content_digest(header_value: &str, body: &[u8]) -> Result<(), AuthError> {
    if content_digest_sha256(header_value)? == Sha256::digest(body).as_slice() {
        Ok(())
    } else {
        Err(AuthError::DigestMismatch)
    }
}

/// The parts of a target URI the derived components need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUri {
    scheme: String,
    authority: String,
    path: String,
    query: Option<String>,
}

impl TargetUri {
    /// Parses and normalizes an absolute `http`/`https` URI: lowercase scheme
    /// and host, the scheme's default port dropped, an empty path as `/`.
    pub fn parse(uri: &str) -> Result<Self, AuthError> {
        let bad = |reason: &str| malformed("target-uri", format!("`{uri}`: {reason}"));
        if uri.chars().any(|c| c.is_whitespace() || c.is_control()) || uri.contains('#') {
            return Err(bad("contains whitespace or a fragment"));
        }
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| bad("not absolute"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => ":443",
            "http" => ":80",
            _ => return Err(bad("scheme is not http or https")),
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(split);
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("no host, or userinfo in the authority"));
        }
        let mut authority = authority.to_ascii_lowercase();
        if authority.ends_with(default_port) {
            authority.truncate(authority.len() - default_port.len());
        }
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (rest, None),
        };
        let path = if path.is_empty() { "/" } else { path };
        Ok(Self {
            scheme,
            authority,
            path: path.to_owned(),
            query,
        })
    }

    /// `@target-uri`: the normalized absolute URI.
    pub fn target_uri(&self) -> String {
        let query = self
            .query
            .as_deref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        format!("{}://{}{}{query}", self.scheme, self.authority, self.path)
    }

    /// `@authority`
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// `@path`
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `@query`: `?` and the query, or `?` alone when there is none.
    pub fn query(&self) -> String {
        format!("?{}", self.query.as_deref().unwrap_or(""))
    }
}

/// The covered components and parameters of one signature: the inner list
/// of `Signature-Input`.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureParams {
    /// Component identifiers in order (`@method`, `content-digest`, …),
    /// without component parameters (tollgate supports none).
    pub covered: Vec<String>,
    /// Signature parameters in their received or chosen order.
    pub params: Parameters,
}

impl SignatureParams {
    pub fn new(covered: &[&str]) -> Self {
        Self {
            covered: covered.iter().map(|c| (*c).to_owned()).collect(),
            params: Parameters::new(),
        }
    }

    /// Appends an integer parameter (`created`, `expires`).
    pub fn with_integer(mut self, name: &str, value: i64) -> Result<Self, AuthError> {
        let key = param_key(name)?;
        let value = sfv::Integer::try_from(value)
            .map_err(|e| malformed("signature-input", format!("{name}: {e}")))?;
        self.params.insert(key, BareItem::Integer(value));
        Ok(self)
    }

    /// Appends a string parameter (`nonce`, `keyid`, `alg`, `tag`).
    pub fn with_string(mut self, name: &str, value: &str) -> Result<Self, AuthError> {
        let key = param_key(name)?;
        let value = sfv::String::from_string(value.to_owned())
            .map_err(|(e, _)| malformed("signature-input", format!("{name}: {e}")))?;
        self.params.insert(key, BareItem::String(value));
        Ok(self)
    }

    fn integer(&self, name: &str) -> Result<Option<i64>, AuthError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(item) => item
                .as_integer()
                .map(|i| Some(i64::from(i)))
                .ok_or_else(|| malformed("signature-input", format!("`{name}` is not an integer"))),
        }
    }

    fn string(&self, name: &str) -> Result<Option<String>, AuthError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(item) => item
                .as_string()
                .map(|s| Some(s.as_str().to_owned()))
                .ok_or_else(|| malformed("signature-input", format!("`{name}` is not a string"))),
        }
    }

    fn inner_list(&self) -> Result<InnerList, AuthError> {
        let items = self
            .covered
            .iter()
            .map(|c| {
                sfv::String::from_string(c.clone())
                    .map(|s| Item::new(BareItem::String(s)))
                    .map_err(|(e, _)| malformed("signature-input", format!("`{c}`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(InnerList::with_params(items, self.params.clone()))
    }

    /// The serialized inner list: the `@signature-params` value and the
    /// member value of `Signature-Input`.
    pub fn serialize(&self) -> Result<String, AuthError> {
        let entry = ListEntry::InnerList(self.inner_list()?);
        let mut ser = sfv::ListSerializer::new();
        ser.members([&entry]);
        ser.finish()
            .ok_or_else(|| malformed("signature-input", "empty"))
    }

    fn from_inner_list(list: &InnerList) -> Result<Self, AuthError> {
        let mut covered = Vec::with_capacity(list.items.len());
        for item in &list.items {
            let Some(name) = item.bare_item.as_string() else {
                return Err(malformed(
                    "signature-input",
                    "a component identifier is not a string",
                ));
            };
            if !item.params.is_empty() {
                return Err(malformed(
                    "signature-input",
                    format!(
                        "component parameters on `{}` are not supported",
                        name.as_str()
                    ),
                ));
            }
            covered.push(name.as_str().to_owned());
        }
        Ok(Self {
            covered,
            params: list.params.clone(),
        })
    }
}

fn param_key(name: &str) -> Result<Key, AuthError> {
    Key::from_string(name.to_owned())
        .map_err(|(e, _)| malformed("signature-input", format!("`{name}`: {e}")))
}

/// The signature base (RFC 9421 §2.5) for a request: one line per covered
/// component, `"<name>": <value>`, then the `"@signature-params"` line, joined
/// by `\n` with no trailing newline.
///
/// `headers` returns a field's value by lowercase name, multiple field lines
/// already combined with `, `; values are trimmed here.
pub fn signature_base(
    method: &str,
    target_uri: &str,
    headers: &dyn Fn(&str) -> Option<String>,
    params: &SignatureParams,
) -> Result<String, AuthError> {
    let uri = TargetUri::parse(target_uri)?;
    let mut base = String::new();
    let mut seen: Vec<&str> = Vec::with_capacity(params.covered.len());
    for name in &params.covered {
        if seen.contains(&name.as_str()) {
            return Err(malformed(
                "signature-input",
                format!("`{name}` is covered twice"),
            ));
        }
        seen.push(name);
        let value = match name.as_str() {
            "@method" => method.to_owned(),
            "@target-uri" => uri.target_uri(),
            "@authority" => uri.authority().to_owned(),
            "@path" => uri.path().to_owned(),
            "@query" => uri.query(),
            "@signature-params" => {
                return Err(malformed(
                    "signature-input",
                    "`@signature-params` cannot be covered",
                ));
            }
            derived if derived.starts_with('@') => {
                return Err(malformed(
                    "signature-input",
                    format!("derived component `{derived}` is not supported"),
                ));
            }
            field => {
                if field.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(malformed(
                        "signature-input",
                        format!("field name `{field}` is not lowercase"),
                    ));
                }
                headers(field)
                    .ok_or_else(|| AuthError::AbsentComponent(field.to_owned()))?
                    .trim()
                    .to_owned()
            }
        };
        if value.contains(['\n', '\r']) {
            return Err(malformed(
                "signature-input",
                format!("`{name}` contains a line break"),
            ));
        }
        base.push('"');
        base.push_str(name);
        base.push_str("\": ");
        base.push_str(&value);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(&params.serialize()?);
    Ok(base)
}

/// Signs a request: returns the `content-digest`, `signature-input` and
/// `signature` headers to add. `target_uri` is the absolute URL dialled.
pub fn sign_request(
    signer: &Signer,
    method: &str,
    target_uri: &str,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Vec<(&'static str, String)>, AuthError> {
    let digest = content_digest(body);
    let params = SignatureParams::new(&REQUIRED_COMPONENTS)
        .with_integer("created", now.unix_timestamp())?
        .with_string("nonce", &crate::statement::new_nonce())?
        .with_string("keyid", &signer.public().key_id().to_string())?
        .with_string("alg", ALG)?;
    let lookup = |name: &str| (name == "content-digest").then(|| digest.clone());
    let base = signature_base(method, target_uri, &lookup, &params)?;
    let signature = signer.signing_key().sign(base.as_bytes());
    Ok(vec![
        ("content-digest", digest.clone()),
        (
            "signature-input",
            format!("{LABEL}={}", params.serialize()?),
        ),
        (
            "signature",
            format!(
                "{LABEL}=:{}:",
                crate::encoding::encode(&signature.to_bytes())
            ),
        ),
    ])
}

/// A header lookup over an `http::HeaderMap` (axum's or reqwest's) for
/// [`verify_request`]: several field lines are combined with `, `; a value
/// that is not visible ASCII counts as absent.
pub fn header_lookup(headers: &axum::http::HeaderMap) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| {
        let mut values = headers.get_all(name).iter().peekable();
        values.peek()?;
        let values: Option<Vec<&str>> = values.map(|v| v.to_str().ok()).collect();
        Some(values?.join(", "))
    }
}

/// What a verified request proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The signer's key id (hex), as found by the key lookup.
    pub keyid: String,
    /// The signer's nonce; the server refuses a nonce seen within the window.
    pub nonce: String,
    /// `created`, unix seconds.
    pub created: i64,
}

/// Picks the signature to check: the `tollgate` member, else the only one.
fn pick_member<'a>(
    dict: &'a Dictionary,
    field: &'static str,
) -> Result<(&'a str, &'a ListEntry), AuthError> {
    if let Some(entry) = dict.get(LABEL) {
        return Ok((LABEL, entry));
    }
    let mut members = dict.iter();
    match (members.next(), members.next()) {
        (Some((label, entry)), None) => Ok((label.as_str(), entry)),
        (None, _) => Err(malformed(field, "no signature")),
        (Some(_), Some(_)) => Err(malformed(
            field,
            format!("several signatures and none labelled `{LABEL}`"),
        )),
    }
}

/// Verifies a signed request (RFC 9421 §3.2) as the store requires: the
/// signature covers `@method`, `@target-uri` and `content-digest`, carries
/// `created`, `nonce` and `keyid` (and `alg="ed25519"` if any `alg`), the body
/// matches its content-digest, `created` is within `max_skew` of `now`, the
/// key is known and the ed25519 signature verifies strictly.
///
/// `headers` returns a field value by lowercase name (several field lines
/// combined with `, `).
#[allow(clippy::too_many_arguments)]
pub fn verify_request(
    method: &str,
    target_uri: &str,
    headers: impl Fn(&str) -> Option<String>,
    body: &[u8],
    key_lookup: impl Fn(&str) -> Option<VerifyingKey>,
    now: OffsetDateTime,
    max_skew: time::Duration,
) -> Result<VerifiedRequest, AuthError> {
    let digest = headers("content-digest").ok_or(AuthError::MissingHeader("content-digest"))?;
    let verified = verify_request_headers(method, target_uri, headers, key_lookup, now, max_skew)?;
    check_content_digest(&digest, body)?;
    Ok(verified)
}

/// Verifies everything of a signed request but the body: the signature
/// covers the `content-digest` field, so once this passes the body can be
/// read (by a known signer only) and checked with [`check_content_digest`].
/// A server uses this to refuse strangers before it reads a byte of body.
pub fn verify_request_headers(
    method: &str,
    target_uri: &str,
    headers: impl Fn(&str) -> Option<String>,
    key_lookup: impl Fn(&str) -> Option<VerifyingKey>,
    now: OffsetDateTime,
    max_skew: time::Duration,
) -> Result<VerifiedRequest, AuthError> {
    let input = headers("signature-input").ok_or(AuthError::MissingHeader("signature-input"))?;
    let signature = headers("signature").ok_or(AuthError::MissingHeader("signature"))?;
    if headers("content-digest").is_none() {
        return Err(AuthError::MissingHeader("content-digest"));
    }

    let input: Dictionary = Parser::new(&input)
        .parse()
        .map_err(|e| malformed("signature-input", e.to_string()))?;
    let (label, entry) = pick_member(&input, "signature-input")?;
    let ListEntry::InnerList(list) = entry else {
        return Err(malformed(
            "signature-input",
            "the member is not an inner list",
        ));
    };
    let params = SignatureParams::from_inner_list(list)?;

    let signature: Dictionary = Parser::new(&signature)
        .parse()
        .map_err(|e| malformed("signature", e.to_string()))?;
    let Some(ListEntry::Item(item)) = signature.get(label) else {
        return Err(malformed("signature", format!("no `{label}` member")));
    };
    let signature = item
        .bare_item
        .as_byte_sequence()
        .ok_or_else(|| malformed("signature", "not a byte sequence"))?;
    let signature = Signature::from_slice(signature)
        .map_err(|_| malformed("signature", "an ed25519 signature is 64 bytes"))?;

    for required in REQUIRED_COMPONENTS {
        if !params.covered.iter().any(|c| c == required) {
            return Err(AuthError::MissingComponent(required.to_owned()));
        }
    }
    let created = params
        .integer("created")?
        .ok_or(AuthError::MissingParam("created"))?;
    let nonce = params
        .string("nonce")?
        .ok_or(AuthError::MissingParam("nonce"))?;
    let keyid = params
        .string("keyid")?
        .ok_or(AuthError::MissingParam("keyid"))?;
    if let Some(alg) = params.string("alg")?
        && alg != ALG
    {
        return Err(AuthError::UnsupportedAlg(alg));
    }

    let now_unix = now.unix_timestamp();
    let max = max_skew.whole_seconds();
    let skew = now_unix.saturating_sub(created);
    if skew.saturating_abs() > max {
        return Err(AuthError::Skew { created, skew, max });
    }
    if let Some(expires) = params.integer("expires")?
        && expires < now_unix
    {
        return Err(AuthError::Expired(expires));
    }

    let key = key_lookup(&keyid).ok_or_else(|| AuthError::UnknownKey(keyid.clone()))?;
    let base = signature_base(method, target_uri, &headers, &params)?;
    key.verify_strict(base.as_bytes(), &signature)
        .map_err(|_| AuthError::BadSignature)?;
    Ok(VerifiedRequest {
        keyid,
        nonce,
        created,
    })
}

#[cfg(test)]
mod tests;
