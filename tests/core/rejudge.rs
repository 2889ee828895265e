//! Disputed gates (issue 9 §3): a client re-runs a gate result's
//! evaluation from its evidence; readiness counts the stated verdict only
//! where the re-judgement agrees. The judgement itself is pure
//! (`client::evidence::rejudge_gate`), so these tests feed it bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use tollgate::client::evidence::{Blob, Blobs, rejudge_gate};
use tollgate::digest::Digest;
use tollgate::state::{Blocker, GateVerdict, PromotionStatus, Rejudgement, Rejudgements, State};
use tollgate::statement::GateStatus;

use crate::common::World;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/evidence")
            .join(name),
    )
    .unwrap()
}

fn blobs_of(bytes: &[u8]) -> Blobs {
    Blobs::from([(Digest::of(bytes), Blob::Found(Arc::from(bytes)))])
}

/// A dev promotion whose unit-tests result CI signed as `status` for
/// `evidence`; returns (world, promotion, gate result id).
fn dev_with_result(status: GateStatus, evidence: &[u8]) -> (World, Digest, Digest) {
    let mut world = World::new();
    let promotion = world.request("ci-main", "app", Digest::of(b"app 1"), None, "dev");
    let statement = world.gate_result(promotion, "unit-tests", status, &[evidence]);
    let id = world.submit("ci-main", &statement);
    (world, promotion, id)
}

/// What this client finds for the promotion's unit-tests result.
fn rejudge(world: &World, promotion: Digest, blobs: &Blobs) -> Option<Rejudgement> {
    let state = world.state();
    let p = &state.promotions[&promotion];
    let latest = p.gates.get("unit-tests").unwrap().latest.as_ref().unwrap();
    rejudge_gate(&world.policy, &p.artifact, latest, blobs)
}

fn judged(world: &World, id: Digest, found: Rejudgement) -> State {
    world
        .folder()
        .state_judged(world.clock, &Rejudgements::from([(id, found)]))
}

#[test]
fn a_pass_signed_for_a_failing_junit_report_is_disputed_and_blocks() {
    let failing = fixture("pytest-fail.xml");
    let (world, promotion, id) = dev_with_result(GateStatus::Pass, &failing);

    // The store's fold trusts the signed verdict: ready.
    assert_eq!(
        world.state().promotions[&promotion].status,
        PromotionStatus::Ready
    );

    let found = rejudge(&world, promotion, &blobs_of(&failing)).unwrap();
    let Rejudgement::Disputed {
        stated, computed, ..
    } = &found
    else {
        panic!("expected a dispute, got {found:?}");
    };
    assert_eq!((*stated, *computed), (GateStatus::Pass, GateStatus::Fail));

    let state = judged(&world, id, found);
    let p = &state.promotions[&promotion];
    assert_eq!(p.status, PromotionStatus::Waiting);
    assert_eq!(
        p.gates.get("unit-tests").unwrap().verdict,
        GateVerdict::Failed
    );
    let text: Vec<String> = p.blockers.iter().map(ToString::to_string).collect();
    assert!(
        matches!(&p.blockers[..], [Blocker::GateDisputed { signer, .. }] if signer == "ci-main"),
        "{text:?}"
    );
    assert!(text[0].contains("gate unit-tests is disputed: ci-main signed `pass`"));
    assert!(text[0].contains("gives `fail`"));
    assert!(
        text[0].contains("tollgate gate submit"),
        "the fix: {text:?}"
    );
    // An audit finding naming the CI key.
    assert_eq!(state.disputed.len(), 1);
    assert_eq!(state.disputed[0].signer, "ci-main");
    assert_eq!(state.disputed[0].entry, id);
    assert_eq!(state.disputed[0].gate, "unit-tests");
}

#[test]
fn an_honest_result_agrees_and_counts() {
    let passing = fixture("pytest-pass.xml");
    let (world, promotion, id) = dev_with_result(GateStatus::Pass, &passing);
    let found = rejudge(&world, promotion, &blobs_of(&passing)).unwrap();
    assert_eq!(found, Rejudgement::Agrees);
    let state = judged(&world, id, found);
    assert_eq!(state.promotions[&promotion].status, PromotionStatus::Ready);
    assert!(state.disputed.is_empty());

    // An honest fail agrees too, and blocks as a plain failure.
    let failing = fixture("pytest-fail.xml");
    let (world, promotion, _) = dev_with_result(GateStatus::Fail, &failing);
    assert_eq!(
        rejudge(&world, promotion, &blobs_of(&failing)),
        Some(Rejudgement::Agrees)
    );
}

