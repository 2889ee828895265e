//! The incremental fold: [`Folder::apply`] takes one verified entry, checks
//! every rule that can be judged at its place in the log, and either records
//! it or refuses it *without changing anything*. The store calls it to
//! validate an append; clients call it to rebuild the state from the log.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::entry::VerifiedEntry;
use super::model::{
    DecisionRecord, DeploymentRecord, GateRecord, GateState, GateVerdict, Promotion,
    PromotionStatus, RollbackRecord, Running, ServiceState, State, UnapprovedDeployment, Via,
};
use super::reasons::Refusal;
use super::rejudge::Rejudgements;
use super::saved_map::SavedMap;
use crate::digest::Digest;
use crate::ledger::Hash;
use crate::policy::Policy;
use crate::statement::{
    Decision, DecisionAction, Deployment, DeploymentStatus, DeploymentTarget, GateResult,
    Predicate, PromotionRequest, Snapshot, StatementKind,
};

/// Folds entries one at a time under one policy.
#[derive(Debug, Clone)]
pub struct Folder {
    policy: Arc<Policy>,
    state: State,
    seen: SeenIds,
    nonces: HashSet<(String, String)>,
    /// Every decision id of a rollback group → the group's id.
    rollback_of_decision: BTreeMap<Digest, Digest>,
}

/// The ids of the entries a fold took in: a shared base and the ids added
/// since, so a copy of the fold (each resumed sync, each pre-check of a
/// decision) shares the set of every id instead of copying it.
#[derive(Debug, Clone, Default)]
struct SeenIds {
    base: Arc<HashSet<Digest>>,
    added: HashSet<Digest>,
}

impl SeenIds {
    /// Ids added before they are moved into the base (which copies it when
    /// a copy of the fold still shares it).
    const MERGE: usize = 4096;

    fn contains(&self, id: &Digest) -> bool {
        self.added.contains(id) || self.base.contains(id)
    }

    fn insert(&mut self, id: Digest) {
        self.added.insert(id);
        if self.added.len() >= Self::MERGE {
            Arc::make_mut(&mut self.base).extend(self.added.drain());
        }
    }
}

/// What a fold holds besides its policy, the ids it has seen and its
/// promotions, as the client's cache persists it (`client::cache`): a cached
/// start resumes the fold from it instead of replaying the log. The
/// promotions (most of a fold) are persisted apart, so that the two halves
/// can be read on two cores.
#[derive(Debug, Serialize)]
pub struct FoldSaved<'a> {
    promotion_order: &'a Vec<Digest>,
    environments: &'a BTreeMap<String, BTreeMap<String, ServiceState>>,
    decisions_by_promotion: &'a BTreeMap<Digest, Vec<Digest>>,
    rollbacks: &'a BTreeMap<Digest, RollbackRecord>,
    unapproved: &'a Vec<UnapprovedDeployment>,
    size: u64,
    nonces: &'a HashSet<(String, String)>,
    rollback_of_decision: &'a BTreeMap<Digest, Digest>,
}

/// A [`FoldSaved`] read back.
#[derive(Debug, Deserialize)]
pub struct FoldRestored {
    promotion_order: Vec<Digest>,
    environments: BTreeMap<String, BTreeMap<String, ServiceState>>,
    decisions_by_promotion: BTreeMap<Digest, Vec<Digest>>,
    rollbacks: BTreeMap<Digest, RollbackRecord>,
    unapproved: Vec<UnapprovedDeployment>,
    size: u64,
    nonces: HashSet<(String, String)>,
    rollback_of_decision: BTreeMap<Digest, Digest>,
}

/// The digest a decision binds for "the gate results I saw": over the gate
/// names and the entry ids of their latest results, in name order.
pub fn gate_results_digest(promotion: &Promotion) -> Digest {
    let mut text = String::new();
    for (name, gate) in &promotion.gates {
        if let Some(latest) = &gate.latest {
            text.push_str(name);
            text.push(' ');
            text.push_str(&latest.id.to_string());
            text.push('\n');
        }
    }
    Digest::of(text.as_bytes())
}

