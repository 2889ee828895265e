//! The readiness rules of DESIGN.md §3.3/§3.4 and the negative tests of §8:
//! every approval that must not count is shown not counting, with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{T0, World};
use time::Duration;
use time::macros::datetime;
use tollgate::digest::Digest;
use tollgate::state::{Blocker, GateVerdict, PromotionStatus, StaleReason, Standing};
use tollgate::statement::{DecisionAction, GateStatus, Predicate, Snapshot, Statement};

fn art(name: &str) -> Digest {
    Digest::of(name.as_bytes())
}

/// A prod promotion of `app` with gates passed, waiting only for approvals.
fn prod_promotion(w: &mut World) -> Digest {
    w.through("app", art("v1"), "staging");
    let p = w.request("ci-main", "app", art("v1"), Some("staging"), "prod");
    w.gate(p, "unit-tests", GateStatus::Pass);
    w.gate(p, "sast", GateStatus::Pass);
    p
}

#[test]
fn two_people_with_distinct_roles_make_a_prod_promotion_ready() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    let state = w.state();
    assert_eq!(state.promotions[&p].status, PromotionStatus::Waiting);
    assert_eq!(
        state.promotions[&p].blockers.len(),
        2,
        "{:?}",
        state.promotions[&p].blockers
    );
    w.approve("alice", "release-manager", p);
    w.approve("dana", "security", p);
    let state = w.state();
    assert_eq!(
        state.promotions[&p].status,
        PromotionStatus::Ready,
        "{:?}",
        state.promotions[&p].blockers
    );
    assert!(state.ignored.is_empty(), "{:?}", state.ignored);
}

#[test]
fn a_promotion_needs_the_previous_environment_first() {
    let mut w = World::new();
    let p = w.request("ci-main", "app", art("v9"), Some("staging"), "prod");
    let blockers = &w.state().promotions[&p].blockers;
    assert!(blockers.iter().any(|b| matches!(b, Blocker::NotDeployedInPrevious { environment, .. } if environment == "staging")));
    let text = blockers[0].to_string();
    assert!(
        text.contains("has not been deployed to staging yet"),
        "{text}"
    );
}

#[test]
fn the_requester_cannot_approve_their_own_promotion() {
    let mut w = World::new();
    w.through("app", art("v1"), "staging");
    let p = w.request("alice", "app", art("v1"), Some("staging"), "prod");
    let a = w.approve("alice", "release-manager", p);
    let reason = w.refusal(a).expect("self-approval must be refused");
    assert!(
        reason.contains("alice requested this promotion and cannot approve it"),
        "{reason}"
    );
}

#[test]
fn one_person_fills_at_most_one_requirement() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    // grace holds both roles and approves under each.
    w.approve("grace", "release-manager", p);
    w.approve("grace", "security", p);
    let state = w.state();
    let promotion = &state.promotions[&p];
    assert_eq!(promotion.status, PromotionStatus::Waiting);
    assert_eq!(
        promotion
            .approvals
            .iter()
            .filter(|a| a.standing == Standing::Counted)
            .count(),
        1
    );
    assert!(promotion.blockers.iter().any(|b| matches!(
        b,
        Blocker::ApprovalsMissing {
            have: 0,
            need: 1,
            ..
        }
    )));
}

#[test]
fn counting_picks_the_assignment_that_fills_every_requirement() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    // grace first takes release-manager; alice can only be release-manager, so
    // grace must end up counted as security.
    w.approve("grace", "release-manager", p);
    w.approve("grace", "security", p);
    w.approve("alice", "release-manager", p);
    assert_eq!(w.state().promotions[&p].status, PromotionStatus::Ready);
}

#[test]
fn the_same_person_approving_twice_counts_once() {
    let mut w = World::new();
    w.through("app", art("v1"), "dev");
    let p = w.request("ci-main", "app", art("v1"), Some("dev"), "staging");
    w.gate(p, "unit-tests", GateStatus::Pass);
    let policy_needs_two = w.policy.environment("staging").unwrap().approvals[0].count;
    assert_eq!(policy_needs_two, 1);
    w.approve("alice", "release-manager", p);
    w.approve("alice", "release-manager", p);
    let approvals = &w.state().promotions[&p].approvals;
    assert_eq!(approvals.len(), 2);
    assert_eq!(
        approvals
            .iter()
            .filter(|a| a.standing == Standing::Counted)
            .count(),
        1
    );
    assert_eq!(approvals[1].standing, Standing::NotNeeded);
}

