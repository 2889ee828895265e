use std::collections::BTreeMap;

use time::macros::datetime;

use super::*;
use crate::keys::Signer;
use crate::ledger::{Checkpoint, MerkleTree, hash_from_slice, leaf_hash, root_of};
use crate::statement::{
    Binding, Decision, DecisionAction, ObservedCheckpoint, Predicate, PromotionRequest, RootHash,
    SourceRef, Statement,
};

const ORIGIN: &str = "audit.test/tollgate";

struct World {
    people: BTreeMap<&'static str, Signer>,
    log_key: Signer,
    vkey: NoteVerifierKey,
    genesis: String,
    entries: Vec<Vec<u8>>,
}

fn policy_text(version: u64, people: &BTreeMap<&'static str, Signer>, ci: &[&str]) -> String {
    let mut text = format!(
        "version = {version}\norigin = \"{ORIGIN}\"\nadmins = {{ role = \"policy-admin\", threshold = 2 }}\n\n"
    );
    for (name, signer) in people {
        let _ = write!(text, "[operators.{name}]\nkey = \"{}\"\n", signer.public());
    }
    let ci = ci
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = write!(
        text,
        "\n[roles]\npolicy-admin = [\"alice\", \"bob\"]\nrelease-manager = [\"alice\"]\nci = [{ci}]\n\n\
         [environments.dev]\n\n[environments.staging]\nafter = \"dev\"\n\
         approvals = [{{ role = \"release-manager\", count = 1 }}]\n"
    );
    text
}

impl World {
    fn new() -> Self {
        let mut people = BTreeMap::new();
        for name in ["alice", "bob", "ci-main", "dave"] {
            people.insert(name, Signer::generate(name));
        }
        let log_key = Signer::generate(ORIGIN);
        let vkey = NoteVerifierKey::of_signer(&log_key).unwrap();
        let without_dave: BTreeMap<_, _> = people
            .iter()
            .filter(|(n, _)| **n != "dave")
            .map(|(n, s)| {
                (
                    *n,
                    Signer::from_signing_key(n, s.signing_key().clone()).unwrap(),
                )
            })
            .collect();
        let genesis = policy_text(1, &without_dave, &["ci-main"]);
        let mut world = Self {
            people,
            log_key,
            vkey,
            genesis,
            entries: Vec::new(),
        };
        let statement = Statement::policy(1, &world.genesis.clone());
        world.push_signed(&["alice"], &statement);
        world
    }

    fn push_signed(&mut self, who: &[&str], statement: &Statement) {
        let payload = statement.to_payload();
        let first = &self.people[who[0]];
        let mut envelope = first.sign_statement(payload);
        for name in &who[1..] {
            let signer = &self.people[name];
            envelope.add_signature(signer.signing_key(), &signer.public().key_id().to_string());
        }
        self.entries.push(envelope.to_json());
    }

    fn request(&mut self, who: &str, version: &str) {
        let statement = Statement::about(
            "checkout",
            Digest::of(version.as_bytes()),
            Predicate::PromotionRequest(PromotionRequest {
                service: "checkout".into(),
                version: version.into(),
                from: None,
                to: "dev".into(),
                source: SourceRef {
                    repo: "git+https://git.test/checkout".into(),
                    commit: "0123456789abcdef0123456789abcdef01234567".into(),
                },
                release_notes: None,
                requested_at: datetime!(2026-11-27 09:00 UTC),
                nonce: crate::statement::new_nonce(),
            }),
        );
        self.push_signed(&[who], &statement);
    }

    /// A staging request from dev by ci-main; returns its entry id.
    fn staging_request(&mut self, version: &str) -> Digest {
        let statement = Statement::about(
            "checkout",
            Digest::of(version.as_bytes()),
            Predicate::PromotionRequest(PromotionRequest {
                service: "checkout".into(),
                version: version.into(),
                from: Some("dev".into()),
                to: "staging".into(),
                source: SourceRef {
                    repo: "git+https://git.test/checkout".into(),
                    commit: "0123456789abcdef0123456789abcdef01234567".into(),
                },
                release_notes: None,
                requested_at: datetime!(2026-11-27 09:00 UTC),
                nonce: crate::statement::new_nonce(),
            }),
        );
        self.push_signed(&["ci-main"], &statement);
        Envelope::from_json(self.entries.last().unwrap())
            .unwrap()
            .entry_id()
    }

