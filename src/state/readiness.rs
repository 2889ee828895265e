//! Readiness at a moment (DESIGN.md §3.4): which gates pass or are waived,
//! which approvals count, what blocks each promotion. Time enters only here,
//! so the same folded log can be judged at any `now`.
//!
//! A client also passes its re-judgements of gate results (issue 9 §3):
//! a gate whose stated verdict the client could not confirm from its
//! evidence blocks, whatever it states and whatever waives it.

use std::collections::{BTreeMap, BTreeSet};

use std::sync::Arc;

use rayon::prelude::*;
use time::OffsetDateTime;

use super::changes::Changes;
use super::fold::gate_results_digest;
use super::model::{
    ApprovalView, DecisionRecord, GateRecord, GateVerdict, Promotion, PromotionStatus, Standing,
    State, WaiverView,
};
use super::reasons::{Blocker, StaleReason};
use super::rejudge::{DisputedGate, Rejudgement, Rejudgements};
use super::saved_map::SavedMap;
use super::summary::{Names, Summaries, Summary};
use crate::digest::Digest;
use crate::policy::{Environment, Policy};
use crate::statement::{DecisionAction, GateStatus};

/// Evaluates every promotion of `state` at `now`, trusting every stated
/// gate verdict (the store's view: it re-judges nothing).
pub fn evaluate(policy: &Policy, state: State, now: OffsetDateTime) -> State {
    evaluate_judged(policy, state, now, &Rejudgements::new())
}

/// Evaluates every promotion of `state` at `now`; a gate result in
/// `rejudged` counts only if its re-judgement agrees, and each dispute is
/// listed in [`State::disputed`].
pub fn evaluate_judged(
    policy: &Policy,
    mut state: State,
    now: OffsetDateTime,
    rejudged: &Rejudgements,
) -> State {
    // Every promotion and every decision is read: saved ones are read a
    // span at a time, on every core, rather than one by one as judged.
    rayon::join(
        || state.promotions.decode_all(),
        || state.decisions.decode_all(),
    );
    // Each promotion is judged in place, against the state without the
    // promotions: of those a judgement reads only the one that supersedes
    // it (the newest deployed to its environment and service), so only
    // those few stay in view. (Taking each promotion out of the map and
    // back in moved whole nodes of it, for every promotion.)
    let mut promotions = std::mem::take(&mut state.promotions);
    state.promotions = state
        .environments
        .values()
        .flat_map(BTreeMap::values)
        .filter_map(|service| service.newest_promotion)
        .filter_map(|(_, id)| promotions.get(&id).map(|p| (id, p.clone())))
        .collect();
    // Independent judgements: on every core.
    let mut all: Vec<&mut Promotion> = promotions.values_mut().collect();
    all.par_iter_mut().for_each(|promotion| {
        let latest = newest_deployed(&state, &promotion.request.to, &promotion.request.service);
        evaluate_promotion(policy, Reads::of(&state), promotion, now, latest, rejudged);
    });
    state.disputed = disputes_of(&promotions);
    state.promotions = promotions;
    state
}

/// [`evaluate_judged`] of `state` at `now`, judging again only what may
/// differ from `previous`: the judged promotions of an earlier state of the
/// same log, under the same policy, judged at `then`. `changes` holds what
/// the entries since then changed ([`Changes`]), plus the promotions whose
/// re-judgements are not those `previous` was judged with.
///
/// A promotion is judged again when `changes` names it, or its service in
/// its target environment or the one before it, or when one of its
/// approvals or waivers expires, or a freeze window of its environment
/// opens or closes, between `then` and `now`; those are everything a
/// judgement reads besides the policy. Every other one is `previous`'s,
/// shared. A policy change judges everything again. The result is
/// [`evaluate_judged`]'s (a property test in `tests/core` holds them equal).
pub fn evaluate_since(
    policy: &Policy,
    previous: &SavedMap<Promotion>,
    then: OffsetDateTime,
    mut state: State,
    now: OffsetDateTime,
    rejudged: &Rejudgements,
    changes: &Changes,
) -> State {
    if changes.policy {
        return evaluate_judged(policy, state, now, rejudged);
    }
    let crosses = crossing(then, now);
    let frozen = freezes_crossed(policy, &crosses);
    let moved = |p: &Promotion| {
        let (target, service) = (&p.request.to, &p.request.service);
        let before = policy.environment(target).and_then(|e| e.after.as_ref());
        changes
            .services
            .iter()
            .any(|(env, s)| s == service && (env == target || Some(env) == before))
    };
    let affected: Vec<Digest> = previous
        .iter()
        .filter(|(id, p)| {
            changes.promotions.contains(id)
                || moved(p)
                || frozen.contains(p.request.to.as_str())
                || p.approvals.iter().any(|a| crosses(a.expires_at))
                || p.gates
                    .values()
                    .flat_map(|gate| &gate.waivers)
                    .any(|w| crosses(w.until))
        })
        .map(|(id, _)| *id)
        .chain(
            changes
                .promotions
                .iter()
                .filter(|id| !previous.contains_key(id))
                .copied(),
        )
        .collect();
    let judged: Vec<(Digest, Promotion)> = affected
        .par_iter()
        .filter_map(|id| {
            let mut p = state.promotions.get(id)?.clone();
            let latest = newest_deployed(&state, &p.request.to, &p.request.service);
            evaluate_promotion(policy, Reads::of(&state), &mut p, now, latest, rejudged);
            Some((*id, p))
        })
        .collect();
    let mut promotions = previous.clone();
    for (id, p) in judged {
        promotions.put(id, p);
    }
    state.disputed = disputes_of(&promotions);
    state.promotions = promotions;
    state
}

