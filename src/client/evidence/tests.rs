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
