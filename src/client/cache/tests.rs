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
                &log.cache_update(None, &self.entries[..size], datetime!(2026-11-27 10:00 UTC)),
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
    assert_eq!(cached.entries.all().unwrap(), full.entries.all().unwrap());
    assert_eq!(cached.replay.folder().raw_state(), full.folder.raw_state());
    assert_eq!(cached.replay.root(), full.tree.root());
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
    let kept = cached.kept();
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
    assert_eq!(
        synced.entries.all().unwrap(),
        log.verified(6).entries.all().unwrap()
    );
    cache
        .save(
            &log.me,
            &synced.cache_update(
                Some(&kept),
                &log.entries[4..],
                datetime!(2026-11-27 11:00 UTC),
            ),
        )
        .unwrap();
    // Two entries after the saved replay: it is kept, and they are folded
    // again on load.
    assert!(cache.dir().join("state-4.bin").exists());
    assert!(!cache.dir().join("state-6.bin").exists());
    let reloaded = log.load(&cache, 6).unwrap().unwrap();
    // Visiting from any position (in the stored entries, at their end, in
    // the ones folded after them) gives exactly the verified entries from
    // there.
    let all = synced.entries.all().unwrap();
    for from in 0..=6 {
        let mut seen = Vec::new();
        reloaded
            .entries
            .visit(from, |e| seen.push(e.clone()))
            .unwrap();
        assert_eq!(seen, all[from..], "from {from}");
    }
    assert_eq!(reloaded.entries.all().unwrap(), all);
    assert_eq!(
        reloaded.replay.folder().raw_state(),
        synced.folder.raw_state()
    );
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

/// The cached entries are read when a command shows them; a changed byte
/// is refused then (or at load, when it falls in the entries folded after the
/// saved replay), and the refused cache is not used again.
#[test]
fn every_byte_flipped_in_the_entries_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_of(3);
    let cache = log.cache(dir.path());
    log.save(&cache, 3);
    let path = cache.dir().join(ENTRIES);
    let original = std::fs::read(&path).unwrap();
    for at in (0..original.len()).step_by(7) {
        log.save(&cache, 3);
        let mut bytes = original.clone();
        bytes[at] ^= 0x20;
        std::fs::write(&path, &bytes).unwrap();
        let refused = match log.load(&cache, 3) {
            Err(refused) => refused,
            Ok(cached) => {
                let cached = cached.unwrap();
                // Read one at a time (the cockpit's index) or all at once.
                let visited = cached.entries.visit(0, |_| {}).unwrap_err();
                assert!(log.load(&cache, 3).unwrap().is_none(), "used again");
                log.save(&cache, 3);
                std::fs::write(&path, &bytes).unwrap();
                let refused = log
                    .load(&cache, 3)
                    .unwrap()
                    .unwrap()
                    .entries
                    .all()
                    .unwrap_err();
                assert_eq!(refused, visited);
                assert!(log.load(&cache, 3).unwrap().is_none(), "used again");
                refused
            }
        };
        assert!(refused.to_string().contains("rebuilt from the store"));
    }
}

/// A cache of a 4-entry log saved in a temporary directory, its state
/// file's path and bytes.
fn saved_replay_of_4() -> (tempfile::TempDir, Log, Cache, std::path::PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let log = log_of(4);
    let cache = log.cache(dir.path());
    log.save(&cache, 4);
    let path = cache.dir().join("state-4.bin");
    let original = std::fs::read(&path).unwrap();
    (dir, log, cache, path, original)
}

#[test]
fn every_byte_flipped_in_the_saved_replay_is_refused() {
    let (_dir, log, cache, path, original) = saved_replay_of_4();
    for at in (0..original.len()).step_by(5) {
        let mut bytes = original.clone();
        bytes[at] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let refused = log.load(&cache, 4).unwrap_err();
        assert!(
            refused.problem.contains("not the file its manifest lists"),
            "{refused}"
        );
    }
    // Cut short, or gone.
    std::fs::write(&path, &original[..original.len() - 1]).unwrap();
    assert!(log.load(&cache, 4).is_err());
    std::fs::remove_file(&path).unwrap();
    assert!(log.load(&cache, 4).is_err());
}