/// The judgement of the promotion `id` of `state` (the fold, not judged)
/// at `now`: what [`evaluate_judged`] judges it to be, without judging
/// any other.
pub fn judge_one(
    policy: &Policy,
    state: &State,
    id: &Digest,
    now: OffsetDateTime,
    rejudged: &Rejudgements,
) -> Option<Promotion> {
    let mut p = state.promotions.get(id)?.clone();
    let latest = newest_deployed(state, &p.request.to, &p.request.service);
    evaluate_promotion(policy, Reads::of(state), &mut p, now, latest, rejudged);
    Some(p)
}

/// Promotions judged at a time, in [`summarize`].
const BATCH: usize = 4096;

/// Every promotion of `state` (the fold, not judged) judged at `now`, in
/// brief and in log order: [`evaluate_judged`]'s judgements, of which only
/// the summaries are kept. The fold keeps its values as they are: the
/// decisions are decoded in a copy, and the promotions [`BATCH`] at a
/// time, each batch dropped once summarized (a whole judged state of a
/// million-entry log is gigabytes).
pub fn summarize(
    policy: &Policy,
    state: &State,
    now: OffsetDateTime,
    rejudged: &Rejudgements,
    names: &mut Names,
) -> Summaries {
    let decisions = state.decisions.clone();
    decisions.decode_all();
    // Of the other promotions a judgement reads only the one that
    // supersedes it (see `evaluate_judged`).
    let newest: SavedMap<Promotion> = state
        .environments
        .values()
        .flat_map(BTreeMap::values)
        .filter_map(|service| service.newest_promotion)
        .filter_map(|(_, id)| state.promotions.get(&id).map(|p| (id, p.clone())))
        .collect();
    let reads = Reads {
        state,
        decisions: &decisions,
        promotions: &newest,
    };
    let mut judged: Vec<(u64, Promotion)> = Vec::new();
    let mut summaries: Vec<(u64, Summary)> = Vec::with_capacity(state.promotions.len());
    for batch in state.promotions.batches(BATCH) {
        batch
            .into_par_iter()
            .map(|(_, p)| {
                let mut p = Arc::unwrap_or_clone(p);
                let latest = newest_deployed(state, &p.request.to, &p.request.service);
                evaluate_promotion(policy, reads, &mut p, now, latest, rejudged);
                (p.index, p)
            })
            .collect_into_vec(&mut judged);
        summaries.extend(
            judged
                .drain(..)
                .map(|(index, p)| (index, Summary::of(&p, now, names))),
        );
    }
    summaries.sort_unstable_by_key(|(index, _)| *index);
    summaries.into_iter().map(|(_, summary)| summary).collect()
}