#[test]
fn a_key_is_accepted_only_for_roles_its_owner_holds() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    let wrong = w.approve("carol", "security", p);
    let reason = w.refusal(wrong).unwrap();
    assert!(
        reason.contains("carol does not hold role `security`"),
        "{reason}"
    );
    // dana holds security, but staging accepts only release managers.
    w.through("app", art("v2"), "dev");
    let s = w.request("ci-main", "app", art("v2"), Some("dev"), "staging");
    w.gate(s, "unit-tests", GateStatus::Pass);
    let scoped = w.approve("dana", "security", s);
    let reason = w.refusal(scoped).unwrap();
    assert!(
        reason.contains("role `security` cannot approve in `staging`"),
        "{reason}"
    );
}

#[test]
fn approvals_expire_by_their_own_time_and_by_the_environment_ttl() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    w.approve("alice", "release-manager", p);
    w.approve("dana", "security", p);
    let issued = w.clock;
    assert_eq!(
        w.state_at(issued + Duration::hours(23)).promotions[&p].status,
        PromotionStatus::Ready
    );
    // Decisions say 7 days, but prod's approval_ttl is 24h.
    let later = w.state_at(issued + Duration::hours(25));
    let promotion = &later.promotions[&p];
    assert_eq!(promotion.status, PromotionStatus::Waiting);
    assert!(matches!(
        promotion.approvals[0].standing,
        Standing::Expired { .. }
    ));
    assert!(
        promotion
            .blockers
            .iter()
            .any(|b| b.to_string().contains("approval by alice expired at"))
    );
}

#[test]
fn approvals_go_stale_when_gate_results_or_snapshot_change() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    w.approve("alice", "release-manager", p);
    w.approve("dana", "security", p);
    assert_eq!(w.state().promotions[&p].status, PromotionStatus::Ready);

    w.gate(p, "sast", GateStatus::Pass); // a re-run: new result id
    let state = w.state();
    let promotion = &state.promotions[&p];
    assert_eq!(promotion.status, PromotionStatus::Waiting);
    assert!(
        promotion
            .approvals
            .iter()
            .all(|a| a.standing == Standing::Stale(StaleReason::GateResults))
    );
    let text = promotion
        .blockers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("approval by alice went stale: gate results changed since it was given"),
        "{text}"
    );

    // Fresh approvals, then the prod snapshot changes.
    w.approve("alice", "release-manager", p);
    w.approve("dana", "security", p);
    assert_eq!(w.state().promotions[&p].status, PromotionStatus::Ready);
    let snapshot = Statement::about(
        "app",
        art("v0"),
        Predicate::Snapshot(Snapshot {
            environment: "prod".into(),
            service: "app".into(),
            captured_at: w.clock,
            artifact: art("v0"),
            config: [("replicas".to_owned(), 3.into())].into(),
            flags: std::collections::BTreeMap::default(),
            dependencies: std::collections::BTreeMap::default(),
            images: std::collections::BTreeMap::default(),
            secret_fingerprints: std::collections::BTreeMap::default(),
        }),
    );
    w.submit("ci-main", &snapshot);
    let state = w.state();
    assert!(
        state.promotions[&p]
            .approvals
            .iter()
            .any(|a| a.standing == Standing::Stale(StaleReason::Snapshot))
    );
    assert_eq!(state.promotions[&p].status, PromotionStatus::Waiting);
}

#[test]
fn approvals_go_stale_under_a_new_policy_version() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    w.approve("alice", "release-manager", p);
    w.approve("dana", "security", p);
    let next = tollgate::policy::Policy::parse(&common::policy_text(2, &w.signers), "policy.toml")
        .unwrap();
    let state = tollgate::state::fold(&next, &w.entries, w.clock);
    let promotion = &state.promotions[&p];
    assert_eq!(promotion.status, PromotionStatus::Waiting);
    assert!(
        promotion
            .approvals
            .iter()
            .all(|a| a.standing == Standing::Stale(StaleReason::Policy))
    );
}