    /// Alice's approval of `promotion`, observing the log as it is now
    /// (or `root` instead of the real root).
    fn approval(&mut self, promotion: Digest, version: &str, root: Option<Hash>) {
        let leaves: Vec<Hash> = self.entries.iter().map(|e| leaf_hash(e)).collect();
        let decision = Decision {
            action: DecisionAction::Approve { promotion },
            role: "release-manager".into(),
            rationale: "reviewed".into(),
            issued_at: datetime!(2026-11-27 09:05 UTC),
            expires_at: datetime!(2026-11-28 09:05 UTC),
            nonce: crate::statement::new_nonce(),
            bound: Binding {
                policy: Digest::of(self.genesis.as_bytes()),
                gate_results: Digest::of(b""),
                snapshot: None,
            },
            observed: ObservedCheckpoint {
                origin: ORIGIN.into(),
                size: self.entries.len() as u64,
                root: RootHash(root.unwrap_or_else(|| root_of(&leaves))),
            },
        };
        let statement = Statement::about(
            "checkout",
            Digest::of(version.as_bytes()),
            Predicate::Decision(decision),
        );
        self.push_signed(&["alice"], &statement);
    }

    fn checkpoint_for(&self, entries: &[Vec<u8>]) -> Vec<u8> {
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        let checkpoint = Checkpoint {
            origin: ORIGIN.into(),
            size: entries.len() as u64,
            root: root_of(&leaves),
        };
        SignedCheckpoint::sign(&checkpoint, &self.log_key)
            .unwrap()
            .into_bytes()
    }

    fn checkpoint(&self) -> Vec<u8> {
        self.checkpoint_for(&self.entries)
    }

    fn inputs<'a>(
        &'a self,
        checkpoint: &'a [u8],
        trusted: Option<&'a [u8]>,
        consistency: &'a [Hash],
    ) -> LogInputs<'a> {
        LogInputs {
            log_vkey: &self.vkey,
            policy_digest: Digest::of(self.genesis.as_bytes()),
            served_policy: None,
            checkpoint,
            entries: &self.entries,
            trusted,
            consistency,
        }
    }
}

fn consistency(entries: &[Vec<u8>], from: u64) -> Vec<Hash> {
    let tree = MerkleTree::from_leaf_hashes(entries.iter().map(|e| leaf_hash(e)));
    tree.consistency_proof(from, entries.len() as u64).unwrap()
}

#[test]
fn a_good_log_verifies_and_extends() {
    let mut world = World::new();
    world.request("ci-main", "1.0.0");
    let first = world.checkpoint();
    let log = verify_log_snapshot(&world.inputs(&first, None, &[])).unwrap();
    assert_eq!(log.accepted, Accepted::First);
    assert_eq!(log.entries.len(), 2);
    assert_eq!(
        log.state_at(datetime!(2026-11-27 10:00 UTC))
            .promotions
            .len(),
        1
    );

    let same = verify_log_snapshot(&world.inputs(&first, Some(&first), &[])).unwrap();
    assert_eq!(same.accepted, Accepted::Same);

    world.request("ci-main", "1.0.1");
    world.request("alice", "1.0.2");
    let second = world.checkpoint();
    let proof = consistency(&world.entries, 2);
    let log = verify_log_snapshot(&world.inputs(&second, Some(&first), &proof)).unwrap();
    assert_eq!(log.accepted, Accepted::Extended);
    assert_eq!(
        log.state_at(datetime!(2026-11-27 10:00 UTC))
            .promotions
            .len(),
        3
    );
}

