//! Large, realistic logs for benches: services promoted dev → staging with
//! gate results, an approval bound to what the fold shows (its observed
//! checkpoint is the real root) and deployments — every entry one the
//! production fold accepts. Built without verifying anything, so that
//! making 100 000 entries takes seconds.
//!
//! By default gate results cite no evidence (what the in-process benches
//! measure). [`Bulk::with_entries_and_evidence`] makes every gate result
//! cite one real evidence file by digest with the verdict the evaluator
//! computes from it, as `tollgate gate submit` signs it, so that a client
//! re-judging the log (issue 9) agrees with every one.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use time::Duration;
use tollgate::client::actions::evidence_ref;
use tollgate::digest::Digest;
use tollgate::evidence::{Context, EVALUATOR_VERSION, EvidenceFile, Verdict, evaluate_gate};
use tollgate::keys::Signer;
use tollgate::ledger::{MerkleTree, leaf_hash};
use tollgate::policy::Policy;
use tollgate::state::{Folder, VerifiedEntry, gate_results_digest};
use tollgate::statement::{
    Binding, Decision, DecisionAction, Deployment, DeploymentStatus, DeploymentTarget, EvidenceRef,
    GateResult, GateStatus, ObservedCheckpoint, Predicate, PromotionRequest, RootHash, SourceRef,
    Statement, new_nonce,
};

use super::{ORIGIN, PEOPLE, T0, policy_text};

/// A log being written: the policy, the signers, the fold and the tree.
pub struct Bulk {
    pub policy: Policy,
    pub signers: BTreeMap<String, Signer>,
    pub entries: Vec<Vec<u8>>,
    folder: Folder,
    tree: MerkleTree,
    /// What every gate result states and cites; `None`: no evidence.
    gate_evidence: Option<GateEvidence>,
}

/// The verdict of the `unit-tests` gate on one evidence file and the
/// reference to that file, as `tollgate gate submit` puts them in a gate
/// result.
pub struct GateEvidence {
    /// The evidence file, for uploading to a store.
    pub bytes: Vec<u8>,
    /// Its media type, as the gate result names it.
    pub media_type: String,
    verdict: Verdict,
    reference: EvidenceRef,
}

impl Bulk {
    pub fn new() -> Self {
        let signers: BTreeMap<String, Signer> = PEOPLE
            .iter()
            .map(|(n, _)| ((*n).to_owned(), Signer::generate(n)))
            .collect();
        let policy = Policy::parse(&policy_text(1, &signers), "policy.toml").unwrap();
        Self {
            folder: Folder::new(Arc::new(policy.clone())),
            policy,
            signers,
            entries: Vec::new(),
            tree: MerkleTree::new(),
            gate_evidence: None,
        }
    }

    /// At least `n` entries (whole promotion cycles of seven).
    pub fn with_entries(n: usize) -> Self {
        Self::new().filled(n)
    }

    /// This log with whole promotion cycles appended up to at least `n`
    /// entries.
    fn filled(mut self, n: usize) -> Self {
        let mut k = 0u64;
        while self.entries.len() < n {
            self.cycle(k);
            k += 1;
        }
        self
    }

    /// As [`Bulk::with_entries`], every gate result citing `evidence` (a
    /// file named `name`) with the verdict the `unit-tests` gate computes
    /// from it, which must be a pass.
    pub fn with_entries_and_evidence(n: usize, name: &str, evidence: &[u8]) -> Self {
        let mut bulk = Self::new();
        let gate = bulk.policy.gate("unit-tests").unwrap();
        let files = [EvidenceFile {
            name,
            bytes: evidence,
        }];
        let verdict = evaluate_gate(gate, &files, Context::default());
        assert_eq!(
            verdict.status,
            GateStatus::Pass,
            "{name}: the unit-tests gate does not pass on it: {}",
            verdict.summary
        );
        let reference = evidence_ref("unit-tests", &verdict.inputs[0]);
        bulk.gate_evidence = Some(GateEvidence {
            bytes: evidence.to_vec(),
            media_type: reference.media_type.clone(),
            verdict,
            reference,
        });
        bulk.filled(n)
    }

    /// The evidence every gate result cites, if any.
    pub fn gate_evidence(&self) -> Option<&GateEvidence> {
        self.gate_evidence.as_ref()
    }