#[test]
fn an_approval_bound_to_another_policy_is_refused_outright() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    let mut d = w.decision("release-manager", DecisionAction::Approve { promotion: p });
    d.bound.policy = art("policy version 0");
    let id = w.decide("alice", art("v1"), d);
    let reason = w.refusal(id).unwrap();
    assert!(reason.contains("binds policy"), "{reason}");
}

#[test]
fn an_approval_cannot_be_replayed_onto_another_promotion_digest_or_environment() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    let d = w.decision("release-manager", DecisionAction::Approve { promotion: p });
    let original = w.decide("alice", art("v1"), d.clone());
    assert!(w.refusal(original).is_none());

    // The identical envelope again is the same entry.
    let envelope = w.envelopes.last().unwrap().clone();
    let again = w.submit_envelope(envelope);
    assert!(w.refusal(again).unwrap().contains("already in the log"));

    // The same decision signed about another artifact.
    let other_digest = w.decide(
        "alice",
        art("v2"),
        w.decision("release-manager", DecisionAction::Approve { promotion: p }),
    );
    assert!(
        w.refusal(other_digest)
            .unwrap()
            .contains("is about artifact"),
        "{:?}",
        w.refusal(other_digest)
    );

    // The same nonce reused for the staging promotion of the same artifact.
    let staging = w
        .state()
        .promotions_in_order()
        .find(|x| x.request.to == "staging")
        .unwrap()
        .id;
    let mut replay = d;
    replay.action = DecisionAction::Approve { promotion: staging };
    let replayed = w.decide("alice", art("v1"), replay);
    let reason = w.refusal(replayed).unwrap();
    assert!(reason.contains("already used by alice"), "{reason}");
}

#[test]
fn a_decision_cannot_claim_to_have_seen_the_future() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    let mut d = w.decision("release-manager", DecisionAction::Approve { promotion: p });
    d.observed.size = 10_000;
    let id = w.decide("alice", art("v1"), d);
    assert!(w.refusal(id).unwrap().contains("observed checkpoint"));
    let mut d = w.decision("release-manager", DecisionAction::Approve { promotion: p });
    d.observed.origin = "evil.example/log".into();
    let id = w.decide("alice", art("v1"), d);
    assert!(w.refusal(id).is_some());
}

#[test]
fn revoked_approvals_stop_counting_and_only_their_signer_or_an_admin_may_revoke() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    let a = w.approve("alice", "release-manager", p);
    w.approve("dana", "security", p);
    assert_eq!(w.state().promotions[&p].status, PromotionStatus::Ready);

    let by_other = w.decision("security", DecisionAction::Revoke { decision: a });
    let refused = w.decide("dana", art("v1"), by_other);
    assert!(w.refusal(refused).unwrap().contains("only alice"));

    let revoke = w.decision("release-manager", DecisionAction::Revoke { decision: a });
    w.decide("alice", art("v1"), revoke);
    let state = w.state();
    let promotion = &state.promotions[&p];
    assert_eq!(promotion.status, PromotionStatus::Waiting);
    assert_eq!(
        promotion.approvals[0].standing,
        Standing::Revoked { by: "alice".into() }
    );
}

#[test]
fn a_standing_rejection_blocks_until_revoked() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    w.approve("alice", "release-manager", p);
    let r = w.decide(
        "bob",
        art("v1"),
        w.decision("security", DecisionAction::Reject { promotion: p }),
    );
    w.approve("dana", "security", p);
    let state = w.state();
    assert_eq!(state.promotions[&p].status, PromotionStatus::Rejected);
    assert!(
        state.promotions[&p]
            .blockers
            .iter()
            .any(|b| b.to_string().starts_with("rejected by bob"))
    );
    w.decide(
        "bob",
        art("v1"),
        w.decision("security", DecisionAction::Revoke { decision: r }),
    );
    assert_eq!(w.state().promotions[&p].status, PromotionStatus::Ready);
}