#[test]
fn a_fork_at_the_same_size_is_an_alarm_with_both_checkpoints() {
    let mut world = World::new();
    world.request("ci-main", "1.0.0");
    let seen = world.checkpoint();
    let mut fork = World {
        entries: world.entries[..1].to_vec(),
        ..world
    };
    fork.request("ci-main", "6.6.6");
    let forked = fork.checkpoint();
    let err = verify_log_snapshot(&fork.inputs(&forked, Some(&seen), &[])).unwrap_err();
    assert_eq!(
        err.summary,
        "the log signed two different roots for the same tree size"
    );
    assert!(
        err.report
            .contains(std::str::from_utf8(&seen).unwrap().lines().nth(2).unwrap())
    );
    assert!(
        err.report.contains(
            std::str::from_utf8(&forked)
                .unwrap()
                .lines()
                .nth(2)
                .unwrap()
        )
    );
}

#[test]
fn rollback_and_bad_consistency_are_alarms() {
    let mut world = World::new();
    world.request("ci-main", "1.0.0");
    world.request("ci-main", "1.0.1");
    let big = world.checkpoint();
    world.entries.pop();
    let small = world.checkpoint();
    let err = verify_log_snapshot(&world.inputs(&small, Some(&big), &[])).unwrap_err();
    assert_eq!(
        err.summary,
        "the log presented a smaller tree than one it signed"
    );

    // A larger tree whose proof does not link to the trusted one.
    world.request("ci-main", "1.0.1");
    world.request("ci-main", "1.0.2");
    let grown = world.checkpoint();
    let bogus = vec![hash_from_slice(&[7u8; 32]).unwrap(); 2];
    let err = verify_log_snapshot(&world.inputs(&grown, Some(&small), &bogus)).unwrap_err();
    assert!(
        err.summary.starts_with("the new tree is not proven"),
        "{}",
        err.summary
    );
}

#[test]
fn served_entries_must_hash_to_the_signed_root() {
    let mut world = World::new();
    world.request("ci-main", "1.0.0");
    let honest = world.checkpoint();
    let original = world.entries.clone();
    world.entries.truncate(1);
    world.request("ci-main", "9.9.9");
    let err = verify_log_snapshot(&world.inputs(&honest, None, &[])).unwrap_err();
    assert_eq!(
        err.summary,
        "the entries the store served do not hash to the root it signed"
    );
    world.entries = original[..1].to_vec();
    let err = verify_log_snapshot(&world.inputs(&honest, None, &[])).unwrap_err();
    assert!(
        err.summary
            .contains("served 1 entries for a checkpoint of size 2")
    );
}

#[test]
fn checkpoints_not_signed_by_the_log_key_and_unpinned_genesis_are_refused() {
    let mut world = World::new();
    world.request("ci-main", "1.0.0");
    let checkpoint = world.checkpoint();
    let impostor = NoteVerifierKey::of_signer(&Signer::generate(ORIGIN)).unwrap();
    let mut inputs = world.inputs(&checkpoint, None, &[]);
    inputs.log_vkey = &impostor;
    let err = verify_log_snapshot(&inputs).unwrap_err();
    assert!(
        err.summary.contains("does not verify under the log key"),
        "{}",
        err.summary
    );

    let mut inputs = world.inputs(&checkpoint, None, &[]);
    inputs.policy_digest = Digest::of(b"another policy");
    let err = verify_log_snapshot(&inputs).unwrap_err();
    assert!(
        err.summary
            .starts_with("the genesis policy is not the pinned one")
    );
}

#[test]
fn an_entry_by_an_unknown_key_is_an_alarm() {
    let mut world = World::new();
    world.request("dave", "1.0.0");
    let checkpoint = world.checkpoint();
    let err = verify_log_snapshot(&world.inputs(&checkpoint, None, &[])).unwrap_err();
    assert!(
        err.summary
            .starts_with("log entry 1 does not verify under policy version 1"),
        "{}",
        err.summary
    );
}

