//! Verified entries: a log entry whose envelope verified against a key the
//! policy names, whose statement parsed strictly from the verified bytes, and
//! whose signer is known by operator name.

use std::sync::Arc;

use rayon::prelude::*;

use crate::digest::Digest;
use crate::envelope::{Envelope, EnvelopeError};
use crate::keys::PublicKey;
use crate::policy::Policy;
use crate::statement::{Statement, StatementError};

/// A log entry the fold may use.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedEntry {
    /// Position in the log.
    pub index: u64,
    /// `sha256(PAE)`: the entry's identity (a promotion's id is the id of its request).
    pub id: Digest,
    /// The operator whose key signed it.
    pub signer: String,
    /// Shared with the key ring (a key is 192 bytes decoded, and a log
    /// has a handful of signers for its many entries).
    pub key: Arc<PublicKey>,
    pub statement: Statement,
}

/// Why an entry could not be verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(transparent)]
    Statement(#[from] StatementError),
}

/// Candidate keys of a policy, with the key id hints, built once per policy.
#[derive(Debug, Clone)]
pub struct KeyRing {
    keys: Vec<(String, Arc<PublicKey>)>,
    /// The same keys decoded, with their key id hints, in the same order.
    candidates: Vec<(crate::keys::StrictKey, String)>,
}

impl KeyRing {
    pub fn of(policy: &Policy) -> Self {
        let keys: Vec<_> = policy
            .operators
            .values()
            .map(|op| (op.name.clone(), Arc::new(op.key)))
            .collect();
        let candidates = keys
            .iter()
            .map(|(_, key)| {
                (
                    crate::keys::StrictKey::new(key.verifying_key()),
                    key.key_id().to_string(),
                )
            })
            .collect();
        Self { keys, candidates }
    }

    /// Verifies one entry's bytes. The signer is found by trying the policy's
    /// keys; the DSSE key id only orders the attempts.
    pub fn verify(&self, index: u64, bytes: &[u8]) -> Result<VerifiedEntry, EntryError> {
        let envelope = Envelope::from_json(bytes)?;
        self.verify_envelope(index, &envelope)
    }

    pub fn verify_envelope(
        &self,
        index: u64,
        envelope: &Envelope,
    ) -> Result<VerifiedEntry, EntryError> {
        let verified = envelope.verify_single(&self.candidates)?;
        let statement = Statement::parse_verified(verified.payload)?;
        let (name, key) = &self.keys[verified.signer];
        Ok(VerifiedEntry {
            index,
            id: verified.entry_id,
            signer: name.clone(),
            key: Arc::clone(key),
            statement,
        })
    }

    /// An entry this client verified before, attributed to `key` without
    /// checking its signature again: the key must be one of this ring's,
    /// the payload type the in-toto one and the statement must parse. See
    /// `Replay::extend_trusted` for when that is sound.
    pub fn attribute(
        &self,
        index: u64,
        bytes: &[u8],
        key: &PublicKey,
    ) -> Result<VerifiedEntry, EntryError> {
        let envelope = Envelope::from_json(bytes)?;
        let (name, key) = self
            .keys
            .iter()
            .find(|(_, k)| **k == *key)
            .ok_or(EnvelopeError::NoValidSignature)?;
        if envelope.payload_type() != crate::envelope::IN_TOTO_PAYLOAD_TYPE {
            return Err(
                EnvelopeError::UnsupportedPayloadType(envelope.payload_type().to_owned()).into(),
            );
        }
        let statement = Statement::parse_verified(envelope.unverified_payload())?;
        Ok(VerifiedEntry {
            index,
            id: envelope.entry_id(),
            signer: name.clone(),
            key: Arc::clone(key),
            statement,
        })
    }

    /// Verifies many entries on every core, keeping log order. `first_index`
    /// is the log index of `entries[0]`.
    pub fn verify_all(
        &self,
        first_index: u64,
        entries: &[Vec<u8>],
    ) -> Vec<Result<VerifiedEntry, EntryError>> {
        entries
            .par_iter()
            .enumerate()
            .map(|(offset, bytes)| self.verify(first_index + offset as u64, bytes))
            .collect()
    }
}