/// [`summarize`] of `state` (the fold, not judged) at `now`, judging again
/// only what may differ from `previous`, the summaries of an earlier state
/// of the same log under the same policy judged at `then`; `changes` as
/// for [`evaluate_since`], whose rules these are. A property test in
/// `tests/core` holds the result equal to [`summarize`]'s.
#[allow(clippy::too_many_arguments)]
pub fn summarize_since(
    policy: &Policy,
    previous: &Summaries,
    then: OffsetDateTime,
    state: &State,
    now: OffsetDateTime,
    rejudged: &Rejudgements,
    changes: &Changes,
    names: &mut Names,
) -> Summaries {
    // A summary keeps only the expiries after its judgement: a clock gone
    // back judges everything again.
    if changes.policy || now < then {
        return summarize(policy, state, now, rejudged, names);
    }
    let crosses = crossing(then, now);
    let frozen = freezes_crossed(policy, &crosses);
    let moved = |p: &Summary| {
        let before = policy.environment(&p.to).and_then(|e| e.after.as_deref());
        changes
            .services
            .iter()
            .any(|(env, s)| **s == *p.service && (**env == *p.to || Some(env.as_str()) == before))
    };
    let affected: Vec<Digest> = previous
        .iter()
        .filter(|p| {
            changes.promotions.contains(&p.id)
                || moved(p)
                || frozen.contains(&*p.to)
                || p.expiries().iter().any(|t| crosses(*t))
        })
        .map(|p| p.id)
        .chain(
            changes
                .promotions
                .iter()
                .filter(|id| !previous.contains(id))
                .copied(),
        )
        .collect();
    let mut judged: Vec<Promotion> = affected
        .par_iter()
        .filter_map(|id| judge_one(policy, state, id, now, rejudged))
        .collect();
    // New promotions are added in log order.
    judged.sort_by_key(|p| p.index);
    let mut out = previous.clone();
    for p in &judged {
        out.put(Summary::of(p, now, names));
    }
    out
}

/// Whether a moment lies between `then` and `now` (after the earlier, up
/// to the later): a judgement at `then` may differ at `now` because of it.
fn crossing(then: OffsetDateTime, now: OffsetDateTime) -> impl Fn(OffsetDateTime) -> bool {
    let (from, to) = (then.min(now), then.max(now));
    move |t| from < t && t <= to
}

/// The environments a freeze window of which opens or closes at a moment
/// `crosses` says.
fn freezes_crossed<'p>(
    policy: &'p Policy,
    crosses: &impl Fn(OffsetDateTime) -> bool,
) -> BTreeSet<&'p str> {
    policy
        .environments
        .values()
        .filter(|env| {
            env.freeze
                .iter()
                .any(|window| crosses(window.from) || crosses(window.to))
        })
        .map(|env| env.name.as_str())
        .collect()
}

/// Every disputed gate result, in log order (of their promotions' requests;
/// a promotion's in gate order): one pass over the map, then a stable sort,
/// instead of a lookup per promotion.
fn disputes_of(promotions: &SavedMap<Promotion>) -> Vec<DisputedGate> {
    let mut disputed: Vec<(u64, DisputedGate)> = promotions
        .values()
        .flat_map(|p| disputes(p).map(|d| (p.index, d)))
        .collect();
    disputed.sort_by_key(|(index, _)| *index);
    disputed.into_iter().map(|(_, d)| d).collect()
}

/// The disputed gate results of a promotion, as audit findings.
fn disputes(p: &Promotion) -> impl Iterator<Item = DisputedGate> + '_ {
    p.gates.values().filter_map(move |gate| {
        let latest = gate.latest.as_ref()?;
        let Some(Rejudgement::Disputed {
            stated,
            computed,
            evaluator,
            summary,
        }) = &gate.rejudged
        else {
            return None;
        };
        Some(DisputedGate {
            entry: latest.id,
            index: latest.index,
            promotion: p.id,
            gate: gate.name.clone(),
            signer: latest.signer.clone(),
            stated: *stated,
            computed: *computed,
            evaluator: evaluator.clone(),
            summary: summary.clone(),
        })
    })
}

/// The newest promotion (by its request's log index) that was deployed
/// successfully to `environment`/`service`: `(request index, id)`.
pub(super) fn newest_deployed(
    state: &State,
    environment: &str,
    service: &str,
) -> Option<(u64, Digest)> {
    state.service(environment, service)?.newest_promotion
}

/// What a judgement reads besides its promotion: the fold's services and
/// decisions, and the promotions that may supersede one (whose version its
/// blocker names). A judgement of every promotion reads decisions decoded
/// for it alone, and only the promotions that can supersede
/// ([`summarize`]).
#[derive(Clone, Copy)]
pub(super) struct Reads<'s> {
    state: &'s State,
    decisions: &'s SavedMap<DecisionRecord>,
    promotions: &'s SavedMap<Promotion>,
}

