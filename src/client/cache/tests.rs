//! The cache's checks, on real signed logs in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use time::macros::datetime;

use super::*;
use crate::client::sync::{Base, LogInputs, VerifiedLog, verify_log_from, verify_log_snapshot};
use crate::ledger::{Checkpoint, Hash, leaf_hash, root_of};
use crate::statement::{Predicate, PromotionRequest, SourceRef, Statement};

const ORIGIN: &str = "audit.test/tollgate";

struct Log {
    ci: Signer,
    me: Signer,
    note_key: Signer,
    vkey: NoteVerifierKey,
    genesis: String,
    entries: Vec<Vec<u8>>,
}

impl Log {
    fn new() -> Self {
        let ci = Signer::generate("ci-main");
        let me = Signer::generate("alice");
        let note_key = Signer::generate(ORIGIN);
        let vkey = NoteVerifierKey::of_signer(&note_key).unwrap();
        let genesis = format!(
            "version = 1\norigin = \"{ORIGIN}\"\nadmins = {{ role = \"policy-admin\", threshold = 1 }}\n\n\
             [operators.alice]\nkey = \"{}\"\n[operators.ci-main]\nkey = \"{}\"\n\n\
             [roles]\npolicy-admin = [\"alice\"]\nci = [\"ci-main\"]\n\n[environments.dev]\n",
            me.public(),
            ci.public()
        );
        let mut log = Self {
            ci,
            me,
            note_key,
            vkey,
            genesis,
            entries: Vec::new(),
        };
        let policy = Statement::policy(1, &log.genesis.clone());
        log.entries
            .push(log.me.sign_statement(policy.to_payload()).to_json());
        log
    }

    fn request(&mut self, version: &str) {
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
        self.entries
            .push(self.ci.sign_statement(statement.to_payload()).to_json());
    }

    fn checkpoint(&self, size: usize) -> Vec<u8> {
        let leaves: Vec<Hash> = self.entries[..size].iter().map(|e| leaf_hash(e)).collect();
        let checkpoint = Checkpoint {
            origin: ORIGIN.into(),
            size: size as u64,
            root: root_of(&leaves),
        };
        SignedCheckpoint::sign(&checkpoint, &self.note_key)
            .unwrap()
            .into_bytes()
    }

    fn signed(&self, size: usize) -> SignedCheckpoint {
        SignedCheckpoint::parse_and_verify(&self.checkpoint(size), &self.vkey).unwrap()
    }

    /// The full verification of the first `size` entries.
    fn verified(&self, size: usize) -> VerifiedLog {
        let checkpoint = self.checkpoint(size);
        verify_log_snapshot(&LogInputs {
            log_vkey: &self.vkey,
            policy_digest: self.digest(),
            served_policy: None,
            checkpoint: &checkpoint,
            entries: &self.entries[..size],
            trusted: None,
            consistency: &[],
        })
        .unwrap()
    }

    fn digest(&self) -> Digest {
        Digest::of(self.genesis.as_bytes())
    }

    fn cache(&self, dir: &Path) -> Cache {
        Cache::new(dir, &self.vkey, &self.me.public())
    }

    fn save(&self, cache: &Cache, size: usize) {
        let log = self.verified(size);
        cache
            .save(
                &self.me,
                &Update {
                    keep: None,
                    bodies: &self.entries[..size],
                    entries: &log.entries,
                    checkpoint: &log.checkpoint,
                    genesis: &log.genesis,
                    verified_at: datetime!(2026-11-27 10:00 UTC),
                },
            )
            .unwrap();
    }

    fn load(&self, cache: &Cache, trusted: usize) -> Result<Option<Cached>, Refused> {
        cache.load(
            &self.vkey,
            self.digest(),
            &self.me.public(),
            Some(&self.signed(trusted)),
        )
    }
}

fn log_of(entries: usize) -> Log {
    let mut log = Log::new();
    for n in 0..entries - 1 {
        log.request(&format!("1.0.{n}"));
    }
    log
}

#[test]
fn a_saved_cache_loads_to_the_same_verified_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_of(5);
    let cache = log.cache(dir.path());
    log.save(&cache, 5);
    let cached = log.load(&cache, 5).unwrap().unwrap();
    let full = log.verified(5);
    assert_eq!(cached.size(), 5);
    assert_eq!(cached.entries, full.entries);
    assert_eq!(cached.replay.folder().raw_state(), full.folder.raw_state());
    assert_eq!(cached.checkpoint.as_bytes(), full.checkpoint.as_bytes());
    assert_eq!(cached.verified_at, datetime!(2026-11-27 10:00 UTC));
}

#[test]
fn an_incremental_sync_verifies_only_the_new_entries_and_appends_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_of(6);
    let cache = log.cache(dir.path());
    log.save(&cache, 4);
    let cached = log.load(&cache, 4).unwrap().unwrap();
    let keep = cached.entries_len();
    let checkpoint = log.checkpoint(6);
    let trusted = log.checkpoint(4);
    let proof =
        crate::ledger::MerkleTree::from_leaf_hashes(log.entries.iter().map(|e| leaf_hash(e)))
            .consistency_proof(4, 6)
            .unwrap();
    let synced = verify_log_from(
        &LogInputs {
            log_vkey: &log.vkey,
            policy_digest: log.digest(),
            served_policy: None,
            checkpoint: &checkpoint,
            entries: &log.entries[4..],
            trusted: Some(&trusted),
            consistency: &proof,
        },
        Some(Base {
            replay: cached.replay,
            entries: cached.entries,
        }),
    )
    .unwrap();
    assert_eq!(synced.fetched, 2);
    assert_eq!(synced.entries, log.verified(6).entries);
    cache
        .save(
            &log.me,
            &Update {
                keep: Some(keep),
                bodies: &log.entries[4..],
                entries: &synced.entries,
                checkpoint: &synced.checkpoint,
                genesis: &synced.genesis,
                verified_at: datetime!(2026-11-27 11:00 UTC),
            },
        )
        .unwrap();
    let reloaded = log.load(&cache, 6).unwrap().unwrap();
    assert_eq!(reloaded.entries, synced.entries);
}