#[test]
fn failed_gates_block_with_remediation_and_waivers_are_time_boxed() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    w.gate(p, "sast", GateStatus::Fail);
    w.approve("alice", "release-manager", p);
    w.approve("dana", "security", p);
    let state = w.state();
    let blockers = &state.promotions[&p].blockers;
    let text = blockers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("gate sast failed"), "{text}");
    assert!(
        text.contains("ask security for a time-boxed waiver"),
        "{text}"
    );

    let until = w.clock + Duration::hours(48);
    let too_long = w.decision(
        "security",
        DecisionAction::Waive {
            promotion: p,
            gate: "sast".into(),
            until: w.clock + Duration::hours(100),
        },
    );
    let refused = w.decide("bob", art("v1"), too_long);
    assert!(w.refusal(refused).unwrap().contains("at most 72h"));
    let wrong_role = w.decision(
        "release-manager",
        DecisionAction::Waive {
            promotion: p,
            gate: "sast".into(),
            until,
        },
    );
    let refused = w.decide("alice", art("v1"), wrong_role);
    assert!(w.refusal(refused).is_some());
    let not_waivable = w.decision(
        "security",
        DecisionAction::Waive {
            promotion: p,
            gate: "unit-tests".into(),
            until,
        },
    );
    let refused = w.decide("bob", art("v1"), not_waivable);
    assert!(w.refusal(refused).unwrap().contains("cannot be waived"));

    w.decide(
        "bob",
        art("v1"),
        w.decision(
            "security",
            DecisionAction::Waive {
                promotion: p,
                gate: "sast".into(),
                until,
            },
        ),
    );
    let state = w.state();
    let promotion = &state.promotions[&p];
    assert_eq!(
        promotion.gates.get("sast").unwrap().verdict,
        GateVerdict::Waived { until }
    );
    // The approvals were bound to the failing result and still are: ready.
    assert_eq!(
        promotion.status,
        PromotionStatus::Ready,
        "{:?}",
        promotion.blockers
    );
    let after = w.state_at(until + Duration::minutes(1));
    assert_eq!(
        after.promotions[&p].gates.get("sast").unwrap().verdict,
        GateVerdict::Failed
    );
}

#[test]
fn a_freeze_window_blocks_and_says_when_it_ends() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    w.approve("alice", "release-manager", p);
    w.approve("dana", "security", p);
    let in_freeze = datetime!(2026-12-24 12:00 UTC);
    // Approvals would have expired by then; look only at the freeze.
    let blockers = &w.state_at(in_freeze).promotions[&p].blockers;
    let text = blockers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("prod is frozen until 2027-01-04T00:00:00Z (year-end)"),
        "{text}"
    );
    assert!(T0 < in_freeze);
}

#[test]
fn machine_statements_need_a_role_the_policy_lets_sign_them() {
    let mut w = World::new();
    let p = w.request("ci-main", "app", art("v1"), None, "dev");
    let statement = Statement::about(
        "app",
        art("v1"),
        Predicate::GateResult(tollgate::statement::GateResult {
            promotion: p,
            gate: "unit-tests".into(),
            status: GateStatus::Pass,
            summary: "trust me".into(),
            measurements: vec![],
            evidence: vec![],
            remediation: None,
            produced_at: w.clock,
            evaluator: None,
        }),
    );
    let forged = w.submit("alice", &statement);
    let reason = w.refusal(forged).unwrap();
    assert!(
        reason.contains("alice may not sign gate-result statements"),
        "{reason}"
    );
    assert_eq!(
        w.state().promotions[&p]
            .gates
            .get("unit-tests")
            .unwrap()
            .verdict,
        GateVerdict::Missing
    );
}

#[test]
fn statements_about_unknown_promotions_or_environments_are_refused() {
    let mut w = World::new();
    let ghost = w.gate_for_unknown();
    assert!(w.refusal(ghost).unwrap().contains("is not in the log"));
    let p = w.request("ci-main", "app", art("v1"), None, "qa");
    assert!(
        w.refusal(p)
            .unwrap()
            .contains("environment `qa` is not in the policy")
    );
    let skip = w.request("ci-main", "app", art("v1"), Some("dev"), "prod");
    assert!(
        w.refusal(skip)
            .unwrap()
            .contains("must come from `staging`")
    );
}

