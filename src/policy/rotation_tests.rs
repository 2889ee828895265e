//! Rotation tests after audit-anchors §6 K (tuf-conformance): threshold of
//! distinct admin keys, duplicate keys and signatures, wrong-role signers,
//! exact N+1 versions, tampered documents, origin changes.

use std::fmt::Write as _;

use crate::digest::Digest;
use crate::envelope::Envelope;
use crate::keys::Signer;
use crate::statement::{PolicyPredicate, Predicate, Statement, Subject};

use super::{Policy, RotationError, verify_chain, verify_successor};

struct People {
    bob: Signer,
    erin: Signer,
    frank: Signer,
    alice: Signer,
}

impl People {
    fn new() -> Self {
        Self {
            bob: Signer::generate("bob"),
            erin: Signer::generate("erin"),
            frank: Signer::generate("frank"),
            alice: Signer::generate("alice"),
        }
    }
}

/// A policy whose `policy-admin` role is `admins` (threshold 2) and whose
/// release manager is `alice`.
fn text(version: u64, origin: &str, admins: &[&Signer], alice: &Signer) -> String {
    let mut t = format!(
        "version = {version}\norigin = \"{origin}\"\nadmins = {{ role = \"policy-admin\", threshold = 2 }}\n"
    );
    for s in admins.iter().chain([&alice]) {
        let _ = write!(t, "[operators.{}]\nkey = \"{}\"\n", s.name(), s.public());
    }
    let names: Vec<String> = admins.iter().map(|s| format!("\"{}\"", s.name())).collect();
    let _ = write!(
        t,
        "[roles]\npolicy-admin = [{}]\nrelease-manager = [\"alice\"]\n[environments.dev]\n",
        names.join(", ")
    );
    t
}

const ORIGIN: &str = "audit.example.com/tollgate";

fn genesis(p: &People) -> Policy {
    Policy::parse(
        &text(1, ORIGIN, &[&p.bob, &p.erin, &p.frank], &p.alice),
        "v1.toml",
    )
    .unwrap()
}

fn sign(statement: &Statement, signers: &[&Signer]) -> Envelope {
    let (first, rest) = signers.split_first().unwrap();
    let mut envelope = first.sign_statement(statement.to_payload());
    for s in rest {
        envelope.add_signature(s.signing_key(), &s.public().key_id().to_string());
    }
    envelope
}

fn successor(document: &str, version: u64, signers: &[&Signer]) -> Envelope {
    sign(&Statement::policy(version, document), signers)
}

#[test]
fn version_n_plus_one_signed_by_a_threshold_of_admins_is_accepted() {
    let p = People::new();
    let v1 = genesis(&p);
    let doc = text(2, ORIGIN, &[&p.bob, &p.erin], &p.alice);
    let v2 = verify_successor(&v1, &successor(&doc, 2, &[&p.bob, &p.erin])).unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.document(), doc);
    assert_eq!(v2.digest(), Digest::of(doc.as_bytes()));
    // Through JSON too: what the store holds is the envelope's bytes.
    let envelope = successor(&doc, 2, &[&p.erin, &p.bob, &p.frank]);
    let parsed = Envelope::from_json(&envelope.to_json()).unwrap();
    assert_eq!(verify_successor(&v1, &parsed).unwrap(), v2);
}

#[test]
fn below_threshold_is_refused_with_the_count() {
    let p = People::new();
    let v1 = genesis(&p);
    let doc = text(2, ORIGIN, &[&p.bob, &p.erin, &p.frank], &p.alice);
    let err = verify_successor(&v1, &successor(&doc, 2, &[&p.bob])).unwrap_err();
    assert_eq!(
        err,
        RotationError::BelowThreshold {
            valid: 1,
            needed: 2,
            role: "policy-admin".into(),
            version: 1,
        }
    );
    assert!(
        err.to_string()
            .contains("1 distinct \"policy-admin\" key(s) of policy version 1, of the 2 needed"),
        "{err}"
    );
}

