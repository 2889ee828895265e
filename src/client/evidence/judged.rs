//! The final re-judgements (agreements and disputes) this client made, kept
//! on disk between commands: a command re-runs the evaluator only for gate
//! results it has not judged before. (A 100k-entry log has tens of
//! thousands; re-reading their evidence and judging them all again took most
//! of a cached `status`.)
//!
//! `<cache dir>/evidence/judged-<operator key id>.bin`: the operator's
//! ed25519 signature (64 bytes) over the rest, which is MessagePack of the
//! evaluator version and every (gate result entry id, policy digest,
//! judgement). A judgement is a pure function of those two and the
//! evaluator, so it holds for good; but a forged "agrees" would let a
//! disputed verdict count, so the file is believed only under this
//! operator's own signature and for this build's evaluator version.
//! Anything else is ignored (and replaced at the next save): the cost is
//! judging again, never trusting what was not checked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::durable::{DurableError, write_atomic};
use crate::evidence::EVALUATOR_VERSION;
use crate::keys::{PublicKey, Signer};
use crate::state::Rejudgement;

/// (gate result entry id, policy digest) → a final judgement.
pub type Judged = HashMap<(Digest, Digest), Rejudgement>;

/// The file of one operator's judgements.
#[derive(Debug, Clone)]
pub struct JudgedFile {
    path: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Body {
    evaluator: String,
    /// Only final judgements: agreements and disputes.
    judged: Vec<(Digest, Digest, Rejudgement)>,
}

/// Whether a judgement holds for good (the others may change once the
/// store is reachable again, or the evidence is uploaded).
fn is_final(judgement: &Rejudgement) -> bool {
    matches!(
        judgement,
        Rejudgement::Agrees | Rejudgement::Disputed { .. }
    )
}

impl JudgedFile {
    /// `operator`'s file in the evidence cache directory `dir`.
    pub fn new(dir: &Path, operator: &PublicKey) -> Self {
        Self {
            path: dir.join(format!("judged-{}.bin", operator.key_id().short())),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The judgements saved under `operator`'s signature for this
    /// evaluator; none when there is no such file (see the module doc).
    pub fn load(&self, operator: &PublicKey) -> Judged {
        let Ok(bytes) = std::fs::read(&self.path) else {
            return Judged::new();
        };
        let Some((signature, body)) = bytes.split_first_chunk::<64>() else {
            return Judged::new();
        };
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        if operator
            .verifying_key()
            .verify_strict(body, &signature)
            .is_err()
        {
            tracing::warn!(path = %self.path.display(), "saved judgements are not signed by this operator; judging again");
            return Judged::new();
        }
        let Ok(body) = rmp_serde::from_slice::<Body>(body) else {
            return Judged::new();
        };
        if body.evaluator != EVALUATOR_VERSION {
            return Judged::new();
        }
        body.judged
            .into_iter()
            .filter(|(_, _, judgement)| is_final(judgement))
            .map(|(entry, policy, judgement)| ((entry, policy), judgement))
            .collect()
    }

    /// Writes every final judgement of `judged`, signed by `operator`
    /// (atomically and durably).
    pub fn save(&self, operator: &Signer, judged: &Judged) -> Result<(), DurableError> {
        let body = Body {
            evaluator: EVALUATOR_VERSION.to_owned(),
            judged: judged
                .iter()
                .filter(|(_, judgement)| is_final(judgement))
                .map(|((entry, policy), judgement)| (*entry, *policy, judgement.clone()))
                .collect(),
        };
        let body = rmp_serde::to_vec(&body).map_err(|e| DurableError {
            path: self.path.clone(),
            action: "encode",
            source: std::io::Error::other(e),
        })?;
        let signature = operator.signing_key().sign(&body);
        let mut bytes = Vec::with_capacity(64 + body.len());
        bytes.extend_from_slice(&signature.to_bytes());
        bytes.extend_from_slice(&body);
        write_atomic(&self.path, &bytes)
    }
}