#[test]
fn new_entries_that_do_not_extend_the_cached_tree_do_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_of(4);
    let cache = log.cache(dir.path());
    log.save(&cache, 3);
    // Another log's entry served after the cached ones.
    let other = log_of(4);
    let mut entries = log.entries.clone();
    entries[3].clone_from(&other.entries[3]);
    let cached = log.load(&cache, 3).unwrap().unwrap();
    let checkpoint = log.checkpoint(4);
    let err = verify_log_from(
        &LogInputs {
            log_vkey: &log.vkey,
            policy_digest: log.digest(),
            served_policy: None,
            checkpoint: &checkpoint,
            entries: &entries[3..],
            trusted: None,
            consistency: &[],
        },
        Some(Base {
            replay: cached.replay,
            entries: cached.entries,
        }),
    )
    .unwrap_err();
    assert!(err.summary.contains("does not verify"), "{}", err.summary);
}

#[test]
fn every_byte_flipped_in_the_entries_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_of(3);
    let cache = log.cache(dir.path());
    log.save(&cache, 3);
    let path = cache.dir().join(ENTRIES);
    let original = std::fs::read(&path).unwrap();
    for at in (0..original.len()).step_by(7) {
        let mut bytes = original.clone();
        bytes[at] ^= 0x20;
        std::fs::write(&path, &bytes).unwrap();
        let refused = log.load(&cache, 3).unwrap_err();
        assert!(refused.to_string().contains("rebuilt from the store"));
    }
}

#[test]
fn a_manifest_not_signed_by_me_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_of(3);
    let cache = log.cache(dir.path());
    log.save(&cache, 3);
    // Re-signed by someone else (here: the CI key), naming that key.
    let path = cache.dir().join(MANIFEST);
    let signed: SignedManifest = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let forged = SignedManifest {
        signature: crate::encoding::encode(
            &log.ci
                .signing_key()
                .sign(signed.manifest.as_bytes())
                .to_bytes(),
        ),
        key: log.ci.public(),
        manifest: signed.manifest.clone(),
    };
    std::fs::write(&path, serde_json::to_vec(&forged).unwrap()).unwrap();
    let refused = log.load(&cache, 3).unwrap_err();
    assert!(refused.problem.contains("another key"), "{refused}");
    // My key named, but the text changed after signing.
    let edited = SignedManifest {
        manifest: signed.manifest.replace("\"size\":3", "\"size\":2"),
        ..signed
    };
    std::fs::write(&path, serde_json::to_vec(&edited).unwrap()).unwrap();
    let refused = log.load(&cache, 3).unwrap_err();
    assert!(refused.problem.contains("does not verify"), "{refused}");
}

#[test]
fn a_cache_beyond_or_beside_the_trusted_checkpoint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_of(4);
    let cache = log.cache(dir.path());
    log.save(&cache, 4);
    // Newer than what is trusted.
    assert!(log.load(&cache, 3).is_err());
    // Same size, another root.
    let other = log_of(4);
    let refused = cache
        .load(
            &log.vkey,
            log.digest(),
            &log.me.public(),
            Some(&SignedCheckpoint::parse_and_verify(&other.checkpoint(4), &other.vkey).unwrap()),
        )
        .unwrap_err();
    assert!(refused.problem.contains("not the trusted one"), "{refused}");
    // Older is fine: the sync then fetches from there.
    let mut longer = Log { ..log };
    longer.request("2.0.0");
    assert_eq!(longer.load(&cache, 5).unwrap().unwrap().size(), 4);
    // Nothing trusted: no cache to use.
    assert!(
        cache
            .load(&longer.vkey, longer.digest(), &longer.me.public(), None)
            .unwrap()
            .is_none()
    );
}

#[test]
fn refolding_attributes_each_entry_to_a_key_of_the_policy_in_force() {
    let log = log_of(3);
    let genesis = Arc::new(Policy::pinned(&log.genesis, "policy", log.digest()).unwrap());
    let full = log.verified(3);
    let keys: Vec<PublicKey> = full.entries.iter().map(|e| e.key).collect();
    let mut trusted = Replay::new(Arc::clone(&genesis));
    let refolded: Vec<_> = trusted
        .extend_trusted(&log.entries, &keys)
        .unwrap()
        .into_iter()
        .map(|r| r.entry)
        .collect();
    assert_eq!(refolded, full.entries);
    assert_eq!(trusted.folder().raw_state(), full.folder.raw_state());
    // A key the policy does not name is not a signer.
    let stranger = Signer::generate("mallory").public();
    let mut wrong = keys.clone();
    wrong[1] = stranger;
    assert!(
        Replay::new(Arc::clone(&genesis))
            .extend_trusted(&log.entries, &wrong)
            .is_err()
    );
    // One signer per entry.
    assert!(
        Replay::new(genesis)
            .extend_trusted(&log.entries, &keys[..2])
            .is_err()
    );
}
