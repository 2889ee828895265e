use time::macros::datetime;

use super::*;

type Mutation = Box<dyn Fn(&mut serde_json::Value)>;

fn digest(s: &str) -> Digest {
    Digest::of(s.as_bytes())
}

fn request() -> Statement {
    Statement::about(
        "payments",
        digest("artifact"),
        Predicate::PromotionRequest(PromotionRequest {
            service: "payments".into(),
            version: "1.4.2".into(),
            from: Some("staging".into()),
            to: "prod".into(),
            source: SourceRef {
                repo: "git@example.com:pay.git".into(),
                commit: "abc123".into(),
            },
            release_notes: None,
            requested_at: datetime!(2026-11-27 09:00 UTC),
            nonce: new_nonce(),
        }),
    )
}

fn approval() -> Statement {
    Statement::about(
        "payments",
        digest("artifact"),
        Predicate::Decision(Decision {
            action: DecisionAction::Approve {
                promotion: digest("promotion"),
            },
            role: "release-manager".into(),
            rationale: "looks good".into(),
            issued_at: datetime!(2026-11-27 10:00 UTC),
            expires_at: datetime!(2026-11-28 10:00 UTC),
            nonce: new_nonce(),
            bound: Binding {
                policy: digest("p"),
                gate_results: digest("g"),
                snapshot: None,
            },
            observed: ObservedCheckpoint {
                origin: "example.com/log".into(),
                size: 3,
                root: RootHash([7; 32]),
            },
        }),
    )
}