/// The saved promotions are read when something reads them, each time
/// checked against the manifest: a state file changed after the load is
/// never trusted (what it holds reads as absent), and a value the load did
/// not touch is read from the file only then.
#[test]
fn a_saved_replay_changed_after_the_load_is_not_trusted() {
    let (_dir, log, cache, path, original) = saved_replay_of_4();

    let intact = log.load(&cache, 4).unwrap().unwrap();
    let changed = log.load(&cache, 4).unwrap().unwrap();
    // The file is changed in place after both loads.
    let mut bytes = original.clone();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
        .unwrap();
    let promotions = |cached: &Cached| {
        cached
            .replay
            .folder()
            .raw_state()
            .promotions
            .values()
            .count()
    };
    assert_eq!(promotions(&changed), 0);
    // Put back, a load reads every promotion again.
    std::fs::write(&path, &original).unwrap();
    assert_eq!(promotions(&intact), 3);
}

/// A state file that matches its manifest but not the log (here: another
/// log's leaves, with a manifest signed by me) does not hash to the
/// checkpoint's root.
#[test]
fn a_saved_replay_of_another_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_of(4);
    let cache = log.cache(dir.path());
    log.save(&cache, 4);
    let other_dir = tempfile::tempdir().unwrap();
    // The same genesis and keys, other requests.
    let copy = |s: &Signer| Signer::from_signing_key(s.name(), s.signing_key().clone()).unwrap();
    let mut other = Log {
        ci: copy(&log.ci),
        me: copy(&log.me),
        note_key: copy(&log.note_key),
        vkey: log.vkey.clone(),
        genesis: log.genesis.clone(),
        entries: log.entries[..1].to_vec(),
    };
    for n in 0..3 {
        other.request(&format!("9.0.{n}"));
    }
    let other_cache = other.cache(other_dir.path());
    other.save(&other_cache, 4);
    // Their state file under my manifest, re-signed by me with its digest.
    let theirs = std::fs::read(other_cache.dir().join("state-4.bin")).unwrap();
    std::fs::write(cache.dir().join("state-4.bin"), &theirs).unwrap();
    let path = cache.dir().join(MANIFEST);
    let signed: SignedManifest = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let mut manifest: Manifest = serde_json::from_str(&signed.manifest).unwrap();
    manifest.state.len = theirs.len() as u64;
    manifest.state.chunks =
        crate::encoding::encode(state_file::chunk_digests(&theirs).as_flattened());
    let text = serde_json::to_string(&manifest).unwrap();
    let resigned = SignedManifest {
        signature: crate::encoding::encode(&log.me.signing_key().sign(text.as_bytes()).to_bytes()),
        key: log.me.public(),
        manifest: text,
    };
    std::fs::write(&path, serde_json::to_vec(&resigned).unwrap()).unwrap();
    let refused = log.load(&cache, 4).unwrap_err();
    assert!(
        refused.problem.contains("do not hash to the root"),
        "{refused}"
    );
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
    let keys: Vec<PublicKey> = full.entries.all().unwrap().iter().map(|e| *e.key).collect();
    let mut trusted = Replay::new(Arc::clone(&genesis));
    let refolded: Vec<_> = trusted
        .extend_trusted(&log.entries, &keys)
        .unwrap()
        .into_iter()
        .map(|r| r.entry)
        .collect();
    assert_eq!(refolded, full.entries.all().unwrap());
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

/// More than [`TAIL`] entries after the saved replay: the save writes a new
/// one and removes the old; the load resumes from the new one.
#[test]
fn a_long_tail_is_saved_as_a_new_replay() {
    let dir = tempfile::tempdir().unwrap();
    let total = usize::try_from(TAIL).unwrap() + 3;
    let log = log_of(total);
    let cache = log.cache(dir.path());
    log.save(&cache, 2);
    let kept = log.load(&cache, 2).unwrap().unwrap().kept();
    let mut replay = log.load(&cache, 2).unwrap().unwrap();
    let tail_bodies = &log.entries[2..total];
    let new: Vec<_> = replay
        .replay
        .extend(tail_bodies)
        .unwrap()
        .into_iter()
        .map(|r| r.entry)
        .collect();
    replay.entries.extend(new);
    let (folder, tree, policy_entries) = replay.replay.into_parts();
    let full = log.verified(total);
    let synced = VerifiedLog {
        entries: replay.entries,
        folder,
        tree,
        policy_entries,
        ..full
    };
    cache
        .save(
            &log.me,
            &synced.cache_update(Some(&kept), tail_bodies, datetime!(2026-11-27 11:00 UTC)),
        )
        .unwrap();
    assert!(cache.dir().join(format!("state-{total}.bin")).exists());
    assert!(!cache.dir().join("state-2.bin").exists());
    let reloaded = log.load(&cache, total).unwrap().unwrap();
    assert_eq!(reloaded.size(), total as u64);
    assert_eq!(
        reloaded.replay.folder().raw_state(),
        log.verified(total).folder.raw_state()
    );
    assert_eq!(reloaded.entries.all().unwrap().len(), total);
}
