//! `evaluate_since` (the cockpit's re-judgement of only what entries
//! changed) against `evaluate_judged` (everything judged again): for random
//! logs of requests, gate results, approvals, rejections, waivers,
//! revocations, snapshots and deployments, cut anywhere, judged before the
//! cut at one time and after it at another (across expiries and the
//! policy's freeze window), the two give the same state; one promotion
//! judged alone (`judge_one`, the cockpit's detail) is judged as among all;
//! the cockpit's summaries built on the last ones
//! (`Data::from_indexed_since`) are those built afresh; and its index of the
//! log's entries says what they say.

use proptest::prelude::*;
use time::Duration;
use tollgate::digest::Digest;
use tollgate::state::{
    Changes, Names, Rejudgements, Summary, evaluate_judged, evaluate_since, judge_one, summarize,
};
use tollgate::statement::{DecisionAction, GateStatus, Predicate, Snapshot, Statement};

use tollgate::tui::data::Data;
use tollgate::tui::index::{LogIndex, entry_promotion};

use crate::common::World;

/// One step of a random log.
#[derive(Debug, Clone)]
enum Step {
    /// A request of service `0` or `1` for the next environment it has not
    /// been requested for.
    Request(usize),
    Gate(usize, bool),
    Approve(usize, usize),
    Reject(usize, usize),
    Waive(usize, u8),
    Revoke(usize),
    Snapshot(usize, bool),
    Deploy(usize, bool),
    Wait(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..2usize).prop_map(Step::Request),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(p, ok)| Step::Gate(p, ok)),
        3 => (any::<usize>(), 0..4usize).prop_map(|(p, who)| Step::Approve(p, who)),
        1 => (any::<usize>(), 0..4usize).prop_map(|(p, who)| Step::Reject(p, who)),
        1 => (any::<usize>(), 1..72u8).prop_map(|(p, h)| Step::Waive(p, h)),
        1 => any::<usize>().prop_map(Step::Revoke),
        1 => (0..2usize, any::<bool>()).prop_map(|(s, prod)| Step::Snapshot(s, prod)),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(p, ok)| Step::Deploy(p, ok)),
        1 => (1..48u8).prop_map(Step::Wait),
    ]
}

const SERVICES: [&str; 2] = ["api", "web"];
const APPROVERS: [(&str, &str); 4] = [
    ("alice", "release-manager"),
    ("grace", "release-manager"),
    ("dana", "security"),
    ("bob", "security"),
];

/// Builds the log of `steps`. With `refused`, steps the rules refuse stay
/// in the log (the fold ignores them; a store could never append them, but
/// the fold must still skip them); without, they are dropped, as a store
/// does, so that the log verifies as a client's sync checks it.
fn build(steps: &[Step], refused: bool) -> World {
    let mut w = World::new();
    let mut promotions: Vec<(Digest, usize)> = Vec::new();
    let mut decisions: Vec<Digest> = Vec::new();
    let mut reached = [0usize; 2];
    for step in steps {
        let before = w.entries.len();
        apply(&mut w, step, &mut promotions, &mut decisions, &mut reached);
        if !refused
            && w.entries.len() > before
            && w.entries.last().is_some_and(|e| w.refusal(e.id).is_some())
        {
            w.entries.pop();
            w.envelopes.pop();
        }
    }
    w
}