trait GhostGate {
    fn gate_for_unknown(&mut self) -> Digest;
}

impl GhostGate for World {
    fn gate_for_unknown(&mut self) -> Digest {
        let statement = Statement::about(
            "app",
            art("v1"),
            Predicate::GateResult(tollgate::statement::GateResult {
                promotion: art("no such promotion"),
                gate: "unit-tests".into(),
                status: GateStatus::Pass,
                summary: "ok".into(),
                measurements: vec![],
                evidence: vec![],
                remediation: None,
                produced_at: self.clock,
                evaluator: None,
            }),
        );
        self.submit("ci-main", &statement)
    }
}

#[test]
fn rollback_is_authorised_recorded_and_moves_last_known_good() {
    let mut w = World::new();
    w.through("app", art("v1"), "prod");
    w.through("app", art("v2"), "prod");
    let state = w.state();
    let prod = state.service("prod", "app").unwrap();
    assert_eq!(prod.running.as_ref().unwrap().artifact, art("v2"));
    assert_eq!(prod.last_known_good().unwrap().artifact, art("v1"));

    let rollback = |w: &World, from: &str, to: &str| {
        w.decision(
            "oncall",
            DecisionAction::Rollback {
                environment: "prod".into(),
                service: "app".into(),
                from: art(from),
                to: art(to),
            },
        )
    };
    let not_allowed = w.decide("dana", art("v1"), {
        let mut d = rollback(&w, "v2", "v1");
        d.role = "security".into();
        d
    });
    assert!(
        w.refusal(not_allowed)
            .unwrap()
            .contains("cannot roll back in `prod`")
    );
    let unknown_target = w.decide("carol", art("v7"), rollback(&w, "v2", "v7"));
    assert!(
        w.refusal(unknown_target)
            .unwrap()
            .contains("never ran successfully")
    );
    let wrong_from = w.decide("carol", art("v1"), rollback(&w, "v3", "v1"));
    assert!(w.refusal(wrong_from).unwrap().contains("but it runs"));

    let accepted = w.decide("carol", art("v1"), rollback(&w, "v2", "v1"));
    assert!(w.refusal(accepted).is_none());
    assert!(w.state().rollbacks[&accepted].accepted);
    let deploy = Statement::about(
        "app",
        art("v1"),
        Predicate::Deployment(tollgate::statement::Deployment {
            target: tollgate::statement::DeploymentTarget::Rollback(accepted),
            environment: "prod".into(),
            service: "app".into(),
            status: tollgate::statement::DeploymentStatus::Succeeded,
            at: w.clock,
        }),
    );
    w.submit("ci-main", &deploy);
    let state = w.state();
    let prod = state.service("prod", "app").unwrap();
    assert_eq!(prod.running.as_ref().unwrap().artifact, art("v1"));
    assert!(
        prod.last_known_good().is_none(),
        "v2 was rolled back from: never known good"
    );
}

#[test]
fn refused_entries_never_change_the_state() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    let before = w.state();
    let bad = w.approve("carol", "release-manager", p);
    let after = w.state();
    assert_eq!(after.promotions, before.promotions);
    assert_eq!(after.ignored.len(), before.ignored.len() + 1);
    assert_eq!(after.ignored.last().unwrap().id, bad);
}

#[test]
fn the_requester_cannot_waive_a_gate_on_their_own_promotion() {
    let mut w = World::new();
    w.through("app", art("v1"), "staging");
    let p = w.request("grace", "app", art("v1"), Some("staging"), "prod");
    w.gate(p, "unit-tests", GateStatus::Pass);
    w.gate(p, "sast", GateStatus::Fail);
    let waive = |w: &World| {
        w.decision(
            "security",
            DecisionAction::Waive {
                promotion: p,
                gate: "sast".into(),
                until: w.clock + Duration::hours(24),
            },
        )
    };
    let own = w.decide("grace", art("v1"), waive(&w));
    let reason = w.refusal(own).expect("a self-waiver must be refused");
    assert!(
        reason.contains("grace requested this promotion and cannot waive its gate `sast`"),
        "{reason}"
    );
    assert_eq!(
        w.state().promotions[&p].gates.get("sast").unwrap().verdict,
        GateVerdict::Failed
    );
    let other = w.decide("dana", art("v1"), waive(&w));
    assert!(w.refusal(other).is_none());
}

