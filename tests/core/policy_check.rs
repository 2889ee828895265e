#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `tollgate policy check` as users see it: every invalid fixture under
//! `tests/fixtures/policy/invalid/` must produce exactly the error text in
//! its `.expected` file, and the shipped example policy must be valid.
//! After an intended wording change, `POLICY_FIXTURES_BLESS=1 cargo test
//! --test policy_check` rewrites the `.expected` files; review the diff.

use std::path::{Path, PathBuf};

use tollgate::policy::{EXAMPLE_POLICY, Policy, check_file};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy/invalid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_invalid_fixture_reports_exactly_the_expected_errors() {
    let files = fixtures();
    // Guards against the directory moving and the loop passing vacuously.
    assert_eq!(files.len(), 25, "fixture count changed; update this number");
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        // A missing file reads as empty, so it fails unless blessed.
        let expected = std::fs::read_to_string(path.with_extension("expected")).unwrap_or_default();
        match Policy::parse(&text, name) {
            Ok(_) => failures.push(format!("{name}: parsed, but it is meant to be invalid")),
            Err(errors) => {
                let actual = errors.to_string();
                if std::env::var_os("POLICY_FIXTURES_BLESS").is_some() {
                    std::fs::write(path.with_extension("expected"), format!("{actual}\n")).unwrap();
                } else if actual.trim_end() != expected.trim_end() {
                    failures.push(format!(
                        "{name}:\n--- expected\n{}\n--- actual\n{actual}",
                        expected.trim_end()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_multi_error_fixture_reports_many_problems_in_document_order() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy/invalid");
    let text = std::fs::read_to_string(dir.join("several-errors.toml")).unwrap();
    let errors = Policy::parse(&text, "several-errors.toml").unwrap_err();
    assert!(errors.len() >= 10, "only {} errors reported", errors.len());
    let positions: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.column)).collect();
    let mut sorted = positions.clone();
    sorted.sort_unstable();
    assert_eq!(positions, sorted);
}

#[test]
fn the_example_policy_is_valid() {
    let policy = Policy::parse(EXAMPLE_POLICY, "example.toml").unwrap();
    assert_eq!(policy.environment_order(), ["dev", "staging", "prod"]);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/policy/example.toml");
    let from_file = check_file(&path).unwrap();
    assert_eq!(from_file.digest(), policy.digest());
}

#[test]
fn check_file_names_the_file_it_could_not_read() {
    let errors = check_file(Path::new("/nonexistent/policy.toml")).unwrap_err();
    let text = errors.to_string();
    assert!(
        text.starts_with("/nonexistent/policy.toml:1:1: cannot read the policy file"),
        "{text}"
    );
}

#[test]
fn check_file_refuses_non_utf8_and_oversized_files() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, b"version = 1\n\xff\xfe").unwrap();
    let text = check_file(&binary).unwrap_err().to_string();
    assert!(
        text.contains("not UTF-8 text (invalid byte at offset 12)"),
        "{text}"
    );

    let big = dir.path().join("big.toml");
    std::fs::write(&big, vec![b'#'; tollgate::policy::MAX_POLICY_BYTES + 10]).unwrap();
    let text = check_file(&big).unwrap_err().to_string();
    assert!(text.contains(":1:1: the policy is more than"), "{text}");
}