/// Checks that a decision's `observed_checkpoint` names this log's own
/// root at that size. `root_at(size)` answers the root of the log's first
/// `size` entries (the caller holds the tree). Other statements pass.
///
/// Kept outside [`Folder::apply`] because the fold does not hold leaf
/// hashes; the store calls it before appending, clients while replaying.
pub fn check_observed_root(
    entry: &VerifiedEntry,
    root_at: impl FnOnce(u64) -> Option<Hash>,
) -> Result<(), Refusal> {
    let Predicate::Decision(decision) = &entry.statement.predicate else {
        return Ok(());
    };
    let observed = &decision.observed;
    if observed.size > entry.index {
        // The fold refuses it (ObservedCheckpointInvalid).
        return Ok(());
    }
    match root_at(observed.size) {
        Some(root) if root == observed.root.0 => Ok(()),
        actual => Err(Refusal::ObservedRootMismatch {
            size: observed.size,
            claimed: crate::encoding::encode(&observed.root.0),
            actual: actual.map_or_else(|| "unknown".to_owned(), |r| crate::encoding::encode(&r)),
        }),
    }
}

impl Folder {
    pub fn new(policy: Arc<Policy>) -> Self {
        Self {
            policy,
            state: State::default(),
            seen: SeenIds::default(),
            nonces: HashSet::new(),
            rollback_of_decision: BTreeMap::new(),
        }
    }

    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The fold's data for the client's cache to persist (see [`FoldSaved`]),
    /// its promotions and its decisions. A fold that refused an entry is not
    /// persisted, so its `ignored` list is not part of it.
    pub fn saved(
        &self,
    ) -> (
        FoldSaved<'_>,
        &SavedMap<Promotion>,
        &SavedMap<DecisionRecord>,
    ) {
        let state = &self.state;
        let saved = FoldSaved {
            promotion_order: &state.promotion_order,
            environments: &state.environments,
            decisions_by_promotion: &state.decisions_by_promotion,
            rollbacks: &state.rollbacks,
            unapproved: &state.unapproved,
            size: state.size,
            nonces: &self.nonces,
            rollback_of_decision: &self.rollback_of_decision,
        };
        (saved, &state.promotions, &state.decisions)
    }

    /// Resumes a fold saved with [`Self::saved`] under `policy`, the policy
    /// in force after it; `seen` are the ids of the entries it took in.
    pub fn restore(
        policy: Arc<Policy>,
        saved: FoldRestored,
        (promotions, decisions): (SavedMap<Promotion>, SavedMap<DecisionRecord>),
        seen: HashSet<Digest>,
    ) -> Self {
        Self {
            policy,
            state: State {
                promotions,
                promotion_order: saved.promotion_order,
                environments: saved.environments,
                decisions,
                decisions_by_promotion: saved.decisions_by_promotion,
                rollbacks: saved.rollbacks,
                ignored: Vec::new(),
                unapproved: saved.unapproved,
                disputed: Vec::new(),
                size: saved.size,
            },
            seen: SeenIds {
                base: Arc::new(seen),
                added: HashSet::new(),
            },
            nonces: saved.nonces,
            rollback_of_decision: saved.rollback_of_decision,
        }
    }

    /// Continues the fold under the next policy version, once the caller
    /// has accepted it (`policy::rotation::verify_successor`): entries after
    /// a policy entry are judged by the policy it installs.
    pub fn set_policy(&mut self, policy: Arc<Policy>) {
        self.policy = policy;
    }

    /// The state before readiness is evaluated (see [`super::evaluate`]).
    pub fn raw_state(&self) -> &State {
        &self.state
    }