    fn now(&self) -> time::OffsetDateTime {
        T0 + Duration::seconds(i64::try_from(self.entries.len()).unwrap())
    }

    fn push(&mut self, who: &str, statement: Statement) -> Digest {
        let signer = &self.signers[who];
        let envelope = signer.sign_statement(statement.to_payload());
        let bytes = envelope.to_json();
        let entry = VerifiedEntry {
            index: self.entries.len() as u64,
            id: envelope.entry_id(),
            signer: who.to_owned(),
            key: signer.public().into(),
            statement,
        };
        self.folder.apply(&entry).unwrap();
        self.tree.append(leaf_hash(&bytes));
        self.entries.push(bytes);
        entry.id
    }

    fn request(&mut self, service: &str, artifact: Digest, from: Option<&str>, to: &str) -> Digest {
        let statement = Statement::about(
            service,
            artifact,
            Predicate::PromotionRequest(PromotionRequest {
                service: service.into(),
                version: format!("1.{}.0", self.entries.len()),
                from: from.map(Into::into),
                to: to.into(),
                source: SourceRef {
                    repo: "git@example.com:shop/payments.git".into(),
                    commit: "4f2a9c1e0b7d3a6f8e5c2b1a0d9f8e7c6b5a4f3e".into(),
                },
                release_notes: None,
                requested_at: self.now(),
                nonce: new_nonce(),
            }),
        );
        self.push("ci-main", statement)
    }

    fn gate(&mut self, service: &str, artifact: Digest, promotion: Digest) {
        let result = match &self.gate_evidence {
            None => GateResult {
                promotion,
                gate: "unit-tests".into(),
                status: GateStatus::Pass,
                summary: "1287 tests, 0 failed, 3 skipped".into(),
                measurements: Vec::new(),
                evidence: Vec::new(),
                remediation: None,
                produced_at: self.now(),
                evaluator: None,
            },
            Some(e) => GateResult {
                promotion,
                gate: "unit-tests".into(),
                status: e.verdict.status,
                summary: e.verdict.summary.clone(),
                measurements: e.verdict.measurements.clone(),
                evidence: vec![e.reference.clone()],
                remediation: e.verdict.remediation.clone(),
                produced_at: self.now(),
                evaluator: Some(EVALUATOR_VERSION.into()),
            },
        };
        let statement = Statement::about(service, artifact, Predicate::GateResult(result));
        self.push("ci-main", statement);
    }

    fn approve(&mut self, service: &str, artifact: Digest, promotion: Digest) {
        let p = &self.folder.raw_state().promotions[&promotion];
        let decision = Decision {
            action: DecisionAction::Approve { promotion },
            role: "release-manager".into(),
            rationale: "Reviewed the gate results, the drift report and the release notes.".into(),
            issued_at: self.now(),
            expires_at: self.now() + Duration::hours(24),
            nonce: new_nonce(),
            bound: Binding {
                policy: self.policy.digest(),
                gate_results: gate_results_digest(p),
                snapshot: self.folder.current_snapshot(p),
            },
            observed: ObservedCheckpoint {
                origin: ORIGIN.into(),
                size: self.tree.len(),
                root: RootHash(self.tree.root()),
            },
        };
        let approver = ["alice", "erin", "grace"][self.entries.len() % 3];
        self.push(
            approver,
            Statement::about(service, artifact, Predicate::Decision(decision)),
        );
    }

    fn deployed(&mut self, service: &str, artifact: Digest, promotion: Digest, to: &str) {
        let statement = Statement::about(
            service,
            artifact,
            Predicate::Deployment(Deployment {
                target: DeploymentTarget::Promotion(promotion),
                environment: to.into(),
                service: service.into(),
                status: DeploymentStatus::Succeeded,
                at: self.now(),
            }),
        );
        self.push("ci-main", statement);
    }

    /// One release of service `k` from nowhere to dev, then to staging.
    fn cycle(&mut self, k: u64) {
        let service = format!("svc-{}", k % 500);
        let artifact = Digest::of(&k.to_le_bytes());
        let dev = self.request(&service, artifact, None, "dev");
        self.gate(&service, artifact, dev);
        self.deployed(&service, artifact, dev, "dev");
        let staging = self.request(&service, artifact, Some("dev"), "staging");
        self.gate(&service, artifact, staging);
        self.approve(&service, artifact, staging);
        self.deployed(&service, artifact, staging, "staging");
    }
}
