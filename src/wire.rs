//! The request and response bodies of the store's HTTP API (DESIGN.md §4),
//! and their limits: one set of types, serialised by the store and parsed
//! by its clients, so neither side writes JSON by hand.
//!
//! Nothing here is trusted by a client: receipts, proofs and checkpoints
//! are verified by the caller (`client::sync`, `ledger`).

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::encoding;
use crate::ledger::{Hash, hash_from_slice};

/// Most entries one `GET /v1/entries` page holds.
pub const MAX_PAGE: u64 = 1000;

/// The largest evidence blob the store accepts.
pub const MAX_EVIDENCE_BYTES: usize = 8 * 1024 * 1024;

/// `POST /v1/entries` → 201 (new) or 200 (the same entry was already in
/// the log, at the same index): the entry's place and the proof of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub index: u64,
    pub entry_id: Digest,
    /// Base64 hashes of the inclusion proof against `checkpoint`.
    pub inclusion_proof: Vec<String>,
    /// The signed (and, with witnesses, cosigned) checkpoint note.
    pub checkpoint: String,
    /// False when the entry was already in the log (HTTP 200); not sent.
    #[serde(skip)]
    pub created: bool,
}

impl Receipt {
    /// The inclusion proof hashes, decoded.
    pub fn proof(&self) -> Result<Vec<Hash>, String> {
        decode_hashes(&self.inclusion_proof)
    }
}

/// `GET /v1/entries?start=A&end=B` (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub start: u64,
    pub end: u64,
}

/// One entry of a page: its index and the envelope bytes (base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageEntry {
    pub index: u64,
    pub envelope: String,
}

/// The answer to `GET /v1/entries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntriesPage {
    pub entries: Vec<PageEntry>,
}

/// `GET /v1/proofs/inclusion?index=I&size=N`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    pub index: u64,
    pub size: u64,
}

/// `GET /v1/proofs/consistency?from=M&to=N`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    pub from: u64,
    pub to: u64,
}

/// The answer to either proof request: base64 hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofAnswer {
    pub proof: Vec<String>,
}

impl ProofAnswer {
    pub fn of(proof: &[Hash]) -> Self {
        Self {
            proof: proof.iter().map(|h| encoding::encode(h)).collect(),
        }
    }

    pub fn hashes(&self) -> Result<Vec<Hash>, String> {
        decode_hashes(&self.proof)
    }
}

/// `GET /v1/policy`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// `PUT /v1/evidence/{digest}` → 201 (new) or 200 (already held).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceReceipt {
    pub digest: Digest,
    pub size: u64,
}

/// Every error answer: a code for programs, words for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    #[serde(default)]
    pub remediation: String,
}

/// A gate of a promotion, as the store's convenience view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateView {
    pub name: String,
    /// `passed`, `waived`, `failed` or `missing`.
    pub verdict: String,
    pub summary: Option<String>,
}

/// An approval of a promotion, as the store's convenience view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub signer: String,
    pub role: String,
    /// `counted`, `expired`, `stale: …`, `revoked by …` or `not needed`.
    pub standing: String,
    pub decision: Digest,
}

/// `GET /v1/promotions/{id}`: the store's own fold, for convenience only;
/// clients compute readiness themselves from the verified log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionView {
    pub id: Digest,
    pub index: u64,
    pub service: String,
    pub version: String,
    pub from: Option<String>,
    pub to: String,
    pub artifact: Digest,
    pub requested_by: String,
    pub status: String,
    pub blockers: Vec<String>,
    pub gates: Vec<GateView>,
    pub approvals: Vec<ApprovalView>,
}

/// `GET /v1/promotions`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionList {
    pub promotions: Vec<PromotionView>,
}

fn decode_hashes(lines: &[String]) -> Result<Vec<Hash>, String> {
    lines
        .iter()
        .map(|b64| {
            let bytes =
                encoding::decode_standard(b64).map_err(|e| format!("proof hash {b64:?}: {e}"))?;
            hash_from_slice(&bytes).map_err(|e| format!("proof hash {b64:?}: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_round_trips_and_its_proof_decodes() {
        let receipt = Receipt {
            index: 7,
            entry_id: Digest::of(b"entry"),
            inclusion_proof: ProofAnswer::of(&[[1; 32], [2; 32]]).proof,
            checkpoint: "audit.test/tollgate\n8\nAAAA\n".into(),
            created: true,
        };
        let text = serde_json::to_string(&receipt).unwrap();
        let back: Receipt = serde_json::from_str(&text).unwrap();
        assert_eq!(back.proof().unwrap(), vec![[1; 32], [2; 32]]);
        assert!(!back.created, "`created` comes from the status code");
        assert!(serde_json::from_str::<Range>(r#"{"start":1,"end":2,"x":3}"#).is_err());
    }
}