    /// Folds every entry; refused ones are kept in `ignored` with their reason.
    pub fn apply_all<'e>(&mut self, entries: impl IntoIterator<Item = &'e VerifiedEntry>) {
        for entry in entries {
            if let Err(reason) = self.apply(entry) {
                self.state.ignored.push(super::model::IgnoredEntry {
                    index: entry.index,
                    id: entry.id,
                    signer: entry.signer.clone(),
                    reason,
                });
            }
            self.state.size = self.state.size.max(entry.index + 1);
        }
    }

    /// Applies one entry, or refuses it and leaves the state unchanged.
    pub fn apply(&mut self, entry: &VerifiedEntry) -> Result<(), Refusal> {
        if self.seen.contains(&entry.id) {
            return Err(Refusal::Duplicate(entry.id));
        }
        let kind = entry.statement.kind();
        if matches!(
            kind,
            StatementKind::PromotionRequest
                | StatementKind::GateResult
                | StatementKind::Snapshot
                | StatementKind::Deployment
        ) && !self.policy.may_sign(kind.name(), &entry.signer)
        {
            return Err(Refusal::NotAuthorisedToSign {
                signer: entry.signer.clone(),
                kind: kind.name(),
                allowed: self
                    .policy
                    .signers
                    .get(kind.name())
                    .map(|roles| roles.join(", "))
                    .unwrap_or_default(),
            });
        }
        let artifact = entry.statement.artifact().unwrap_or_default();
        match &entry.statement.predicate {
            Predicate::PromotionRequest(p) => self.request(entry, artifact, p)?,
            Predicate::GateResult(g) => self.gate_result(entry, artifact, g)?,
            Predicate::Snapshot(s) => self.snapshot(entry, s)?,
            Predicate::Decision(d) => self.decision(entry, artifact, d)?,
            Predicate::Deployment(d) => self.deployment(entry, artifact, d)?,
            // Policy versions are checked by `policy::rotation` as the log is
            // read; they change no promotion by themselves.
            Predicate::Policy(_) => {}
        }
        self.seen.insert(entry.id);
        self.state.size = self.state.size.max(entry.index + 1);
        Ok(())
    }

    fn request(
        &mut self,
        entry: &VerifiedEntry,
        artifact: Digest,
        request: &PromotionRequest,
    ) -> Result<(), Refusal> {
        let target = self
            .policy
            .environment(&request.to)
            .ok_or_else(|| Refusal::UnknownEnvironment(request.to.clone()))?;
        if target.after != request.from {
            return Err(Refusal::WrongSourceEnvironment {
                to: request.to.clone(),
                expected: target
                    .after
                    .clone()
                    .unwrap_or_else(|| "(nowhere: it is the first)".into()),
                got: request.from.clone().unwrap_or_else(|| "(nowhere)".into()),
            });
        }
        let gates = target
            .gates
            .iter()
            .map(|name| {
                let state = GateState {
                    name: name.clone(),
                    latest: None,
                    waivers: Vec::new(),
                    verdict: GateVerdict::Missing,
                    rejudged: None,
                };
                (name.clone(), state)
            })
            .collect();
        self.state.promotions.insert(
            entry.id,
            Promotion {
                id: entry.id,
                index: entry.index,
                requested_by: entry.signer.clone(),
                artifact,
                request: Arc::new(request.clone()),
                gates,
                approvals: Vec::new(),
                rejections: Vec::new(),
                deployment: None,
                status: PromotionStatus::Waiting,
                blockers: Vec::new(),
            },
        );
        self.state.promotion_order.push(entry.id);
        Ok(())
    }

    fn promotion_for(&self, id: &Digest, artifact: Digest) -> Result<&Promotion, Refusal> {
        let promotion = self
            .state
            .promotions
            .get(id)
            .ok_or(Refusal::UnknownPromotion(*id))?;
        if promotion.artifact != artifact {
            return Err(Refusal::ArtifactMismatch {
                promotion: *id,
                expected: promotion.artifact,
                got: artifact,
            });
        }
        Ok(promotion)
    }

    fn gate_result(
        &mut self,
        entry: &VerifiedEntry,
        artifact: Digest,
        result: &GateResult,
    ) -> Result<(), Refusal> {
        let promotion = self.promotion_for(&result.promotion, artifact)?;
        if !promotion.gates.contains_key(&result.gate) {
            return Err(Refusal::GateNotRequired {
                gate: result.gate.clone(),
                environment: promotion.request.to.clone(),
            });
        }
        if let Some(gate) = self
            .state
            .promotions
            .get_mut(&result.promotion)
            .and_then(|p| p.gates.get_mut(&result.gate))
        {
            gate.latest = Some(Arc::new(GateRecord {
                id: entry.id,
                index: entry.index,
                signer: entry.signer.clone(),
                result: result.clone(),
            }));
        }
        Ok(())
    }

    fn snapshot(&mut self, entry: &VerifiedEntry, snapshot: &Snapshot) -> Result<(), Refusal> {
        if self.policy.environment(&snapshot.environment).is_none() {
            return Err(Refusal::UnknownEnvironment(snapshot.environment.clone()));
        }
        self.state
            .environments
            .entry(snapshot.environment.clone())
            .or_default()
            .entry(snapshot.service.clone())
            .or_default()
            .snapshot = Some(entry.id);
        Ok(())
    }

    /// The snapshot id a decision about `promotion` must bind now.
    pub fn current_snapshot(&self, promotion: &Promotion) -> Option<Digest> {
        self.state
            .service(&promotion.request.to, &promotion.request.service)?
            .snapshot
    }

    fn check_binding(&self, promotion: &Promotion, decision: &Decision) -> Result<(), Refusal> {
        let stale = |what: &'static str, bound: String, current: String| Refusal::StaleBinding {
            what,
            bound,
            current,
        };
        if decision.bound.policy != self.policy.digest() {
            return Err(stale(
                "policy",
                decision.bound.policy.to_string(),
                self.policy.digest().to_string(),
            ));
        }
        let gates = gate_results_digest(promotion);
        if decision.bound.gate_results != gates {
            return Err(stale(
                "gate results",
                decision.bound.gate_results.to_string(),
                gates.to_string(),
            ));
        }
        let snapshot = self.current_snapshot(promotion);
        if decision.bound.snapshot != snapshot {
            let show = |d: Option<Digest>| d.map_or_else(|| "none".to_owned(), |d| d.to_string());
            return Err(stale(
                "snapshot",
                show(decision.bound.snapshot),
                show(snapshot),
            ));
        }
        Ok(())
    }

    fn decision(
        &mut self,
        entry: &VerifiedEntry,
        artifact: Digest,
        decision: &Decision,
    ) -> Result<(), Refusal> {
        if !self.policy.has_role(&entry.signer, &decision.role) {
            return Err(Refusal::RoleNotHeld {
                signer: entry.signer.clone(),
                role: decision.role.clone(),
            });
        }
        let nonce_key = (entry.signer.clone(), decision.nonce.clone());
        if self.nonces.contains(&nonce_key) {
            return Err(Refusal::ReplayedNonce {
                signer: entry.signer.clone(),
                nonce: decision.nonce.clone(),
            });
        }
        if decision.observed.origin != self.policy.origin || decision.observed.size > entry.index {
            return Err(Refusal::ObservedCheckpointInvalid {
                origin: decision.observed.origin.clone(),
                size: decision.observed.size,
                expected_origin: self.policy.origin.clone(),
                log_size: entry.index,
            });
        }
        match &decision.action {
            DecisionAction::Approve { promotion } | DecisionAction::Reject { promotion } => {
                let approve = matches!(decision.action, DecisionAction::Approve { .. });
                let p = self.promotion_for(promotion, artifact)?;
                let env = self
                    .policy
                    .environment(&p.request.to)
                    .ok_or_else(|| Refusal::UnknownEnvironment(p.request.to.clone()))?;
                if !env.approvals.iter().any(|a| a.role == decision.role) {
                    return Err(Refusal::RoleNotAccepted {
                        role: decision.role.clone(),
                        action: if approve { "approve" } else { "reject" },
                        environment: env.name.clone(),
                        accepted: env
                            .approvals
                            .iter()
                            .map(|a| a.role.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
                if approve {
                    if p.requested_by == entry.signer {
                        return Err(Refusal::SelfApproval {
                            signer: entry.signer.clone(),
                            role: decision.role.clone(),
                        });
                    }
                    self.check_binding(p, decision)?;
                }
            }
            DecisionAction::Waive {
                promotion,
                gate,
                until,
            } => {
                let p = self.promotion_for(promotion, artifact)?;
                if !p.gates.contains_key(gate) {
                    return Err(Refusal::GateNotRequired {
                        gate: gate.clone(),
                        environment: p.request.to.clone(),
                    });
                }
                // Separation of duties: whoever asked for the promotion may
                // not excuse it from a gate, as they may not approve it.
                if p.requested_by == entry.signer {
                    return Err(Refusal::SelfWaiver {
                        signer: entry.signer.clone(),
                        role: decision.role.clone(),
                        gate: gate.clone(),
                    });
                }
                let rule = self
                    .policy
                    .gates
                    .get(gate)
                    .and_then(|g| g.waivable_by.as_ref())
                    .ok_or_else(|| Refusal::NotWaivable(gate.clone()))?;
                if rule.role != decision.role {
                    return Err(Refusal::RoleNotAccepted {
                        role: decision.role.clone(),
                        action: "waive",
                        environment: p.request.to.clone(),
                        accepted: rule.role.clone(),
                    });
                }
                let length = *until - decision.issued_at;
                if length > rule.max_ttl {
                    return Err(Refusal::WaiverTooLong {
                        max_hours: rule.max_ttl.as_secs() / 3600,
                    });
                }
            }
            DecisionAction::Revoke { decision: target } => {
                let record = self
                    .state
                    .decisions
                    .get(target)
                    .ok_or(Refusal::UnknownDecision(*target))?;
                let admin = self
                    .policy
                    .has_role(&entry.signer, &self.policy.admins.role);
                if record.signer != entry.signer && !admin {
                    return Err(Refusal::NotYourDecision {
                        decision: *target,
                        owner: record.signer.clone(),
                    });
                }
                if record.revoked_by.is_some() {
                    return Err(Refusal::AlreadyRevoked(*target));
                }
            }
            DecisionAction::Rollback {
                environment,
                service,
                from,
                to,
            } => {
                let env = self
                    .policy
                    .environment(environment)
                    .ok_or_else(|| Refusal::UnknownEnvironment(environment.clone()))?;
                let rule = env
                    .rollback
                    .as_ref()
                    .ok_or_else(|| Refusal::RollbackNotAllowed(environment.clone()))?;
                if !rule.roles.contains(&decision.role) {
                    return Err(Refusal::RoleNotAccepted {
                        role: decision.role.clone(),
                        action: "roll back",
                        environment: environment.clone(),
                        accepted: rule.roles.join(", "),
                    });
                }
                let service_state = self.state.service(environment, service);
                let running = service_state
                    .and_then(|s| s.running.as_ref())
                    .map(|r| r.artifact);
                if running != Some(*from) {
                    return Err(Refusal::RollbackFromMismatch {
                        environment: environment.clone(),
                        service: service.clone(),
                        claimed: *from,
                        running: running.map_or_else(|| "nothing".to_owned(), |d| d.to_string()),
                    });
                }
                if !service_state.is_some_and(|s| s.has_run(to)) {
                    return Err(Refusal::RollbackTargetUnknown {
                        environment: environment.clone(),
                        to: *to,
                    });
                }
            }
        }
        self.record_decision(entry, artifact, decision);
        Ok(())
    }

    /// Records a decision that passed every check.
    fn record_decision(&mut self, entry: &VerifiedEntry, artifact: Digest, decision: &Decision) {
        self.nonces
            .insert((entry.signer.clone(), decision.nonce.clone()));
        let record = DecisionRecord {
            id: entry.id,
            index: entry.index,
            signer: entry.signer.clone(),
            artifact,
            decision: decision.clone(),
            revoked_by: None,
        };
        match &decision.action {
            DecisionAction::Revoke { decision: target } => {
                if let Some(target) = self.state.decisions.get_mut(target) {
                    target.revoked_by = Some(entry.signer.clone());
                }
                // A revoked rollback decision no longer counts toward its group.
                if let Some(group) = self.rollback_of_decision.get(target).copied() {
                    let standing = self.unrevoked_signers(group);
                    if let Some(r) = self.state.rollbacks.get_mut(&group) {
                        let count = self
                            .policy
                            .environment(&r.environment)
                            .and_then(|e| e.rollback.as_ref())
                            .map_or(1, |rule| rule.count);
                        r.accepted = standing >= count;
                    }
                }
            }
            DecisionAction::Rollback {
                environment,
                service,
                from,
                to,
            } => {
                let count = self
                    .policy
                    .environment(environment)
                    .and_then(|e| e.rollback.as_ref())
                    .map_or(1, |r| r.count);
                let group = self.state.rollbacks.values_mut().find(|r| {
                    !r.accepted
                        && &r.environment == environment
                        && &r.service == service
                        && &r.from == from
                        && &r.to == to
                });
                let group = match group {
                    Some(group) => group,
                    None => self
                        .state
                        .rollbacks
                        .entry(entry.id)
                        .or_insert(RollbackRecord {
                            id: entry.id,
                            environment: environment.clone(),
                            service: service.clone(),
                            from: *from,
                            to: *to,
                            decisions: Vec::new(),
                            accepted: false,
                            deployment: None,
                        }),
                };
                group.decisions.push(record.to_ref());
                let group_id = group.id;
                self.rollback_of_decision.insert(entry.id, group_id);
                self.state.decisions.insert(entry.id, record.clone());
                let accepted = self.unrevoked_signers(group_id) >= count;
                if let Some(group) = self.state.rollbacks.get_mut(&group_id) {
                    group.accepted = accepted;
                }
                if accepted {
                    let service_state = self
                        .state
                        .environments
                        .entry(environment.clone())
                        .or_default()
                        .entry(service.clone())
                        .or_default();
                    if !service_state.rolled_back_from.contains(from) {
                        service_state.rolled_back_from.push(*from);
                    }
                }
            }
            DecisionAction::Approve { .. }
            | DecisionAction::Reject { .. }
            | DecisionAction::Waive { .. } => {}
        }
        if let Some(promotion) = decision.action.promotion() {
            self.state
                .decisions_by_promotion
                .entry(*promotion)
                .or_default()
                .push(entry.id);
        }
        self.state.decisions.insert(entry.id, record);
    }

    fn deployment(
        &mut self,
        entry: &VerifiedEntry,
        artifact: Digest,
        deployment: &Deployment,
    ) -> Result<(), Refusal> {
        let (environment, service, version, via) = match deployment.target {
            DeploymentTarget::Promotion(id) => {
                let p = self.promotion_for(&id, artifact)?;
                (
                    p.request.to.clone(),
                    p.request.service.clone(),
                    Some(p.request.version.clone()),
                    Via::Promotion(id),
                )
            }
            DeploymentTarget::Rollback(id) => {
                let group = self
                    .rollback_of_decision
                    .get(&id)
                    .and_then(|g| self.state.rollbacks.get(g))
                    .ok_or(Refusal::UnknownDeploymentTarget(id))?;
                let need = self
                    .policy
                    .environment(&group.environment)
                    .and_then(|e| e.rollback.as_ref())
                    .map_or(1, |rule| rule.count);
                let standing = self.standing_signers(group.id, deployment.at);
                if standing < need {
                    return Err(Refusal::RollbackQuorumNotStanding {
                        rollback: group.id,
                        standing,
                        need,
                        at: deployment.at,
                    });
                }
                if group.to != artifact {
                    return Err(Refusal::ArtifactMismatch {
                        promotion: id,
                        expected: group.to,
                        got: artifact,
                    });
                }
                (
                    group.environment.clone(),
                    group.service.clone(),
                    None,
                    Via::Rollback(group.id),
                )
            }
        };
        if deployment.environment != environment || deployment.service != service {
            return Err(Refusal::DeploymentMismatch {
                expected: environment,
                expected_service: service,
                got: deployment.environment.clone(),
                got_service: deployment.service.clone(),
            });
        }
        let succeeded = deployment.status == DeploymentStatus::Succeeded;
        let approved = match via {
            Via::Promotion(id) => self.ready_at(id, deployment.at),
            Via::Rollback(_) => Ok(()),
        };
        let record = DeploymentRecord {
            id: entry.id,
            index: entry.index,
            succeeded,
            at: deployment.at,
        };
        match via {
            Via::Promotion(id) => {
                if let Some(p) = self.state.promotions.get_mut(&id) {
                    p.deployment = Some(record);
                }
            }
            Via::Rollback(id) => {
                if let Some(r) = self.state.rollbacks.get_mut(&id) {
                    r.deployment = Some(record);
                }
            }
        }
        if succeeded {
            let running = Running {
                artifact,
                version,
                via,
                at: deployment.at,
                index: entry.index,
                approved: approved.is_ok(),
            };
            let requested = match via {
                Via::Promotion(id) => self.state.promotions.get(&id).map(|p| (p.index, id)),
                Via::Rollback(_) => None,
            };
            let service_state = self
                .state
                .environments
                .entry(environment)
                .or_default()
                .entry(service)
                .or_default();
            if let Some((requested, id)) = requested
                && service_state
                    .newest_promotion
                    .is_none_or(|(index, _)| index < requested)
            {
                service_state.newest_promotion = Some((requested, id));
            }
            service_state.record_run(running.clone());
            service_state.running = Some(running);
        }
        if let (Err(reasons), Via::Promotion(promotion)) = (approved, via) {
            self.state.unapproved.push(UnapprovedDeployment {
                deployment: entry.id,
                index: entry.index,
                promotion,
                environment: deployment.environment.clone(),
                service: deployment.service.clone(),
                signer: entry.signer.clone(),
                at: deployment.at,
                reasons,
            });
        }
        Ok(())
    }

    /// Whether promotion `id` was ready at `at` (a deployment's signed time),
    /// judged on the log so far as if it had not been deployed yet; if not,
    /// why not.
    fn ready_at(&mut self, id: Digest, at: OffsetDateTime) -> Result<(), Vec<String>> {
        // Judged on the promotion itself, taken out of the state meanwhile
        // (a judgement reads no promotion but the one that supersedes it),
        // then unjudged: the fold holds no judgement (every evaluation of
        // the state makes its own), and the caller records the deployment
        // next. A copy per deployment cost more than the rest of its fold.
        let Some(mut probe) = self.state.promotions.remove(&id) else {
            return Err(vec![Refusal::UnknownPromotion(id).to_string()]);
        };
        probe.deployment = None;
        let newest = super::readiness::newest_deployed(
            &self.state,
            &probe.request.to,
            &probe.request.service,
        );
        // The log alone: re-judgements are a client's, never the fold's.
        super::readiness::evaluate_promotion(
            &self.policy,
            super::readiness::Reads::of(&self.state),
            &mut probe,
            at,
            newest,
            &Rejudgements::new(),
        );
        let verdict = match probe.status {
            PromotionStatus::Ready => Ok(()),
            PromotionStatus::Rejected if probe.blockers.is_empty() => {
                Err(vec!["it was rejected".to_owned()])
            }
            status => {
                let mut reasons: Vec<String> =
                    probe.blockers.iter().map(ToString::to_string).collect();
                if reasons.is_empty() {
                    reasons.push(format!("it was {}", status.label()));
                }
                Err(reasons)
            }
        };
        super::readiness::unjudge(&mut probe);
        self.state.promotions.insert(id, probe);
        verdict
    }

    /// Distinct signers of a rollback group whose decisions are not revoked.
    fn unrevoked_signers(&self, group: Digest) -> u32 {
        self.count_signers(group, |_| true)
    }

    /// Distinct signers of a rollback group whose decisions stand at `at`:
    /// neither revoked nor expired (the decision's own expiry, capped by the
    /// environment's `approval_ttl`, as for approvals).
    fn standing_signers(&self, group: Digest, at: OffsetDateTime) -> u32 {
        let ttl = self
            .state
            .rollbacks
            .get(&group)
            .and_then(|r| self.policy.environment(&r.environment))
            .and_then(|e| e.approval_ttl)
            .and_then(|t| time::Duration::try_from(t).ok());
        self.count_signers(group, |d| {
            let expires = ttl
                .and_then(|t| d.decision.issued_at.checked_add(t))
                .map_or(d.decision.expires_at, |t| t.min(d.decision.expires_at));
            at < expires
        })
    }

    fn count_signers(&self, group: Digest, stands: impl Fn(&DecisionRecord) -> bool) -> u32 {
        let Some(r) = self.state.rollbacks.get(&group) else {
            return 0;
        };
        let signers: HashSet<&str> = r
            .decisions
            .iter()
            .filter_map(|d| self.state.decisions.get(&d.id))
            .filter(|d| d.revoked_by.is_none() && stands(d))
            .map(|d| d.signer.as_str())
            .collect();
        u32::try_from(signers.len()).unwrap_or(u32::MAX)
    }

    /// The state with readiness evaluated at `now`.
    pub fn state_at(&self, now: OffsetDateTime) -> State {
        super::readiness::evaluate(&self.policy, self.shared_copy(), now)
    }

    /// The state with readiness evaluated at `now`, trusting a gate
    /// result's stated verdict only where `rejudged` agrees with it.
    pub fn state_judged(&self, now: OffsetDateTime, rejudged: &Rejudgements) -> State {
        super::readiness::evaluate_judged(&self.policy, self.shared_copy(), now, rejudged)
    }

    /// [`Self::state_judged`], judging again only what `changes` (the
    /// entries since) and the time since `then` can have changed in
    /// `previous`, the judged promotions of this fold at an earlier size
    /// under the same policy ([`super::readiness::evaluate_since`]).
    pub fn state_judged_since(
        &self,
        previous: &SavedMap<Promotion>,
        then: OffsetDateTime,
        now: OffsetDateTime,
        rejudged: &Rejudgements,
        changes: &super::changes::Changes,
    ) -> State {
        super::readiness::evaluate_since(
            &self.policy,
            previous,
            then,
            self.state.clone(),
            now,
            rejudged,
            changes,
        )
    }

    /// Every promotion judged at `now`, in brief ([`super::summarize`]).
    /// The fold's own values stay as they are (saved ones are decoded for
    /// this judgement only).
    pub fn summaries(
        &self,
        now: OffsetDateTime,
        rejudged: &Rejudgements,
        names: &mut super::Names,
    ) -> super::Summaries {
        super::readiness::summarize(&self.policy, &self.state, now, rejudged, names)
    }

    /// [`Self::summaries`], judging again only what `changes` and the time
    /// since `then` can have changed in `previous`
    /// ([`super::summarize_since`]).
    pub fn summaries_since(
        &self,
        previous: &super::Summaries,
        then: OffsetDateTime,
        now: OffsetDateTime,
        rejudged: &Rejudgements,
        changes: &super::changes::Changes,
        names: &mut super::Names,
    ) -> super::Summaries {
        super::readiness::summarize_since(
            &self.policy,
            previous,
            then,
            &self.state,
            now,
            rejudged,
            changes,
            names,
        )
    }

    /// The promotion `id` judged at `now` ([`super::judge_one`]).
    pub fn judged_promotion(
        &self,
        id: &Digest,
        now: OffsetDateTime,
        rejudged: &Rejudgements,
    ) -> Option<Promotion> {
        super::readiness::judge_one(&self.policy, &self.state, id, now, rejudged)
    }

    /// A copy of the state to evaluate: every value decoded here first, once
    /// for all the evaluations of this fold (a cockpit evaluates at every
    /// sync), and shared with the copy, which copies a promotion only as it
    /// judges it.
    fn shared_copy(&self) -> State {
        self.decode_all();
        self.state.clone()
    }

    /// Reads and decodes every saved promotion and decision where the fold
    /// holds it, on every core, so that copies made afterwards share them
    /// and nothing that reads them later (the cockpit's screen preparing an
    /// action) reads the cache's file.
    pub fn decode_all(&self) {
        rayon::join(
            || self.state.promotions.decode_all(),
            || self.state.decisions.decode_all(),
        );
    }

    /// [`Self::state_judged`] for a caller done with the fold (a read
    /// command): the state is taken, not copied.
    pub fn into_state_judged(self, now: OffsetDateTime, rejudged: &Rejudgements) -> State {
        super::readiness::evaluate_judged(&self.policy, self.state, now, rejudged)
    }

    /// Would [`Self::apply`] accept `entry` next? The same judgement, with
    /// the same reason, without changing anything: what the action layer
    /// asks before anything is signed, so a local refusal is the store's.
    /// (It applies to a copy; a decision is judged a few times a minute at
    /// most, never in a loop.)
    pub fn check(&self, entry: &VerifiedEntry) -> Result<(), Refusal> {
        self.clone().apply(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_ids_keep_every_id_across_merges_and_copies_grow_apart() {
        let id = |i: u32| Digest::of(&i.to_le_bytes());
        let n = u32::try_from(SeenIds::MERGE).unwrap_or(u32::MAX) * 2 + 7;
        let mut seen = SeenIds::default();
        let mut copy = None;
        for i in 0..n {
            assert!(!seen.contains(&id(i)));
            seen.insert(id(i));
            if i == n / 2 {
                copy = Some(seen.clone());
            }
        }
        assert!((0..n).all(|i| seen.contains(&id(i))));
        let copy = copy.unwrap_or_default();
        assert!((0..=n / 2).all(|i| copy.contains(&id(i))));
        assert!(!copy.contains(&id(n / 2 + 1)));
        assert!(!seen.contains(&id(n)));
    }
}