impl<'s> Reads<'s> {
    /// Everything from `state`.
    pub(super) fn of(state: &'s State) -> Self {
        Self {
            state,
            decisions: &state.decisions,
            promotions: &state.promotions,
        }
    }
}

fn decisions_for<'s>(
    reads: Reads<'s>,
    promotion: &'s Digest,
) -> impl Iterator<Item = &'s DecisionRecord> + 's {
    reads
        .state
        .decisions_by_promotion
        .get(promotion)
        .into_iter()
        .flatten()
        .filter_map(move |id| reads.decisions.get(id))
}

/// Undoes [`evaluate_promotion`]: puts back what the fold holds before any
/// judgement (no status but waiting, no blockers, approvals, rejections,
/// waivers or verdicts), so a promotion judged in place inside the fold is
/// held, and saved, as the fold left it.
pub(super) fn unjudge(p: &mut Promotion) {
    p.status = PromotionStatus::Waiting;
    p.blockers = Vec::new();
    p.approvals = Vec::new();
    p.rejections = Vec::new();
    for (_, gate) in &mut p.gates {
        gate.waivers = Vec::new();
        gate.verdict = GateVerdict::Missing;
        gate.rejudged = None;
    }
}

/// Evaluates one promotion at `now`; `newest` is [`newest_deployed`] for its
/// environment and service (a newer deployed promotion supersedes it).
pub(super) fn evaluate_promotion(
    policy: &Policy,
    reads: Reads<'_>,
    p: &mut Promotion,
    now: OffsetDateTime,
    newest: Option<(u64, Digest)>,
    rejudged: &Rejudgements,
) {
    let Some(env) = policy.environment(&p.request.to) else {
        // The request was accepted under a policy that had this environment;
        // under the current one nothing can make it ready.
        p.status = PromotionStatus::Waiting;
        return;
    };
    let mut blockers = Vec::new();

    if let Some(previous) = &env.after {
        let ran = reads
            .state
            .service(previous, &p.request.service)
            .is_some_and(|s| s.has_run(&p.artifact));
        if !ran {
            blockers.push(Blocker::NotDeployedInPrevious {
                environment: previous.clone(),
                version: p.request.version.clone(),
            });
        }
    }

    evaluate_gates(policy, reads, p, now, rejudged, &mut blockers);
    evaluate_approvals(policy, reads, env, p, now, &mut blockers);

    p.rejections = decisions_for(reads, &p.id)
        .filter(|d| {
            matches!(d.decision.action, DecisionAction::Reject { .. }) && d.revoked_by.is_none()
        })
        .map(DecisionRecord::to_ref)
        .collect();
    for r in &p.rejections {
        blockers.push(Blocker::Rejected {
            by: r.signer.clone(),
            rationale: r.rationale.clone(),
        });
    }
    for window in &env.freeze {
        if window.from <= now && now < window.to {
            blockers.push(Blocker::Frozen {
                environment: env.name.clone(),
                reason: window.reason.clone(),
                until: window.to,
            });
        }
    }

    let superseded_by = newest.filter(|(index, id)| *index > p.index && *id != p.id);
    if let Some((_, by)) = superseded_by {
        blockers.push(Blocker::Superseded {
            by,
            version: reads
                .promotions
                .get(&by)
                .map_or_else(String::new, |q| q.request.version.clone()),
        });
    }

    p.status = match &p.deployment {
        Some(d) if d.succeeded => PromotionStatus::Deployed,
        _ if superseded_by.is_some() => PromotionStatus::Superseded,
        Some(_) => PromotionStatus::DeployFailed,
        None if !p.rejections.is_empty() => PromotionStatus::Rejected,
        None if blockers.is_empty() => PromotionStatus::Ready,
        None => PromotionStatus::Waiting,
    };
    p.blockers = blockers;
}

