//! What entries change in a fold, for a caller that keeps the judgements of
//! an earlier state of the same log and re-judges only what may differ
//! ([`super::readiness::evaluate_since`]): the cockpit, which follows the
//! log one entry at a time. Pure.
//!
//! A promotion's judgement reads its own record, the decisions about it,
//! the state of its service in its target environment and in the one
//! before, the policy, the re-judgements of its gate results and the time.
//! An entry names what it moves: a request, gate result, approval,
//! rejection or waiver its promotion; a revocation the promotion (or, for a
//! rollback vote, the service) of the decision it revokes; a snapshot,
//! rollback or deployment its service (and a deployment its promotion); a
//! policy entry everything.

use std::collections::BTreeSet;

use super::entry::VerifiedEntry;
use super::model::State;
use crate::digest::Digest;
use crate::statement::{DecisionAction, DeploymentTarget, Predicate};

/// What some entries changed: a superset (an entry the fold refused changed
/// nothing, yet is counted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Promotions whose own record or decisions changed.
    pub promotions: BTreeSet<Digest>,
    /// `(environment, service)` whose state changed.
    pub services: BTreeSet<(String, String)>,
    /// A policy entry: any judgement may change.
    pub policy: bool,
}

impl Changes {
    /// Notes what `entry` changed in `state`, the fold after it (a
    /// revocation's target is looked up there).
    pub fn note(&mut self, state: &State, entry: &VerifiedEntry) {
        match &entry.statement.predicate {
            Predicate::PromotionRequest(_) => {
                self.promotions.insert(entry.id);
            }
            Predicate::GateResult(result) => {
                self.promotions.insert(result.promotion);
            }
            Predicate::Snapshot(snapshot) => {
                self.service(&snapshot.environment, &snapshot.service);
            }
            Predicate::Decision(decision) => match &decision.action {
                DecisionAction::Revoke { decision } => {
                    if let Some(target) = state.decisions.get(decision) {
                        self.action(&target.decision.action);
                    }
                }
                action => self.action(action),
            },
            Predicate::Deployment(deployment) => {
                self.service(&deployment.environment, &deployment.service);
                if let DeploymentTarget::Promotion(id) = deployment.target {
                    self.promotions.insert(id);
                }
            }
            Predicate::Policy(_) => self.policy = true,
        }
    }

    /// What a decision with `action` moves (or its revocation moves back).
    fn action(&mut self, action: &DecisionAction) {
        if let DecisionAction::Rollback {
            environment,
            service,
            ..
        } = action
        {
            self.service(environment, service);
        }
        if let Some(promotion) = action.promotion() {
            self.promotions.insert(*promotion);
        }
    }

    fn service(&mut self, environment: &str, service: &str) {
        self.services
            .insert((environment.to_owned(), service.to_owned()));
    }

    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.promotions.is_empty() && self.services.is_empty() && !self.policy
    }
}
