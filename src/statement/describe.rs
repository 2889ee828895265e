//! How a statement reads to a person in one line, and the time its signer
//! put in it. One place for both, so the CLI's `log show`, the store's clock
//! check and the cockpit's timeline say the same thing.

use time::OffsetDateTime;

use super::{DecisionAction, DeploymentStatus, DeploymentTarget, GateStatus, Predicate, Statement};
use crate::digest::Digest;

impl Statement {
    /// The time the signer put in the statement, with the field's name;
    /// `None` for a policy version, which carries none.
    pub fn signed_at(&self) -> Option<(&'static str, OffsetDateTime)> {
        match &self.predicate {
            Predicate::PromotionRequest(p) => Some(("requested_at", p.requested_at)),
            Predicate::GateResult(g) => Some(("produced_at", g.produced_at)),
            Predicate::Snapshot(s) => Some(("captured_at", s.captured_at)),
            Predicate::Decision(d) => Some(("issued_at", d.issued_at)),
            Predicate::Deployment(d) => Some(("at", d.at)),
            Predicate::Policy(_) => None,
        }
    }

    /// One line saying what the statement does, e.g.
    /// `approve 3f2a…91 as release-manager: "release notes reviewed"`.
    pub fn summary(&self) -> String {
        let short = Digest::short;
        match &self.predicate {
            Predicate::PromotionRequest(p) => format!(
                "request {} {} {} → {}",
                p.service,
                p.version,
                p.from.as_deref().unwrap_or("(start)"),
                p.to
            ),
            Predicate::GateResult(g) => format!(
                "gate {} {} for {}: {}",
                g.gate,
                status_name(g.status),
                short(&g.promotion),
                g.summary
            ),
            Predicate::Snapshot(s) => format!("snapshot of {} in {}", s.service, s.environment),
            Predicate::Decision(d) => {
                let what = match &d.action {
                    DecisionAction::Approve { promotion } => {
                        format!("approve {}", short(promotion))
                    }
                    DecisionAction::Reject { promotion } => format!("reject {}", short(promotion)),
                    DecisionAction::Revoke { decision } => format!("revoke {}", short(decision)),
                    DecisionAction::Waive {
                        promotion, gate, ..
                    } => format!("waive {gate} for {}", short(promotion)),
                    DecisionAction::Rollback {
                        environment,
                        service,
                        to,
                        ..
                    } => format!("roll {service} in {environment} back to {}", short(to)),
                };
                format!("{what} as {}: {:?}", d.role, d.rationale)
            }
            Predicate::Deployment(d) => {
                let what = match d.target {
                    DeploymentTarget::Promotion(id) => format!("promotion {}", short(&id)),
                    DeploymentTarget::Rollback(id) => format!("rollback {}", short(&id)),
                };
                format!(
                    "deployed {what} of {} to {}: {}",
                    d.service,
                    d.environment,
                    match d.status {
                        DeploymentStatus::Succeeded => "succeeded",
                        DeploymentStatus::Failed => "failed",
                    }
                )
            }
            Predicate::Policy(p) => format!("policy version {}", p.version),
        }
    }
}

const fn status_name(status: GateStatus) -> &'static str {
    match status {
        GateStatus::Pass => "pass",
        GateStatus::Fail => "fail",
        GateStatus::Warn => "warn",
        GateStatus::Error => "error",
    }
}