/// A rollback decision by carol of prod/app from v2 back to v1.
fn rollback_decision(w: &World, ttl: Duration) -> tollgate::statement::Decision {
    let mut d = w.decision(
        "oncall",
        DecisionAction::Rollback {
            environment: "prod".into(),
            service: "app".into(),
            from: art("v2"),
            to: art("v1"),
        },
    );
    d.expires_at = d.issued_at + ttl;
    d
}

fn rollback_deployment(w: &mut World, decision: Digest) -> Digest {
    let deploy = Statement::about(
        "app",
        art("v1"),
        Predicate::Deployment(tollgate::statement::Deployment {
            target: tollgate::statement::DeploymentTarget::Rollback(decision),
            environment: "prod".into(),
            service: "app".into(),
            status: tollgate::statement::DeploymentStatus::Succeeded,
            at: w.clock,
        }),
    );
    w.submit("ci-main", &deploy)
}

#[test]
fn a_rollback_counts_only_decisions_standing_at_the_deployment() {
    let mut w = World::new();
    w.through("app", art("v1"), "prod");
    w.through("app", art("v2"), "prod");

    // Revoked: the quorum is gone, and a deployment citing it is refused.
    let carol = w.decide("carol", art("v1"), rollback_decision(&w, Duration::days(1)));
    let revoke = w.decision("oncall", DecisionAction::Revoke { decision: carol });
    let revoked = w.decide("carol", art("v1"), revoke);
    assert!(w.refusal(revoked).is_none());
    assert!(!w.state().rollbacks[&carol].accepted);
    let deploy = rollback_deployment(&mut w, carol);
    let reason = w
        .refusal(deploy)
        .expect("a revoked rollback must not deploy");
    assert!(
        reason.contains("has 0 standing decision(s)") && reason.contains("needs 1"),
        "{reason}"
    );

    // Expired by the deployment's signed time: refused as well.
    let short = w.decide("alice", art("v1"), {
        let mut d = rollback_decision(&w, Duration::minutes(30));
        d.role = "release-manager".into();
        d
    });
    assert!(w.refusal(short).is_none());
    w.clock += Duration::hours(2);
    let late = rollback_deployment(&mut w, short);
    let reason = w
        .refusal(late)
        .expect("an expired rollback must not deploy");
    assert!(reason.contains("has 0 standing decision(s)"), "{reason}");
    assert_eq!(
        w.state()
            .service("prod", "app")
            .unwrap()
            .running
            .as_ref()
            .unwrap()
            .artifact,
        art("v2")
    );

    // A fresh, standing decision deploys.
    let fresh = w.decide("carol", art("v1"), rollback_decision(&w, Duration::days(1)));
    let deploy = rollback_deployment(&mut w, fresh);
    assert!(w.refusal(deploy).is_none(), "{:?}", w.refusal(deploy));
    assert_eq!(
        w.state()
            .service("prod", "app")
            .unwrap()
            .running
            .as_ref()
            .unwrap()
            .artifact,
        art("v1")
    );
}

