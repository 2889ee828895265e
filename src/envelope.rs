//! DSSE envelopes: PAE, signing and strict verification.
//!
//! An envelope is accepted only through [`Envelope::from_json`] (strict JSON,
//! strict base64, bounded size) and its payload is handed out only by
//! [`Envelope::verify`], after a signature by one of the caller's candidate
//! keys checks out under `verify_strict`. The DSSE `keyid` is an
//! unauthenticated hint and never selects or excludes a key.
//!
//! An envelope's identity is `sha256(PAE)`, never a hash of its JSON text,
//! because base64 and JSON spelling are malleable.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::encoding;
use crate::keys::StrictKey;

/// The only payload type tollgate signs and accepts.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Largest envelope accepted, in bytes of JSON. Entry bundles in tlog-tiles
/// carry a u16 length, so this keeps every entry representable there.
pub const MAX_ENVELOPE_BYTES: usize = 65_535;

/// Most signatures one envelope may carry (policy rotations need a few).
pub const MAX_SIGNATURES: usize = 32;

/// Why an envelope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("envelope is {0} bytes; the limit is {MAX_ENVELOPE_BYTES}")]
    TooLarge(usize),
    #[error("envelope is not valid DSSE JSON: {0}")]
    Malformed(String),
    #[error("envelope field `{field}` is {problem}")]
    BadBase64 {
        field: &'static str,
        problem: String,
    },
    #[error("envelope has an empty `{0}`")]
    Empty(&'static str),
    #[error("envelope has no signatures")]
    Unsigned,
    #[error("envelope has {0} signatures; at most {MAX_SIGNATURES} are accepted")]
    TooManySignatures(usize),
    #[error(
        "signatures {first} and {second} both carry keyid `{keyid}`; DSSE readers accept one signature per keyid, so remove the repeated signature"
    )]
    DuplicateKeyId {
        keyid: String,
        first: usize,
        second: usize,
    },
    #[error("signature {index} is {len} bytes; an ed25519 signature is 64")]
    BadSignatureLength { index: usize, len: usize },
    #[error("no signature verifies against any authorised key")]
    NoValidSignature,
    #[error("payload type `{0}` is not supported; expected `{IN_TOTO_PAYLOAD_TYPE}`")]
    UnsupportedPayloadType(String),
}

/// One DSSE signature: an unauthenticated key id hint and 64 signature bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    pub keyid: String,
    pub sig: Signature,
}

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    payload_type: String,
    payload: Vec<u8>,
    signatures: Vec<EnvelopeSignature>,
}

/// What a successful verification proves: these exact payload bytes were
/// signed by the listed candidates (indices into the caller's slice, distinct
/// public keys, in candidate order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<'a> {
    pub payload: &'a [u8],
    pub signers: Vec<usize>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEnvelope<'a> {
    // Borrowed: the payload is most of an envelope's bytes.
    #[serde(borrow)]
    payload: std::borrow::Cow<'a, str>,
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<WireSignature>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSignature {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    keyid: String,
    sig: String,
}

/// What [`Envelope::verify_single`] proves: the payload, which candidate
/// signed it (index into the caller's slice) and the entry id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleVerified<'a> {
    pub payload: &'a [u8],
    pub signer: usize,
    pub entry_id: Digest,
}