#[test]
fn the_new_version_needs_the_threshold_of_its_own_admins_too() {
    let p = People::new();
    let v1 = genesis(&p);
    // v2 keeps bob and erin as admins: frank's signature counts for v1's
    // threshold but not for v2's, so bob + frank is one of v2's two.
    let doc = text(2, ORIGIN, &[&p.bob, &p.erin], &p.alice);
    let err = verify_successor(&v1, &successor(&doc, 2, &[&p.bob, &p.frank])).unwrap_err();
    assert_eq!(
        err,
        RotationError::BelowThreshold {
            valid: 1,
            needed: 2,
            role: "policy-admin".into(),
            version: 2,
        }
    );
    assert!(err.to_string().contains("policy version 2"), "{err}");

    // Handing the admin role to new keys: the old admins alone cannot do
    // it; the new admins must sign as well (TUF root rotation).
    let grace = Signer::generate("grace");
    let heidi = Signer::generate("heidi");
    let handover = text(2, ORIGIN, &[&grace, &heidi], &p.alice);
    let err = verify_successor(&v1, &successor(&handover, 2, &[&p.bob, &p.erin])).unwrap_err();
    assert!(
        matches!(
            err,
            RotationError::BelowThreshold {
                valid: 0,
                version: 2,
                ..
            }
        ),
        "{err}"
    );
    // The new admins alone cannot take over either.
    let err = verify_successor(&v1, &successor(&handover, 2, &[&grace, &heidi])).unwrap_err();
    assert!(
        matches!(
            err,
            RotationError::BelowThreshold {
                valid: 0,
                version: 1,
                ..
            }
        ),
        "{err}"
    );
    let v2 = verify_successor(
        &v1,
        &successor(&handover, 2, &[&p.bob, &grace, &p.erin, &heidi]),
    )
    .unwrap();
    assert_eq!(v2.document(), handover);
}

#[test]
fn one_admin_key_signing_twice_counts_once() {
    let p = People::new();
    let v1 = genesis(&p);
    let doc = text(2, ORIGIN, &[&p.bob, &p.erin, &p.frank], &p.alice);
    let envelope = successor(&doc, 2, &[&p.bob, &p.bob, &p.bob]);
    assert_eq!(envelope.signatures().len(), 3);
    assert!(matches!(
        verify_successor(&v1, &envelope),
        Err(RotationError::BelowThreshold {
            valid: 1,
            needed: 2,
            ..
        })
    ));
}

#[test]
fn one_key_under_two_admin_names_cannot_even_be_expressed() {
    let p = People::new();
    // "frank" holds bob's key: the policy itself is refused, so no rotation
    // can ever be counted against it.
    let bob_again = Signer::from_signing_key("frank", p.bob.signing_key().clone()).unwrap();
    let doc = text(1, ORIGIN, &[&p.bob, &p.erin, &bob_again], &p.alice);
    let errors = Policy::parse(&doc, "v1.toml").unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("same public key as operator \"bob\"")),
        "{errors}"
    );
}

#[test]
fn signatures_from_outside_the_admin_role_do_not_count() {
    let p = People::new();
    let v1 = genesis(&p);
    let doc = text(2, ORIGIN, &[&p.bob, &p.erin, &p.frank], &p.alice);
    // alice is a release manager: a valid operator, in the wrong role.
    let err = verify_successor(&v1, &successor(&doc, 2, &[&p.alice, &p.bob])).unwrap_err();
    assert!(
        matches!(err, RotationError::BelowThreshold { valid: 1, .. }),
        "{err}"
    );
    let stranger = Signer::generate("mallory");
    let err = verify_successor(&v1, &successor(&doc, 2, &[&stranger, &p.alice])).unwrap_err();
    assert!(
        matches!(err, RotationError::BelowThreshold { valid: 0, .. }),
        "{err}"
    );
}

#[test]
fn versions_must_advance_by_exactly_one() {
    let p = People::new();
    let admins = [&p.bob, &p.erin, &p.frank];
    let v1 = genesis(&p);
    let v2doc = text(2, ORIGIN, &admins, &p.alice);
    let v2 = verify_successor(&v1, &successor(&v2doc, 2, &[&p.bob, &p.erin])).unwrap();

    let skip = text(4, ORIGIN, &admins, &p.alice);
    assert_eq!(
        verify_successor(&v2, &successor(&skip, 4, &[&p.bob, &p.erin])).unwrap_err(),
        RotationError::SkippedVersion {
            current: 2,
            next: 4
        }
    );
    let same =
        text(2, ORIGIN, &admins, &p.alice).replace("[environments.dev]", "[environments.qa]");
    assert_eq!(
        verify_successor(&v2, &successor(&same, 2, &[&p.bob, &p.erin])).unwrap_err(),
        RotationError::SameVersion { current: 2 }
    );
    let back = text(1, ORIGIN, &admins, &p.alice);
    assert_eq!(
        verify_successor(&v2, &successor(&back, 1, &[&p.bob, &p.erin])).unwrap_err(),
        RotationError::Rollback {
            current: 2,
            next: 1
        }
    );
}

#[test]
fn the_statement_version_must_match_the_document() {
    let p = People::new();
    let v1 = genesis(&p);
    let doc = text(3, ORIGIN, &[&p.bob, &p.erin], &p.alice);
    assert_eq!(
        verify_successor(&v1, &successor(&doc, 2, &[&p.bob, &p.erin])).unwrap_err(),
        RotationError::VersionDisagrees {
            predicate: 2,
            document: 3
        }
    );
}