#[test]
fn the_policy_chain_is_followed_and_enforced() {
    let mut world = World::new();
    let v2 = policy_text(2, &world.people, &["ci-main", "dave"]);
    // One admin is below the threshold of two.
    let mut weak = World {
        entries: world.entries.clone(),
        ..World::new()
    };
    weak.people = std::mem::take(&mut world.people);
    weak.genesis = world.genesis.clone();
    weak.log_key = Signer::from_signing_key(ORIGIN, world.log_key.signing_key().clone()).unwrap();
    weak.vkey = world.vkey.clone();
    weak.push_signed(&["alice"], &Statement::policy(2, &v2));
    weak.request("dave", "1.0.0");
    let checkpoint = weak.checkpoint();
    let err = verify_log_snapshot(&weak.inputs(&checkpoint, None, &[])).unwrap_err();
    assert!(
        err.summary
            .starts_with("policy entry 1 is not a valid successor of version 1"),
        "{}",
        err.summary
    );

    // Two admins: dave's entry verifies under version 2.
    weak.entries.truncate(1);
    weak.push_signed(&["alice", "bob"], &Statement::policy(2, &v2));
    weak.request("dave", "1.0.0");
    let checkpoint = weak.checkpoint();
    let log = verify_log_snapshot(&weak.inputs(&checkpoint, None, &[])).unwrap();
    assert_eq!(log.policy().version, 2);
    assert_eq!(log.genesis.version, 1);
    assert_eq!(log.entries.len(), 3);
    assert_eq!(log.entries.all().unwrap()[2].signer, "dave");
}

#[test]
fn checkpoint_files_are_named_by_origin() {
    let path = checkpoint_path("audit.example.com/tollgate").unwrap();
    assert!(path.ends_with("checkpoints/audit.example.com_tollgate.note"));
}

#[test]
fn a_signed_log_holding_an_entry_the_rules_refuse_is_an_alarm() {
    let mut world = World::new();
    let promotion = world.staging_request("2.0.0");
    world.approval(promotion, "2.0.0", None);
    let checkpoint = world.checkpoint();
    let log = verify_log_snapshot(&world.inputs(&checkpoint, None, &[])).unwrap();
    assert!(
        log.state_at(datetime!(2026-11-27 10:00 UTC))
            .ignored
            .is_empty()
    );

    // The store reorders: the approval lands before its request, and signs
    // that log with its real key.
    world.entries.swap(1, 2);
    let checkpoint = world.checkpoint();
    let err = verify_log_snapshot(&world.inputs(&checkpoint, None, &[])).unwrap_err();
    assert!(
        err.summary
            .contains("the signed log holds 1 entry the rules refuse"),
        "{}",
        err.summary
    );
    assert!(err.summary.contains("first: entry 1"), "{}", err.summary);
    assert!(err.report.contains("base64: "), "{}", err.report);
}

#[test]
fn a_decision_observing_a_root_this_log_never_had_is_an_alarm() {
    let mut world = World::new();
    let promotion = world.staging_request("2.0.0");
    world.approval(promotion, "2.0.0", Some([7; 32]));
    let checkpoint = world.checkpoint();
    let err = verify_log_snapshot(&world.inputs(&checkpoint, None, &[])).unwrap_err();
    assert!(
        err.summary.contains("observed log size 2 with root"),
        "{}",
        err.summary
    );
}

#[test]
fn an_acknowledged_entry_missing_from_the_log_is_an_alarm() {
    use crate::client::receipts::{Submitted, check_submitted};
    let mut world = World::new();
    world.request("ci-main", "1.0.0");
    world.request("ci-main", "1.0.1");
    let receipt_checkpoint = world.checkpoint();
    let kept = |index: usize, entries: &[Vec<u8>]| Submitted {
        index: index as u64,
        entry_id: Envelope::from_json(&entries[index]).unwrap().entry_id(),
        checkpoint: receipt_checkpoint.clone(),
    };
    let submitted = vec![kept(1, &world.entries), kept(2, &world.entries)];
    let log = verify_log_snapshot(&world.inputs(&receipt_checkpoint, None, &[])).unwrap();
    check_submitted(&log, &submitted).unwrap();

    // The operator erases entry 2 and the log grows past it.
    world.entries.truncate(2);
    world.request("ci-main", "1.0.2");
    world.request("ci-main", "1.0.3");
    let checkpoint = world.checkpoint();
    let log = verify_log_snapshot(&world.inputs(&checkpoint, None, &[])).unwrap();
    let err = check_submitted(&log, &submitted).unwrap_err();
    assert!(err.summary.contains("at index 2"), "{}", err.summary);
    assert!(
        err.summary.contains("is no longer in the log"),
        "{}",
        err.summary
    );
    assert!(
        err.report.contains(
            String::from_utf8_lossy(&receipt_checkpoint)
                .lines()
                .next()
                .unwrap()
        ),
        "the receipt's checkpoint is part of the evidence"
    );
}