/// Appends the entry of one step (none for a wait).
fn apply(
    w: &mut World,
    step: &Step,
    promotions: &mut Vec<(Digest, usize)>,
    decisions: &mut Vec<Digest>,
    reached: &mut [usize; 2],
) {
    let chain = ["dev", "staging", "prod"];
    {
        let pick = |i: usize| promotions.get(i % promotions.len().max(1)).copied();
        match *step {
            Step::Request(s) => {
                let at = reached[s] % chain.len();
                let from = at.checked_sub(1).map(|i| chain[i]);
                let artifact = Digest::of(format!("{}-{}", SERVICES[s], reached[s] / 3).as_bytes());
                let p = w.request("ci-main", SERVICES[s], artifact, from, chain[at]);
                reached[s] += 1;
                promotions.push((p, at));
            }
            Step::Gate(i, ok) => {
                if let Some((p, at)) = pick(i) {
                    let gate = if at == 2 && ok { "sast" } else { "unit-tests" };
                    let status = if ok {
                        GateStatus::Pass
                    } else {
                        GateStatus::Fail
                    };
                    w.gate(p, gate, status);
                }
            }
            Step::Approve(i, who) | Step::Reject(i, who) => {
                if let Some((p, _)) = pick(i) {
                    let (name, role) = APPROVERS[who];
                    let action = if matches!(step, Step::Approve(..)) {
                        DecisionAction::Approve { promotion: p }
                    } else {
                        DecisionAction::Reject { promotion: p }
                    };
                    let decision = w.decision(role, action);
                    let artifact = w.artifact_of(p);
                    decisions.push(w.decide(name, artifact, decision));
                }
            }
            Step::Waive(i, hours) => {
                if let Some((p, _)) = pick(i) {
                    let until = w.clock + Duration::hours(i64::from(hours));
                    let decision = w.decision(
                        "security",
                        DecisionAction::Waive {
                            promotion: p,
                            gate: "sast".into(),
                            until,
                        },
                    );
                    let artifact = w.artifact_of(p);
                    decisions.push(w.decide("dana", artifact, decision));
                }
            }
            Step::Revoke(i) => {
                if let Some(&target) = decisions.get(i % decisions.len().max(1)) {
                    let decision =
                        w.decision("security", DecisionAction::Revoke { decision: target });
                    // The approver's own revocation when it is theirs; an
                    // other's is refused, which the fold must also skip.
                    let owner = APPROVERS[i % APPROVERS.len()].0;
                    decisions.push(w.decide(owner, Digest::of(b"any"), decision));
                }
            }
            Step::Snapshot(s, prod) => {
                let environment = if prod { "prod" } else { "staging" };
                let artifact = Digest::of(SERVICES[s].as_bytes());
                let statement = Statement::about(
                    SERVICES[s],
                    artifact,
                    Predicate::Snapshot(Snapshot {
                        environment: environment.into(),
                        service: SERVICES[s].into(),
                        captured_at: w.clock,
                        artifact,
                        config: [("replicas".to_owned(), w.entries.len().into())].into(),
                        flags: std::collections::BTreeMap::default(),
                        dependencies: std::collections::BTreeMap::default(),
                        images: std::collections::BTreeMap::default(),
                        secret_fingerprints: std::collections::BTreeMap::default(),
                    }),
                );
                w.submit("ci-main", &statement);
            }
            Step::Deploy(i, ok) => {
                if let Some((p, _)) = pick(i) {
                    w.deployed(p, ok);
                }
            }
            Step::Wait(hours) => w.clock += Duration::hours(i64::from(hours)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn judging_only_what_changed_is_judging_everything(
        steps in prop::collection::vec(step(), 1..60),
        cut in any::<prop::sample::Index>(),
        before in 0..96i64,
        after in 0..(24 * 30i64),
    ) {
        let w = build(&steps, true);
        let cut = cut.index(w.entries.len() + 1);
        let policy = std::sync::Arc::new(w.policy.clone());
        let rejudged = Rejudgements::new();

        let mut earlier = tollgate::state::Folder::new(std::sync::Arc::clone(&policy));
        earlier.apply_all(&w.entries[..cut]);
        let then = w.clock - Duration::hours(before);
        let previous = earlier.state_judged(then, &rejudged).promotions;

        let folder = w.folder();
        let mut changes = Changes::default();
        for entry in &w.entries[cut..] {
            changes.note(folder.raw_state(), entry);
        }
        let now = then + Duration::hours(after);
        let since = evaluate_since(
            &policy,
            &previous,
            then,
            folder.raw_state().clone(),
            now,
            &rejudged,
            &changes,
        );
        let full = evaluate_judged(&policy, folder.raw_state().clone(), now, &rejudged);
        for p in full.promotions.values() {
            let alone = judge_one(&policy, folder.raw_state(), &p.id, now, &rejudged);
            prop_assert_eq!(alone.as_ref(), Some(p));
        }
        let mut names = Names::default();
        let briefly = summarize(&policy, folder.raw_state(), now, &rejudged, &mut names);
        let expected: Vec<Summary> = full
            .promotions_in_order()
            .map(|p| Summary::of(p, now, &mut names))
            .collect();
        prop_assert_eq!(briefly.iter().cloned().collect::<Vec<_>>(), expected);
        prop_assert_eq!(since, full);
    }

    #[test]
    fn the_summaries_built_on_the_last_are_those_built_afresh(
        steps in prop::collection::vec(step(), 1..40),
        cut in any::<prop::sample::Index>(),
        after in 0..(24 * 10i64),
    ) {
        let w = build(&steps, false);
        let cut = cut.index(w.entries.len() + 1);
        let entries = w.entries.clone();
        let full = w.verified_log();
        let mut earlier = w;
        earlier.entries.truncate(cut);
        earlier.envelopes.truncate(cut);
        let then = earlier.clock;
        let earlier = earlier.verified_log();
        let judged = Data::from_log(&earlier, then).judged(&earlier, then);

        let mut changes = Changes::default();
        for entry in &entries[cut..] {
            changes.note(full.folder.raw_state(), entry);
        }
        let now = then + Duration::hours(after);
        let index = LogIndex::of(&full.entries).unwrap();
        // The index's compact rows say what the entries say.
        prop_assert_eq!(index.len(), entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let row = index.get(i).unwrap();
            let at = entry.statement.signed_at().map(|(_, at)| at.replace_nanosecond(0).unwrap());
            prop_assert_eq!(row.id.to_string(), entry.id.short());
            prop_assert_eq!(row.signer, entry.signer.as_str());
            prop_assert_eq!(row.summary, entry.statement.summary());
            prop_assert_eq!(row.promotion, entry_promotion(entry));
            prop_assert_eq!(row.signed_at, at);
            if let Predicate::PromotionRequest(_) = &entry.statement.predicate {
                let about: Vec<usize> = entries
                    .iter()
                    .enumerate()
                    .filter(|(j, e)| *j == i || entry_promotion(e) == Some(entry.id))
                    .map(|(j, _)| j)
                    .collect();
                prop_assert_eq!(index.timeline(&entry.id, entry.index), about);
            }
        }
        let mut names = Names::default();
        let since = Data::from_indexed_since(&full, index.clone(), now, &judged, &changes, &mut names);
        let fresh = Data::from_indexed(&full, index, now, &mut names);
        prop_assert_eq!(
            since.summaries.iter().collect::<Vec<_>>(),
            fresh.summaries.iter().collect::<Vec<_>>()
        );
    }
}