#[test]
fn a_deployment_of_a_promotion_that_was_not_ready_is_an_unapproved_finding() {
    let mut w = World::new();
    w.through("app", art("v1"), "dev");
    // Staging needs a release-manager approval; CI deploys without one.
    let staging = w.request("ci-main", "app", art("v1"), Some("dev"), "staging");
    w.gate(staging, "unit-tests", GateStatus::Pass);
    let deploy = w.deployed(staging, true);
    let state = w.state();
    assert!(state.ignored.is_empty(), "the report is recorded: a fact");
    assert_eq!(state.promotions[&staging].status, PromotionStatus::Deployed);
    assert_eq!(state.unapproved.len(), 1, "{:?}", state.unapproved);
    let finding = &state.unapproved[0];
    assert_eq!(finding.deployment, deploy);
    assert_eq!(finding.promotion, staging);
    assert!(
        finding.reasons.iter().any(|r| r.contains("approval")),
        "{:?}",
        finding.reasons
    );
    let running = state.service("staging", "app").unwrap();
    assert_eq!(running.running.as_ref().unwrap().artifact, art("v1"));
    assert!(!running.has_run(&art("v1")), "not a successful run");

    // So CI alone cannot carry the artifact on to prod.
    let prod = w.request("ci-main", "app", art("v1"), Some("staging"), "prod");
    w.gate(prod, "unit-tests", GateStatus::Pass);
    w.gate(prod, "sast", GateStatus::Pass);
    w.approve("alice", "release-manager", prod);
    w.approve("dana", "security", prod);
    let state = w.state();
    assert_eq!(state.promotions[&prod].status, PromotionStatus::Waiting);
    assert!(
        state.promotions[&prod]
            .blockers
            .iter()
            .any(|b| matches!(b, Blocker::NotDeployedInPrevious { .. }))
    );
}

#[test]
fn readiness_at_deployment_uses_the_deployments_signed_time() {
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    w.approve("alice", "release-manager", p);
    w.approve("dana", "security", p);
    assert_eq!(w.state().promotions[&p].status, PromotionStatus::Ready);
    // Reported 25h later: prod approvals live 24h.
    w.clock += Duration::hours(25);
    let deploy = w.deployed(p, true);
    let state = w.state();
    assert_eq!(state.unapproved.len(), 1);
    assert_eq!(state.unapproved[0].deployment, deploy);
    assert!(
        state.unapproved[0]
            .reasons
            .iter()
            .any(|r| r.contains("expired")),
        "{:?}",
        state.unapproved[0].reasons
    );
    assert!(
        state
            .service("prod", "app")
            .unwrap()
            .last_known_good()
            .is_none()
    );
}

#[test]
fn a_newer_deployed_promotion_supersedes_an_older_one() {
    let mut w = World::new();
    let old = w.request("ci-main", "app", art("v1"), None, "dev");
    w.gate(old, "unit-tests", GateStatus::Pass);
    let new = w.request("ci-main", "app", art("v2"), None, "dev");
    w.gate(new, "unit-tests", GateStatus::Pass);
    assert_eq!(w.state().promotions[&old].status, PromotionStatus::Ready);
    w.deployed(new, true);
    let state = w.state();
    assert_eq!(state.promotions[&old].status, PromotionStatus::Superseded);
    assert!(
        state.promotions[&old]
            .blockers
            .iter()
            .any(|b| b.to_string().contains("superseded")),
        "{:?}",
        state.promotions[&old].blockers
    );
    // Deploying the superseded one now is recorded, but unapproved.
    let late = w.deployed(old, true);
    let state = w.state();
    assert_eq!(state.unapproved.len(), 1);
    assert_eq!(state.unapproved[0].deployment, late);
}

#[test]
fn the_fold_holds_no_judgement_of_a_deployed_promotion() {
    // A deployment is judged against readiness at its signed time, on the
    // promotion itself; the fold (and so the cache it is saved to) keeps
    // the promotion as it was before that judgement, with the deployment.
    let mut w = World::new();
    let p = prod_promotion(&mut w);
    w.approve("alice", "release-manager", p);
    w.approve("dana", "security", p);
    w.deployed(p, true);
    let folder = w.folder();
    let held = &folder.raw_state().promotions[&p];
    assert_eq!(held.status, PromotionStatus::Waiting);
    assert!(held.approvals.is_empty(), "{:?}", held.approvals);
    assert!(held.blockers.is_empty(), "{:?}", held.blockers);
    assert!(held.deployment.as_ref().is_some_and(|d| d.succeeded));
    assert!(
        held.gates
            .iter()
            .all(|(_, g)| g.verdict == GateVerdict::Missing && g.waivers.is_empty())
    );
    // The evaluated state judges it, and it counted as approved.
    let state = w.state();
    assert_eq!(state.promotions[&p].status, PromotionStatus::Deployed);
    assert!(state.unapproved.is_empty(), "{:?}", state.unapproved);
}