#[test]
fn a_receipt_checkpoint_advances_the_trusted_one_or_is_an_alarm() {
    let mut world = World::new();
    world.request("ci-main", "1.0.0");
    let vkey = world.vkey.clone();
    let verify = |bytes: &[u8]| SignedCheckpoint::parse_and_verify(bytes, &vkey).unwrap();
    let trusted = verify(&world.checkpoint());
    world.request("ci-main", "1.0.1");
    let receipt = verify(&world.checkpoint());
    let proof = consistency(&world.entries, 2);
    assert_eq!(receipt_proof_sizes(&trusted, &receipt), (2, 3));
    // Newer and consistent: saved.
    assert_eq!(judge_receipt(&trusted, &receipt, &proof), Ok(true));
    // Older than what a later sync saved, and a prefix of it: kept as is.
    assert_eq!(judge_receipt(&receipt, &trusted, &proof), Ok(false));
    assert_eq!(judge_receipt(&receipt, &receipt, &[]), Ok(false));

    // The store hands out a receipt from another history of the same size,
    // or one that does not extend the trusted tree: ALARM.
    let mut fork = world.entries.clone();
    fork.truncate(2);
    let mut other = World {
        entries: fork,
        ..World::new()
    };
    other.log_key = Signer::from_signing_key(ORIGIN, world.log_key.signing_key().clone()).unwrap();
    other.request("ci-main", "9.9.9");
    let forked = verify(&other.checkpoint());
    let alarm = judge_receipt(&receipt, &forked, &[]).unwrap_err();
    assert_eq!(
        alarm.reason,
        crate::ledger::AlarmReason::DifferentRootSameSize
    );
    let alarm = judge_receipt(&trusted, &forked, &proof).unwrap_err();
    assert!(matches!(
        alarm.reason,
        crate::ledger::AlarmReason::Inconsistent(_)
    ));
}

/// The replay checks the next chunk of entries ahead while it folds this
/// one; a policy rotation inside a chunk must void that work, so an entry
/// only the new policy allows verifies right after it, in any chunk, and
/// one before it does not.
#[test]
fn a_rotation_past_the_first_chunk_is_followed_when_entries_are_checked_ahead() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    for at in [4095, 4096, 4100] {
        let mut world = World::new();
        let v2 = policy_text(2, &world.people, &["ci-main", "dave"]);
        while world.entries.len() < at {
            let n = world.entries.len();
            world.request("ci-main", &format!("1.0.{n}"));
        }
        let mut early = World {
            entries: world.entries.clone(),
            ..World::new()
        };
        world.push_signed(&["alice", "bob"], &Statement::policy(2, &v2));
        for n in 0..5000 - at {
            world.request(
                if n % 2 == 0 { "dave" } else { "ci-main" },
                &format!("2.0.{n}"),
            );
        }
        let checkpoint = world.checkpoint();
        let log = pool
            .install(|| verify_log_snapshot(&world.inputs(&checkpoint, None, &[])))
            .unwrap();
        assert_eq!(log.policy().version, 2, "rotation at {at}");
        assert_eq!(log.entries.len(), world.entries.len());

        // dave before the rotation: refused at his entry.
        early.people = std::mem::take(&mut world.people);
        early.genesis = world.genesis.clone();
        early.log_key =
            Signer::from_signing_key(ORIGIN, world.log_key.signing_key().clone()).unwrap();
        early.vkey = world.vkey.clone();
        early.request("dave", "3.0.0");
        let checkpoint = early.checkpoint();
        let err = pool
            .install(|| verify_log_snapshot(&early.inputs(&checkpoint, None, &[])))
            .unwrap_err();
        assert!(
            err.summary.starts_with(&format!(
                "log entry {at} does not verify under policy version 1"
            )),
            "{}",
            err.summary
        );
    }
}