/// Pre-Authentication Encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let type_len = payload_type.len().to_string();
    let body_len = payload.len().to_string();
    let mut out = Vec::with_capacity(
        10 + type_len.len() + payload_type.len() + body_len.len() + payload.len(),
    );
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(type_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(body_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// Signs `payload` as an in-toto statement with `key`; `keyid` is the hint
    /// written beside the signature.
    pub fn sign_statement(payload: Vec<u8>, key: &SigningKey, keyid: &str) -> Self {
        Self::sign(IN_TOTO_PAYLOAD_TYPE, payload, key, keyid)
    }

    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &SigningKey, keyid: &str) -> Self {
        let mut envelope = Self {
            payload_type: payload_type.to_owned(),
            payload,
            signatures: Vec::new(),
        };
        envelope.add_signature(key, keyid);
        envelope
    }

    /// Adds one more signature over the same PAE (threshold-signed documents).
    pub fn add_signature(&mut self, key: &SigningKey, keyid: &str) {
        let sig = key.sign(&self.pae());
        self.signatures.push(EnvelopeSignature {
            keyid: keyid.to_owned(),
            sig,
        });
    }

    pub fn payload_type(&self) -> &str {
        &self.payload_type
    }

    pub fn signatures(&self) -> &[EnvelopeSignature] {
        &self.signatures
    }

    /// The payload bytes *without* any verification. Only for display of
    /// material that is being refused; decisions must use [`Self::verify`].
    pub fn unverified_payload(&self) -> &[u8] {
        &self.payload
    }

    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// The entry identity: `sha256(PAE)`.
    pub fn entry_id(&self) -> Digest {
        Digest::of(&self.pae())
    }

    /// Strictly parses envelope JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(EnvelopeError::TooLarge(bytes.len()));
        }
        let wire: WireEnvelope =
            serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        if wire.payload_type.is_empty() {
            return Err(EnvelopeError::Empty("payloadType"));
        }
        let payload =
            encoding::decode_either(&wire.payload).map_err(|e| EnvelopeError::BadBase64 {
                field: "payload",
                problem: e.to_string(),
            })?;
        if payload.is_empty() {
            return Err(EnvelopeError::Empty("payload"));
        }
        if wire.signatures.is_empty() {
            return Err(EnvelopeError::Unsigned);
        }
        if wire.signatures.len() > MAX_SIGNATURES {
            return Err(EnvelopeError::TooManySignatures(wire.signatures.len()));
        }
        // securesystemslib (and so in-toto and TUF tooling) keys signatures
        // by keyid and refuses a repeat; accepting one here would make
        // envelopes other DSSE readers cannot read.
        for (second, s) in wire.signatures.iter().enumerate() {
            if let Some(first) = wire.signatures[..second]
                .iter()
                .position(|earlier| earlier.keyid == s.keyid)
            {
                return Err(EnvelopeError::DuplicateKeyId {
                    keyid: s.keyid.clone(),
                    first,
                    second,
                });
            }
        }
        let signatures =
            wire.signatures
                .into_iter()
                .enumerate()
                .map(|(index, s)| {
                    let raw =
                        encoding::decode_either(&s.sig).map_err(|e| EnvelopeError::BadBase64 {
                            field: "signatures[].sig",
                            problem: e.to_string(),
                        })?;
                    let bytes: [u8; 64] = raw.as_slice().try_into().map_err(|_| {
                        EnvelopeError::BadSignatureLength {
                            index,
                            len: raw.len(),
                        }
                    })?;
                    Ok(EnvelopeSignature {
                        keyid: s.keyid,
                        sig: Signature::from_bytes(&bytes),
                    })
                })
                .collect::<Result<Vec<_>, EnvelopeError>>()?;
        Ok(Self {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }

    /// Canonical JSON text of this envelope (standard base64, fixed key order).
    pub fn to_json(&self) -> Vec<u8> {
        let wire = WireEnvelope {
            payload: encoding::encode(&self.payload).into(),
            payload_type: self.payload_type.clone(),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: s.keyid.clone(),
                    sig: encoding::encode(&s.sig.to_bytes()),
                })
                .collect(),
        };
        // Serialising plain strings into a Vec cannot fail.
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Finds the first candidate whose key verifies a signature, trying first
    /// the candidates whose key id matches a signature's hint. The hint only
    /// orders the attempts, so a wrong hint costs time, never correctness.
    /// Computes the PAE once and returns the entry id with the payload.
    pub fn verify_single(
        &self,
        candidates: &[(StrictKey, String)],
    ) -> Result<SingleVerified<'_>, EnvelopeError> {
        let pae = self.pae();
        let hinted = |id: &str| {
            self.signatures
                .iter()
                .any(|s| !s.keyid.is_empty() && s.keyid == id)
        };
        // `verify_strict`'s verdict, a tenth cheaper (`keys::strict`).
        let verifies = |key: &StrictKey| self.signatures.iter().any(|s| key.verify(&pae, &s.sig));
        let found = candidates
            .iter()
            .enumerate()
            .filter(|(_, (_, id))| hinted(id))
            .chain(
                candidates
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, id))| !hinted(id)),
            )
            .find(|(_, (key, _))| verifies(key));
        let Some((signer, _)) = found else {
            return Err(EnvelopeError::NoValidSignature);
        };
        if self.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(EnvelopeError::UnsupportedPayloadType(
                self.payload_type.clone(),
            ));
        }
        Ok(SingleVerified {
            payload: &self.payload,
            signer,
            entry_id: Digest::of(&pae),
        })
    }

    /// Checks every signature against every candidate with `verify_strict`
    /// and returns the payload with the distinct candidates that signed.
    ///
    /// The payload type is checked after the signatures, as DSSE orders it.
    /// A candidate whose public key repeats an earlier one never counts twice.
    pub fn verify(&self, candidates: &[&VerifyingKey]) -> Result<Verified<'_>, EnvelopeError> {
        let pae = self.pae();
        let mut signers: Vec<usize> = Vec::new();
        for (index, candidate) in candidates.iter().enumerate() {
            let already = candidates[..index]
                .iter()
                .any(|earlier| earlier.as_bytes() == candidate.as_bytes());
            if already {
                continue;
            }
            if self
                .signatures
                .iter()
                .any(|s| candidate.verify_strict(&pae, &s.sig).is_ok())
            {
                signers.push(index);
            }
        }
        if signers.is_empty() {
            return Err(EnvelopeError::NoValidSignature);
        }
        if self.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(EnvelopeError::UnsupportedPayloadType(
                self.payload_type.clone(),
            ));
        }
        Ok(Verified {
            payload: &self.payload,
            signers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    fn key() -> SigningKey {
        SigningKey::generate(&mut OsRng)
    }

    #[test]
    fn pae_matches_the_dsse_spec_vector() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn pae_counts_bytes_not_characters() {
        // "é" is one char and two bytes; "𝄞" is one char and four bytes.
        assert_eq!(pae("é", "𝄞".as_bytes()), "DSSEv1 2 é 4 𝄞".as_bytes());
    }

    #[test]
    fn sign_then_verify_round_trips_through_json() {
        let k = key();
        let env = Envelope::sign_statement(b"{}".to_vec(), &k, "hint");
        let parsed = Envelope::from_json(&env.to_json()).unwrap();
        let vk = k.verifying_key();
        let verified = parsed.verify(&[&vk]).unwrap();
        assert_eq!(verified.payload, b"{}");
        assert_eq!(verified.signers, vec![0]);
        assert_eq!(parsed.entry_id(), env.entry_id());
    }

    #[test]
    fn keyid_hint_never_excludes_the_right_key() {
        let k = key();
        let env = Envelope::sign_statement(b"{}".to_vec(), &k, "somebody-else");
        let other = key().verifying_key();
        let vk = k.verifying_key();
        assert_eq!(env.verify(&[&other, &vk]).unwrap().signers, vec![1]);
    }

    #[test]
    fn the_same_key_listed_twice_counts_once() {
        let k = key();
        let mut env = Envelope::sign_statement(b"{}".to_vec(), &k, "a");
        env.add_signature(&k, "b");
        let vk = k.verifying_key();
        assert_eq!(env.verify(&[&vk, &vk]).unwrap().signers, vec![0]);
    }

    #[test]
    fn two_signatures_under_one_keyid_are_refused_when_parsed() {
        let k = key();
        let mut env = Envelope::sign_statement(b"{}".to_vec(), &k, "a");
        env.add_signature(&key(), "b");
        env.add_signature(&k, "a");
        let err = Envelope::from_json(&env.to_json()).unwrap_err();
        assert_eq!(
            err,
            EnvelopeError::DuplicateKeyId {
                keyid: "a".into(),
                first: 0,
                second: 2
            }
        );
        assert!(err.to_string().contains("keyid `a`"), "{err}");
        let mut distinct = Envelope::sign_statement(b"{}".to_vec(), &k, "a");
        distinct.add_signature(&key(), "b");
        assert!(Envelope::from_json(&distinct.to_json()).is_ok());
    }

    #[test]
    fn unsupported_payload_type_is_refused_after_the_signature() {
        let k = key();
        let env = Envelope::sign("application/json", b"{}".to_vec(), &k, "");
        let vk = k.verifying_key();
        assert_eq!(
            env.verify(&[&vk]),
            Err(EnvelopeError::UnsupportedPayloadType(
                "application/json".into()
            ))
        );
    }

    #[test]
    fn wrong_key_and_tampered_payload_are_refused() {
        let k = key();
        let env = Envelope::sign_statement(b"{\"a\":1}".to_vec(), &k, "");
        let other = key().verifying_key();
        assert_eq!(env.verify(&[&other]), Err(EnvelopeError::NoValidSignature));
        let mut tampered = env.clone();
        tampered.payload = b"{\"a\":2}".to_vec();
        let vk = k.verifying_key();
        assert_eq!(
            tampered.verify(&[&vk]),
            Err(EnvelopeError::NoValidSignature)
        );
    }

    #[test]
    fn strict_parsing_refuses_malleable_and_empty_forms() {
        let sig = encoding::encode(&[0u8; 64]);
        let cases: &[(String, &str)] = &[
            (
                format!(
                    r#"{{"payload":"eB==","payloadType":"t","signatures":[{{"sig":"{sig}"}}]}}"#
                ),
                "trailing bits",
            ),
            (
                format!(r#"{{"payload":"eA","payloadType":"t","signatures":[{{"sig":"{sig}"}}]}}"#),
                "no padding",
            ),
            (
                format!(r#"{{"payload":"","payloadType":"t","signatures":[{{"sig":"{sig}"}}]}}"#),
                "empty payload",
            ),
            (
                format!(
                    r#"{{"payload":"eA==","payloadType":"","signatures":[{{"sig":"{sig}"}}]}}"#
                ),
                "empty type",
            ),
            (
                r#"{"payload":"eA==","payloadType":"t","signatures":[]}"#.to_owned(),
                "no signatures",
            ),
            (
                r#"{"payload":"eA==","payloadType":"t","signatures":[{"sig":"AAAA"}]}"#.to_owned(),
                "short sig",
            ),
            (
                format!(
                    r#"{{"payload":"eA==","payloadType":"t","signatures":[{{"sig":"{sig}"}}],"x":1}}"#
                ),
                "unknown field",
            ),
            (
                format!(
                    r#"{{"payload":"eA==","payload":"eA==","payloadType":"t","signatures":[{{"sig":"{sig}"}}]}}"#
                ),
                "duplicate field",
            ),
        ];
        for (json, why) in cases {
            assert!(
                Envelope::from_json(json.as_bytes()).is_err(),
                "{why} must be refused"
            );
        }
        let huge = vec![b' '; MAX_ENVELOPE_BYTES + 1];
        assert_eq!(
            Envelope::from_json(&huge),
            Err(EnvelopeError::TooLarge(MAX_ENVELOPE_BYTES + 1))
        );
    }

    #[test]
    fn a_payload_that_is_itself_a_pae_is_just_bytes() {
        let k = key();
        let inner = pae(IN_TOTO_PAYLOAD_TYPE, b"{}");
        let env = Envelope::sign_statement(inner.clone(), &k, "");
        let vk = k.verifying_key();
        assert_eq!(env.verify(&[&vk]).unwrap().payload, inner.as_slice());
        assert_ne!(
            env.entry_id(),
            Envelope::sign_statement(b"{}".to_vec(), &k, "").entry_id()
        );
    }
}