fn edit(statement: &Statement, f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(&statement.to_payload()).unwrap();
    f(&mut value);
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn every_predicate_round_trips() {
    let rollback = Statement::about(
        "payments",
        digest("old"),
        Predicate::Decision(Decision {
            action: DecisionAction::Rollback {
                environment: "prod".into(),
                service: "payments".into(),
                from: digest("new"),
                to: digest("old"),
            },
            ..match approval().predicate {
                Predicate::Decision(d) => d,
                _ => unreachable!(),
            }
        }),
    );
    let cases = [
        request(),
        approval(),
        rollback,
        Statement::policy(2, "version = 2\n"),
        Statement::about(
            "payments",
            digest("artifact"),
            Predicate::GateResult(GateResult {
                promotion: digest("promotion"),
                gate: "unit-tests".into(),
                status: GateStatus::Fail,
                summary: "2 of 120 tests failed".into(),
                measurements: vec![Measurement {
                    name: "failures".into(),
                    value: 2.0,
                    threshold: Some(0.0),
                    unit: None,
                }],
                evidence: vec![EvidenceRef {
                    kind: "junit".into(),
                    media_type: "application/xml".into(),
                    digest: digest("junit.xml"),
                }],
                remediation: Some("fix the tests".into()),
                produced_at: datetime!(2026-11-27 09:30 UTC),
                evaluator: Some(crate::evidence::EVALUATOR_VERSION.into()),
            }),
        ),
        Statement::about(
            "payments",
            digest("artifact"),
            Predicate::Deployment(Deployment {
                target: DeploymentTarget::Promotion(digest("promotion")),
                environment: "prod".into(),
                service: "payments".into(),
                status: DeploymentStatus::Succeeded,
                at: datetime!(2026-11-27 11:00 UTC),
            }),
        ),
    ];
    for statement in cases {
        let parsed = Statement::parse_verified(&statement.to_payload()).unwrap();
        assert_eq!(parsed, statement);
        assert_eq!(parsed.to_payload(), statement.to_payload());
    }
}

#[test]
fn wrong_type_and_unknown_predicate_types_are_refused() {
    let s = request();
    let wrong_type = edit(&s, |v| {
        v["_type"] = "https://in-toto.io/Statement/v0.1".into();
    });
    assert!(matches!(
        Statement::parse_verified(&wrong_type),
        Err(StatementError::WrongType(_))
    ));
    let unknown = edit(&s, |v| {
        v["predicateType"] = "https://slsa.dev/provenance/v1".into();
    });
    assert!(matches!(
        Statement::parse_verified(&unknown),
        Err(StatementError::UnknownPredicateType(_))
    ));
    // A valid request body under the decision type is a claim confusion.
    let confused = edit(&s, |v| v["predicateType"] = predicate_type::DECISION.into());
    assert!(matches!(
        Statement::parse_verified(&confused),
        Err(StatementError::BadPredicate { .. })
    ));
}

#[test]
fn statement_layer_ignores_unknown_fields_but_predicates_do_not() {
    let s = request();
    let extra_outer = edit(&s, |v| v["futureField"] = 1.into());
    assert!(Statement::parse_verified(&extra_outer).is_ok());
    let extra_inner = edit(&s, |v| v["predicate"]["approved"] = true.into());
    assert!(matches!(
        Statement::parse_verified(&extra_inner),
        Err(StatementError::BadPredicate { .. })
    ));
}

#[test]
fn duplicate_predicate_fields_are_refused() {
    let text = String::from_utf8(request().to_payload()).unwrap();
    let dup = text.replacen("\"to\":\"prod\"", "\"to\":\"dev\",\"to\":\"prod\"", 1);
    assert_ne!(dup, text);
    assert!(Statement::parse_verified(dup.as_bytes()).is_err());
}

#[test]
fn subjects_must_be_single_sha256_digests() {
    let s = request();
    for (why, mutate) in [
        (
            "no subject",
            Box::new(|v: &mut serde_json::Value| v["subject"] = serde_json::json!([])) as Mutation,
        ),
        (
            "sha512 only",
            Box::new(|v| v["subject"][0]["digest"] = serde_json::json!({"sha512": "ab"})),
        ),
        (
            "extra algorithm",
            Box::new(|v| {
                v["subject"][0]["digest"]["sha1"] = "ab".into();
            }),
        ),
        (
            "uppercase hex",
            Box::new(|v| {
                let hex = v["subject"][0]["digest"]["sha256"]
                    .as_str()
                    .unwrap()
                    .to_uppercase();
                v["subject"][0]["digest"]["sha256"] = hex.into();
            }),
        ),
    ] {
        assert!(
            Statement::parse_verified(&edit(&s, mutate)).is_err(),
            "{why}"
        );
    }
}

#[test]
fn decision_shapes_are_enforced() {
    let a = approval();
    let cases: [(&str, Mutation); 6] = [
        (
            "approve without promotion",
            Box::new(|v| {
                v["predicate"].as_object_mut().unwrap().remove("promotion");
            }),
        ),
        (
            "approve with a gate",
            Box::new(|v| v["predicate"]["gate"] = "sast".into()),
        ),
        (
            "unknown kind",
            Box::new(|v| v["predicate"]["kind"] = "bless".into()),
        ),
        (
            "empty rationale",
            Box::new(|v| v["predicate"]["rationale"] = " ".into()),
        ),
        (
            "expires before issued",
            Box::new(|v| v["predicate"]["expires_at"] = "2026-11-27T09:00:00Z".into()),
        ),
        (
            "short nonce",
            Box::new(|v| v["predicate"]["nonce"] = "abc".into()),
        ),
    ];
    for (why, mutate) in cases {
        assert!(
            Statement::parse_verified(&edit(&a, mutate)).is_err(),
            "{why}"
        );
    }
}

#[test]
fn policy_document_digest_must_match_document_and_subject() {
    let s = Statement::policy(2, "version = 2\n");
    let tampered = edit(&s, |v| v["predicate"]["document"] = "version = 3\n".into());
    assert!(matches!(
        Statement::parse_verified(&tampered),
        Err(StatementError::SubjectMismatch(_))
    ));
    let other_subject = edit(&s, |v| {
        v["subject"][0]["digest"]["sha256"] = Digest::of(b"x").to_hex().into();
    });
    assert!(matches!(
        Statement::parse_verified(&other_subject),
        Err(StatementError::SubjectMismatch(_))
    ));
}

#[test]
fn secret_fingerprints_never_carry_plain_secrets() {
    let snapshot = |fp: &str| {
        Statement::about(
            "payments",
            digest("artifact"),
            Predicate::Snapshot(Snapshot {
                environment: "prod".into(),
                service: "payments".into(),
                captured_at: datetime!(2026-11-27 09:00 UTC),
                artifact: digest("artifact"),
                config: BTreeMap::new(),
                flags: BTreeMap::new(),
                dependencies: BTreeMap::new(),
                images: BTreeMap::new(),
                secret_fingerprints: [("DB_PASSWORD".to_owned(), fp.to_owned())].into(),
            }),
        )
    };
    let good = format!("hmac-sha256:k1:{}", "a".repeat(64));
    assert!(Statement::parse_verified(&snapshot(&good).to_payload()).is_ok());
    assert!(Statement::parse_verified(&snapshot("hunter2").to_payload()).is_err());
}

use std::collections::BTreeMap;