#[test]
fn evidence_missing_from_the_store_is_its_own_blocker_not_a_dispute() {
    let passing = fixture("pytest-pass.xml");
    let (world, promotion, id) = dev_with_result(GateStatus::Pass, &passing);
    let digest = Digest::of(&passing);
    let found = rejudge(&world, promotion, &Blobs::from([(digest, Blob::Missing)])).unwrap();
    assert_eq!(
        found,
        Rejudgement::EvidenceMissing {
            digests: vec![digest]
        }
    );
    let state = judged(&world, id, found);
    let p = &state.promotions[&promotion];
    assert_eq!(p.status, PromotionStatus::Waiting);
    assert!(matches!(
        &p.blockers[..],
        [Blocker::GateEvidenceMissing { .. }]
    ));
    let text = p.blockers[0].to_string();
    assert!(text.contains("holds no evidence"), "{text}");
    assert!(text.contains(&digest.to_string()), "{text}");
    assert!(state.disputed.is_empty(), "missing evidence is no finding");
}

#[test]
fn evidence_that_cannot_be_had_blocks_with_the_reason() {
    let passing = fixture("pytest-pass.xml");
    let (world, promotion, id) = dev_with_result(GateStatus::Pass, &passing);
    let blobs = Blobs::from([(
        Digest::of(&passing),
        Blob::Unavailable("the store is not reachable".into()),
    )]);
    let found = rejudge(&world, promotion, &blobs).unwrap();
    assert!(matches!(found, Rejudgement::NotRejudged { .. }));
    let state = judged(&world, id, found);
    let text = state.promotions[&promotion].blockers[0].to_string();
    assert!(
        text.contains("could not be re-judged here: the store is not reachable"),
        "{text}"
    );
}

#[test]
fn a_result_from_an_evaluator_this_client_lacks_is_not_trusted() {
    let mut world = World::new();
    let promotion = world.request("ci-main", "app", Digest::of(b"app 1"), None, "dev");
    let passing = fixture("pytest-pass.xml");
    let mut statement = world.gate_result(promotion, "unit-tests", GateStatus::Pass, &[&passing]);
    if let tollgate::statement::Predicate::GateResult(g) = &mut statement.predicate {
        g.evaluator = Some("tollgate-evidence/999".into());
    }
    world.submit("ci-main", &statement);
    let found = rejudge(&world, promotion, &blobs_of(&passing)).unwrap();
    let Rejudgement::NotRejudged { problem } = found else {
        panic!("{found:?}");
    };
    assert!(problem.contains("tollgate-evidence/999"), "{problem}");
}

#[test]
fn a_stated_pass_with_no_evidence_is_disputed() {
    let mut world = World::new();
    let promotion = world.request("ci-main", "app", Digest::of(b"app 1"), None, "dev");
    world.gate(promotion, "unit-tests", GateStatus::Pass);
    let found = rejudge(&world, promotion, &Blobs::new()).unwrap();
    assert!(
        matches!(
            found,
            Rejudgement::Disputed {
                computed: GateStatus::Error,
                ..
            }
        ),
        "{found:?}"
    );
}

#[test]
fn a_waiver_does_not_cover_a_disputed_gate() {
    use time::Duration;
    use tollgate::statement::DecisionAction;

    let mut world = World::new();
    let artifact = Digest::of(b"app 2");
    world.through("app", artifact, "staging");
    let promotion = world.request("ci-main", "app", artifact, Some("staging"), "prod");
    world.gate(promotion, "unit-tests", GateStatus::Pass);
    let findings = fixture("ruff-findings.sarif");
    let statement = world.gate_result(promotion, "sast", GateStatus::Pass, &[&findings]);
    let sast = world.submit("ci-main", &statement);
    world.approve("alice", "release-manager", promotion);
    world.approve("dana", "security", promotion);
    let waiver = world.decision(
        "security",
        DecisionAction::Waive {
            promotion,
            gate: "sast".into(),
            until: world.clock + Duration::hours(24),
        },
    );
    world.decide("bob", artifact, waiver);
    assert_eq!(
        world.state().promotions[&promotion].status,
        PromotionStatus::Ready,
        "the store's view trusts the signed pass"
    );

    let state = world.state();
    let p = &state.promotions[&promotion];
    let latest = p.gates.get("sast").unwrap().latest.as_ref().unwrap();
    let found = rejudge_gate(&world.policy, &p.artifact, latest, &blobs_of(&findings)).unwrap();
    assert!(matches!(found, Rejudgement::Disputed { .. }), "{found:?}");
    let state = judged(&world, sast, found);
    let p = &state.promotions[&promotion];
    assert_eq!(p.status, PromotionStatus::Waiting);
    assert!(
        matches!(&p.blockers[..], [Blocker::GateDisputed { gate, .. }] if gate == "sast"),
        "{:?}",
        p.blockers
    );
}
