#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn the_cache_keeps_a_blob_and_drops_one_that_no_longer_matches_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let cache = BlobCache::new(dir.path().join("evidence"));
    let bytes = b"<testsuite><testcase name=\"a\"/></testsuite>";
    let digest = Digest::of(bytes);
    assert_eq!(cache.read(&digest), None);
    cache.keep(&digest, bytes);
    assert_eq!(cache.read(&digest).as_deref(), Some(&bytes[..]));

    // Changed on disk: not believed, and removed so it is fetched again.
    let path = cache.dir().join(digest.to_hex());
    std::fs::write(&path, b"<testsuite/>").unwrap();
    assert_eq!(cache.read(&digest), None);
    assert!(!path.exists());
}

#[test]
fn offline_a_blob_outside_the_cache_is_unavailable_not_missing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = BlobCache::new(dir.path());
    let digest = Digest::of(b"never fetched");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let blob = runtime.block_on(fetch(None, &cache, &digest));
    let Blob::Unavailable(problem) = blob else {
        panic!("{blob:?}");
    };
    assert!(
        problem.contains("not in the local evidence cache"),
        "{problem}"
    );
}

/// Judgements survive between commands only under the operator's own
/// signature and this evaluator; a changed byte, another operator's key or
/// a file of another evaluator is ignored (judged again), and the states
/// that are not final are never kept.
#[test]
fn saved_judgements_are_believed_only_as_this_operator_signed_them() {
    let dir = tempfile::tempdir().unwrap();
    let me = crate::keys::Signer::generate("alice");
    let other = crate::keys::Signer::generate("mallory");
    let file = JudgedFile::new(dir.path(), &me.public());
    let (policy, a, b, c) = (
        Digest::of(b"policy"),
        Digest::of(b"a"),
        Digest::of(b"b"),
        Digest::of(b"c"),
    );
    let disputed = Rejudgement::Disputed {
        stated: crate::statement::GateStatus::Pass,
        computed: crate::statement::GateStatus::Fail,
        evaluator: EVALUATOR_VERSION.to_owned(),
        summary: "2 of 10 tests failed".to_owned(),
    };
    let mut judged = Judged::new();
    judged.insert((a, policy), Rejudgement::Agrees);
    judged.insert((b, policy), disputed.clone());
    judged.insert(
        (c, policy),
        Rejudgement::NotRejudged {
            problem: "offline".to_owned(),
        },
    );
    assert!(file.load(&me.public()).is_empty(), "no file yet");
    file.save(&me, &judged).unwrap();

    let loaded = file.load(&me.public());
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[&(a, policy)], Rejudgement::Agrees);
    assert_eq!(loaded[&(b, policy)], disputed);

    assert!(file.load(&other.public()).is_empty(), "another key");
    let original = std::fs::read(file.path()).unwrap();
    for at in 0..original.len() {
        let mut bytes = original.clone();
        bytes[at] ^= 0x01;
        std::fs::write(file.path(), &bytes).unwrap();
        assert!(file.load(&me.public()).is_empty(), "byte {at} flipped");
    }
    // Signed by someone else, even with a valid body: ignored.
    file.save(&other, &judged).unwrap();
    assert!(file.load(&me.public()).is_empty());
}
