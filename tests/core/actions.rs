//! The action layer refuses locally exactly what the store refuses, with the
//! same words: for each fault, `client::actions::prepare` says the same as
//! the store's fold says of the equivalent signed statement. And what it
//! prepares, once signed, is accepted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::World;
use time::Duration;
use tollgate::client::actions::{Intent, prepare};
use tollgate::digest::Digest;
use tollgate::statement::{DecisionAction, GateStatus, Predicate, Statement};

/// A world with one promotion to prod of `app` waiting for approvals, its
/// sast gate failing; `app` v1 ran in prod before.
fn world() -> (World, Digest) {
    let mut w = World::new();
    w.through("app", Digest::of(b"app v1"), "prod");
    w.through("app", Digest::of(b"app v2"), "staging");
    let p = w.request(
        "erin",
        "app",
        Digest::of(b"app v2"),
        Some("staging"),
        "prod",
    );
    w.gate(p, "unit-tests", GateStatus::Pass);
    w.gate(p, "sast", GateStatus::Fail);
    (w, p)
}

/// The fold's reason for `statement` signed by `who`: what the store says
/// (its append pipeline runs this same `Folder::apply`).
fn store_says(w: &World, who: &str, statement: &Statement) -> String {
    let envelope = w.sign(who, statement);
    let entry = w
        .ring
        .verify(w.entries.len() as u64, &envelope.to_json())
        .unwrap();
    w.folder()
        .apply(&entry)
        .map(|()| panic!("the store would accept {statement:?}"))
        .unwrap_err()
        .to_string()
}

fn decision_statement(
    w: &World,
    role: &str,
    artifact: Digest,
    action: DecisionAction,
) -> Statement {
    Statement::about(
        "app",
        artifact,
        Predicate::Decision(w.decision(role, action)),
    )
}

fn local(w: &World, who: &str, intent: &Intent) -> String {
    prepare(&w.verified_log(), who, intent, w.clock)
        .map(|p| panic!("prepared {:?}", p.summary))
        .unwrap_err()
        .to_string()
}

#[test]
fn self_approval_is_refused_locally_with_the_stores_words() {
    let (w, p) = world();
    let intent = Intent::Approve {
        promotion: p,
        role: Some("release-manager".into()),
        rationale: "mine".into(),
    };
    let artifact = w.artifact_of(p);
    let stmt = decision_statement(
        &w,
        "release-manager",
        artifact,
        DecisionAction::Approve { promotion: p },
    );
    assert_eq!(local(&w, "erin", &intent), store_says(&w, "erin", &stmt));
}

#[test]
fn a_role_not_held_or_not_accepted_is_refused_locally() {
    let (w, p) = world();
    let artifact = w.artifact_of(p);
    for (who, role) in [("alice", "security"), ("carol", "oncall")] {
        let intent = Intent::Approve {
            promotion: p,
            role: Some(role.into()),
            rationale: "ok".into(),
        };
        let stmt = decision_statement(&w, role, artifact, DecisionAction::Approve { promotion: p });
        assert_eq!(
            local(&w, who, &intent),
            store_says(&w, who, &stmt),
            "{who} as {role}"
        );
    }
}

#[test]
fn a_misspelled_gate_and_a_too_long_waiver_are_refused_locally() {
    let (w, p) = world();
    let artifact = w.artifact_of(p);
    let until = w.clock + Duration::hours(24);
    let misspelled = Intent::Waive {
        promotion: p,
        gate: "sats".into(),
        ttl: Duration::hours(24),
        role: None,
        rationale: "typo".into(),
    };
    let stmt = decision_statement(
        &w,
        "security",
        artifact,
        DecisionAction::Waive {
            promotion: p,
            gate: "sats".into(),
            until,
        },
    );
    assert_eq!(
        local(&w, "dana", &misspelled),
        store_says(&w, "dana", &stmt)
    );

    // Only the fold knows the maximum: Folder::check catches it.
    let too_long = Intent::Waive {
        promotion: p,
        gate: "sast".into(),
        ttl: Duration::hours(100),
        role: None,
        rationale: "long".into(),
    };
    let said = local(&w, "dana", &too_long);
    assert!(said.contains("72"), "{said}");
}

#[test]
fn a_rollback_to_a_never_run_digest_is_refused_locally() {
    let (w, _) = world();
    let never = Digest::of(b"never deployed");
    let intent = Intent::Rollback {
        environment: "prod".into(),
        service: "app".into(),
        to: Some(never),
        role: Some("oncall".into()),
        rationale: "p99".into(),
    };
    let running = w
        .folder()
        .raw_state()
        .service("prod", "app")
        .unwrap()
        .running
        .clone()
        .unwrap();
    let stmt = decision_statement(
        &w,
        "oncall",
        never,
        DecisionAction::Rollback {
            environment: "prod".into(),
            service: "app".into(),
            from: running.artifact,
            to: never,
        },
    );
    assert_eq!(local(&w, "carol", &intent), store_says(&w, "carol", &stmt));
}

#[test]
fn revoking_someone_elses_decision_and_unknown_promotions_are_refused_locally() {
    let (mut w, p) = world();
    let approval = w.approve("alice", "release-manager", p);
    let intent = Intent::Revoke {
        decision: approval,
        role: Some("security".into()),
        rationale: "not mine".into(),
    };
    let artifact = w.artifact_of(p);
    let stmt = decision_statement(
        &w,
        "security",
        artifact,
        DecisionAction::Revoke { decision: approval },
    );
    assert_eq!(local(&w, "dana", &intent), store_says(&w, "dana", &stmt));

    let ghost = Digest::of(b"no such promotion");
    let intent = Intent::Reject {
        promotion: ghost,
        role: Some("release-manager".into()),
        rationale: "?".into(),
    };
    let stmt = decision_statement(
        &w,
        "release-manager",
        artifact,
        DecisionAction::Reject { promotion: ghost },
    );
    assert_eq!(local(&w, "alice", &intent), store_says(&w, "alice", &stmt));
}

#[test]
fn what_is_prepared_is_accepted_once_signed_and_shows_what_is_signed() {
    let (mut w, p) = world();
    let prepared = prepare(
        &w.verified_log(),
        "alice",
        &Intent::Approve {
            promotion: p,
            role: None,
            rationale: "release notes reviewed".into(),
        },
        w.clock,
    )
    .unwrap();
    assert_eq!(prepared.promotion_id, Some(p));
    let labels: Vec<&str> = prepared.details.iter().map(|(l, _)| l.as_str()).collect();
    for needed in [
        "artifact",
        "role",
        "expires",
        "policy",
        "gate results",
        "snapshot",
        "observed",
    ] {
        assert!(labels.contains(&needed), "{needed} missing from {labels:?}");
    }
    let id = w.submit("alice", &prepared.statement);
    assert_eq!(w.refusal(id), None);

    let waiver = prepare(
        &w.verified_log(),
        "dana",
        &Intent::Waive {
            promotion: p,
            gate: "sast".into(),
            ttl: Duration::hours(24),
            role: None,
            rationale: "false positive, see ticket".into(),
        },
        w.clock,
    )
    .unwrap();
    let id = w.submit("dana", &waiver.statement);
    assert_eq!(w.refusal(id), None);
}