fn evaluate_gates(
    policy: &Policy,
    reads: Reads<'_>,
    p: &mut Promotion,
    now: OffsetDateTime,
    rejudged: &Rejudgements,
    blockers: &mut Vec<Blocker>,
) {
    let waivers: Vec<&DecisionRecord> = decisions_for(reads, &p.id)
        .filter(|d| matches!(d.decision.action, DecisionAction::Waive { .. }))
        .collect();
    for (name, gate) in &mut p.gates {
        gate.waivers = waivers
            .iter()
            .filter_map(|d| match &d.decision.action {
                DecisionAction::Waive { gate: g, until, .. } if g == name => {
                    let standing = match &d.revoked_by {
                        Some(by) => Standing::Revoked { by: by.clone() },
                        None if *until <= now => Standing::Expired { at: *until },
                        None => Standing::Counted,
                    };
                    Some(WaiverView {
                        decision: d.to_ref(),
                        until: *until,
                        standing,
                    })
                }
                _ => None,
            })
            .collect();
        gate.rejudged = gate
            .latest
            .as_ref()
            .and_then(|l| rejudged.get(&l.id))
            .cloned();
        if let Some(blocker) = gate
            .latest
            .as_ref()
            .zip(gate.rejudged.as_ref())
            .and_then(|(latest, found)| unconfirmed(name, latest, found))
        {
            // An unconfirmed verdict counts for nothing, and no waiver
            // covers it: CI must submit a result its evidence supports.
            gate.verdict = GateVerdict::Failed;
            blockers.push(blocker);
            continue;
        }
        let passed = gate
            .latest
            .as_ref()
            .is_some_and(|l| matches!(l.result.status, GateStatus::Pass | GateStatus::Warn));
        let need = policy
            .gates
            .get(name)
            .and_then(|g| g.waivable_by.as_ref())
            .map_or(u32::MAX, |w| w.count);
        let waived_by: BTreeSet<&str> = gate
            .waivers
            .iter()
            .filter(|w| w.standing == Standing::Counted)
            .map(|w| w.decision.signer.as_str())
            .collect();
        let waived_until = gate
            .waivers
            .iter()
            .filter(|w| w.standing == Standing::Counted)
            .map(|w| w.until)
            .min();
        gate.verdict = if passed {
            GateVerdict::Passed
        } else if let (true, Some(until)) = (
            u32::try_from(waived_by.len()).unwrap_or(u32::MAX) >= need,
            waived_until,
        ) {
            GateVerdict::Waived { until }
        } else if gate.latest.is_some() {
            GateVerdict::Failed
        } else {
            GateVerdict::Missing
        };
        match (&gate.verdict, &gate.latest) {
            (GateVerdict::Failed, Some(latest)) => blockers.push(Blocker::GateFailed {
                gate: name.clone(),
                summary: latest.result.summary.clone(),
                remediation: latest
                    .result
                    .remediation
                    .clone()
                    .or_else(|| policy.gates.get(name).and_then(|g| g.remediation.clone())),
            }),
            (GateVerdict::Missing, _) => blockers.push(Blocker::GateMissing { gate: name.clone() }),
            _ => {}
        }
    }
}

/// The blocker for a gate result whose stated verdict was not confirmed;
/// `None` when the re-judgement agrees.
fn unconfirmed(gate: &str, latest: &GateRecord, found: &Rejudgement) -> Option<Blocker> {
    Some(match found {
        Rejudgement::Disputed {
            stated, computed, ..
        } => Blocker::GateDisputed {
            gate: gate.to_owned(),
            signer: latest.signer.clone(),
            entry: latest.id,
            stated: *stated,
            computed: *computed,
        },
        Rejudgement::EvidenceMissing { digests } => Blocker::GateEvidenceMissing {
            gate: gate.to_owned(),
            entry: latest.id,
            digests: digests.clone(),
        },
        Rejudgement::NotRejudged { problem } => Blocker::GateNotRejudged {
            gate: gate.to_owned(),
            problem: problem.clone(),
        },
        Rejudgement::Agrees => return None,
    })
}