#[test]
fn a_tampered_document_or_digest_is_refused() {
    let p = People::new();
    let v1 = genesis(&p);
    let doc = text(2, ORIGIN, &[&p.bob, &p.erin], &p.alice);
    let digest = Digest::of(doc.as_bytes());
    let tampered = doc.replace("threshold = 2", "threshold = 1");

    // The document was swapped after the digest was computed.
    let statement = Statement::about(
        "policy.toml",
        digest,
        Predicate::Policy(PolicyPredicate {
            version: 2,
            document_digest: digest,
            document: tampered.clone(),
        }),
    );
    let err = verify_successor(&v1, &sign(&statement, &[&p.bob, &p.erin])).unwrap_err();
    assert!(matches!(err, RotationError::Statement(_)), "{err}");

    // The predicate is consistent but the subject names something else.
    let statement = Statement::new(
        vec![Subject {
            name: "policy.toml".into(),
            digest: Digest::of(b"something else"),
        }],
        Predicate::Policy(PolicyPredicate {
            version: 2,
            document_digest: digest,
            document: doc,
        }),
    );
    let err = verify_successor(&v1, &sign(&statement, &[&p.bob, &p.erin])).unwrap_err();
    assert!(matches!(err, RotationError::Statement(_)), "{err}");
}

#[test]
fn a_policy_cannot_move_to_another_log() {
    let p = People::new();
    let v1 = genesis(&p);
    let doc = text(2, "evil.example.com/log", &[&p.bob, &p.erin], &p.alice);
    assert_eq!(
        verify_successor(&v1, &successor(&doc, 2, &[&p.bob, &p.erin])).unwrap_err(),
        RotationError::OriginChanged {
            current: ORIGIN.into(),
            next: "evil.example.com/log".into()
        }
    );
}

#[test]
fn an_invalid_new_document_surfaces_its_errors() {
    let p = People::new();
    let v1 = genesis(&p);
    let doc =
        text(2, ORIGIN, &[&p.bob, &p.erin], &p.alice).replace("threshold = 2", "threshold = 5");
    let err = verify_successor(&v1, &successor(&doc, 2, &[&p.bob, &p.erin])).unwrap_err();
    let RotationError::InvalidDocument(errors) = &err else {
        panic!("expected an invalid document, got {err}");
    };
    assert_eq!(errors.len(), 1);
    assert!(err.to_string().contains("policy-v2.toml:3:"), "{err}");
    assert!(err.to_string().contains("threshold 5 is larger"), "{err}");
}

#[test]
fn a_wrong_payload_type_is_refused_after_signatures_check() {
    let p = People::new();
    let v1 = genesis(&p);
    let doc = text(2, ORIGIN, &[&p.bob, &p.erin], &p.alice);
    let payload = Statement::policy(2, &doc).to_payload();
    let mut envelope = Envelope::sign("text/plain", payload, p.bob.signing_key(), "");
    envelope.add_signature(p.erin.signing_key(), "");
    assert!(matches!(
        verify_successor(&v1, &envelope),
        Err(RotationError::Envelope(_))
    ));
}

#[test]
fn a_chain_follows_each_versions_own_admins() {
    let p = People::new();
    let v1 = genesis(&p);
    let grace = Signer::generate("grace");
    // v2 replaces frank with grace; v3 must then be signed by v2's admins.
    let v2doc = text(2, ORIGIN, &[&p.bob, &p.erin, &grace], &p.alice);
    let v3doc = text(3, ORIGIN, &[&p.bob, &grace], &p.alice);
    let e2 = successor(&v2doc, 2, &[&p.bob, &p.frank, &grace]);
    let e3 = successor(&v3doc, 3, &[&grace, &p.erin, &p.bob]);
    let v3 = verify_chain(&v1, &[e2.clone(), e3]).unwrap();
    assert_eq!(v3.version, 3);
    assert_eq!(v3.document(), v3doc);

    // frank was removed in v2, so his signature no longer counts for v3.
    let e3_by_frank = successor(&v3doc, 3, &[&p.frank, &p.erin]);
    let err = verify_chain(&v1, &[e2, e3_by_frank]).unwrap_err();
    let RotationError::Chain {
        index,
        version,
        source,
    } = &err
    else {
        panic!("expected a chain error, got {err}");
    };
    assert_eq!((*index, *version), (1, 2));
    assert!(matches!(
        **source,
        RotationError::BelowThreshold { valid: 1, .. }
    ));
    assert!(
        err.to_string()
            .starts_with("policy envelope 1 (successor of version 2): "),
        "{err}"
    );
    assert_eq!(verify_chain(&v1, &[]).unwrap(), v1);
}