fn evaluate_approvals(
    policy: &Policy,
    reads: Reads<'_>,
    env: &Environment,
    p: &mut Promotion,
    now: OffsetDateTime,
    blockers: &mut Vec<Blocker>,
) {
    let gates_now = gate_results_digest(p);
    let snapshot_now = reads
        .state
        .service(&p.request.to, &p.request.service)
        .and_then(|s| s.snapshot);
    let ttl = env
        .approval_ttl
        .and_then(|t| time::Duration::try_from(t).ok());

    let mut views: Vec<ApprovalView> = decisions_for(reads, &p.id)
        .filter(|d| matches!(d.decision.action, DecisionAction::Approve { .. }))
        .map(|d| {
            let issued_at = d.decision.issued_at;
            let expires_at = ttl
                .and_then(|t| issued_at.checked_add(t))
                .map_or(d.decision.expires_at, |t| t.min(d.decision.expires_at));
            let bound = &d.decision.bound;
            let standing = if let Some(by) = &d.revoked_by {
                Standing::Revoked { by: by.clone() }
            } else if expires_at <= now {
                Standing::Expired { at: expires_at }
            } else if bound.policy != policy.digest() {
                Standing::Stale(StaleReason::Policy)
            } else if bound.gate_results != gates_now {
                Standing::Stale(StaleReason::GateResults)
            } else if bound.snapshot != snapshot_now {
                Standing::Stale(StaleReason::Snapshot)
            } else {
                Standing::NotNeeded
            };
            ApprovalView {
                decision: d.to_ref(),
                issued_at,
                expires_at,
                standing,
            }
        })
        .collect();
    views.sort_by_key(|v| v.decision.index);

    let counted = assign(
        &env.approvals
            .iter()
            .map(|a| (a.role.as_str(), a.count))
            .collect::<Vec<_>>(),
        &views,
    );
    for (view_index, _) in &counted {
        views[*view_index].standing = Standing::Counted;
    }
    for requirement in &env.approvals {
        let have = u32::try_from(
            counted
                .iter()
                .filter(|(_, role)| *role == requirement.role)
                .count(),
        )
        .unwrap_or(u32::MAX);
        if have < requirement.count {
            blockers.push(Blocker::ApprovalsMissing {
                role: requirement.role.clone(),
                have,
                need: requirement.count,
            });
        }
    }
    let ready_otherwise = env
        .approvals
        .iter()
        .all(|r| counted.iter().filter(|(_, role)| *role == r.role).count() >= r.count as usize);
    if !ready_otherwise {
        // Tell people which approvals no longer count, so they know whom to ask.
        for view in &views {
            let signer = view.decision.signer.clone();
            match &view.standing {
                Standing::Stale(reason) => blockers.push(Blocker::ApprovalStale {
                    signer,
                    reason: *reason,
                }),
                Standing::Expired { at } => {
                    blockers.push(Blocker::ApprovalExpired { signer, at: *at });
                }
                Standing::Revoked { by } => {
                    blockers.push(Blocker::ApprovalRevoked {
                        signer,
                        by: by.clone(),
                    });
                }
                Standing::Counted | Standing::NotNeeded => {}
            }
        }
    }
    p.approvals = views;
}

/// Assigns valid approvals to requirement slots so that one person fills at
/// most one slot, maximising the slots filled (a bipartite matching: a
/// greedy pass could let someone who holds two roles take the slot another
/// person needed). Returns `(view index, role)` for every counted approval.
fn assign<'r>(requirements: &[(&'r str, u32)], views: &[ApprovalView]) -> Vec<(usize, &'r str)> {
    // Slots: one per unit of each requirement's count.
    let slots: Vec<&'r str> = requirements
        .iter()
        .flat_map(|(role, count)| std::iter::repeat_n(*role, *count as usize))
        .collect();
    // People and, per person, the first valid approval under each role.
    let mut people: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for (i, v) in views.iter().enumerate() {
        if v.standing == Standing::NotNeeded {
            people
                .entry(v.decision.signer.as_str())
                .or_default()
                .entry(v.decision.role.as_str())
                .or_insert(i);
        }
    }
    let people: Vec<&BTreeMap<&str, usize>> = people.values().collect();
    let mut slot_owner: Vec<Option<usize>> = vec![None; slots.len()];
    for person in 0..people.len() {
        let mut visited = vec![false; slots.len()];
        augment(person, &people, &slots, &mut slot_owner, &mut visited);
    }
    slot_owner
        .iter()
        .enumerate()
        .filter_map(|(slot, owner)| {
            owner.and_then(|person| {
                people[person]
                    .get(slots[slot])
                    .map(|&view| (view, slots[slot]))
            })
        })
        .collect()
}

fn augment(
    person: usize,
    people: &[&BTreeMap<&str, usize>],
    slots: &[&str],
    slot_owner: &mut [Option<usize>],
    visited: &mut [bool],
) -> bool {
    for slot in 0..slots.len() {
        if visited[slot] || !people[person].contains_key(slots[slot]) {
            continue;
        }
        visited[slot] = true;
        let free = match slot_owner[slot] {
            None => true,
            Some(other) => augment(other, people, slots, slot_owner, visited),
        };
        if free {
            slot_owner[slot] = Some(person);
            return true;
        }
    }
    false
}
