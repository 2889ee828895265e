//! Every reason the fold gives, in words a person can act on: why an entry
//! is refused ([`Refusal`]), why a promotion is not ready ([`Blocker`]) and why
//! an approval went stale ([`StaleReason`]). All of their text lives here.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::digest::Digest;
use crate::statement::GateStatus;

fn when(t: &OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// Why an entry is not counted (and why the store refuses it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{signer} may not sign {kind} statements; the policy's [signers] allows roles: {allowed}"
    )]
    NotAuthorisedToSign {
        signer: String,
        kind: &'static str,
        allowed: String,
    },
    #[error("environment `{0}` is not in the policy; use one of its [environments]")]
    UnknownEnvironment(String),
    #[error("a promotion to `{to}` must come from `{expected}`, not `{got}`")]
    WrongSourceEnvironment {
        to: String,
        expected: String,
        got: String,
    },
    #[error("promotion {0} is not in the log; request it first (`tollgate promote request`)")]
    UnknownPromotion(Digest),
    #[error(
        "the statement is about artifact {got}, but promotion {promotion} is for {expected}; sign a statement for the promotion's artifact"
    )]
    ArtifactMismatch {
        promotion: Digest,
        expected: Digest,
        got: Digest,
    },
    #[error("gate `{gate}` is not required by environment `{environment}`")]
    GateNotRequired { gate: String, environment: String },
    #[error("{signer} does not hold role `{role}` in the policy; sign with a role you hold")]
    RoleNotHeld { signer: String, role: String },
    #[error("role `{role}` cannot {action} in `{environment}`; the policy accepts: {accepted}")]
    RoleNotAccepted {
        role: String,
        action: &'static str,
        environment: String,
        accepted: String,
    },
    #[error("{signer} requested this promotion and cannot approve it; ask another {role}")]
    SelfApproval { signer: String, role: String },
    #[error(
        "{signer} requested this promotion and cannot waive its gate `{gate}`; ask another {role}"
    )]
    SelfWaiver {
        signer: String,
        role: String,
        gate: String,
    },
    #[error(
        "nonce {nonce} was already used by {signer}; this looks like a replay; sign a fresh decision"
    )]
    ReplayedNonce { signer: String, nonce: String },
    #[error(
        "the decision binds {what} {bound}, but the current one is {current}; review again and sign a fresh decision"
    )]
    StaleBinding {
        what: &'static str,
        bound: String,
        current: String,
    },
    #[error(
        "the decision observed checkpoint of log `{origin}` size {size}, but this log is `{expected_origin}` with {log_size} entries before it"
    )]
    ObservedCheckpointInvalid {
        origin: String,
        size: u64,
        expected_origin: String,
        log_size: u64,
    },
    #[error(
        "the decision observed log size {size} with root {claimed}, but this log's root at size {size} is {actual}; sync, review again and sign a fresh decision"
    )]
    ObservedRootMismatch {
        size: u64,
        claimed: String,
        actual: String,
    },
    #[error("gate `{0}` cannot be waived: the policy gives it no `waivable_by`")]
    NotWaivable(String),
    #[error("a waiver may last at most {max_hours}h under the policy; ask for a shorter one")]
    WaiverTooLong { max_hours: u64 },
    #[error("decision {0} is not in the log")]
    UnknownDecision(Digest),
    #[error("only {owner} (who signed it) or a policy admin may revoke decision {decision}")]
    NotYourDecision { decision: Digest, owner: String },
    #[error("decision {0} was already revoked")]
    AlreadyRevoked(Digest),
    // Refused before anything is signed (the action layer, `client::actions`).
    #[error(
        "{0} is not an operator in the policy in force; ask a policy admin to add your key \
         (`tollgate key show` prints it)"
    )]
    NotAnOperator(String),
    #[error(
        "{signer} holds no role that can {action} in `{environment}`; the policy accepts: {accepted}"
    )]
    NoAcceptableRole {
        signer: String,
        action: &'static str,
        environment: String,
        accepted: String,
    },
    #[error("you hold several roles that qualify ({roles}); choose one (--role)")]
    SeveralRoles { roles: String },
    #[error(
        "nothing of `{service}` is known to run in `{environment}`; there is nothing to roll back"
    )]
    NothingRunning {
        environment: String,
        service: String,
    },
    #[error(
        "no earlier good deployment of `{service}` in `{environment}` is known; name one (--to VERSION or sha256:HEX)"
    )]
    NoKnownGood {
        environment: String,
        service: String,
    },
    #[error("environment `{0}` has no rollback rule in the policy")]
    RollbackNotAllowed(String),
    #[error(
        "rollback says {service} runs {claimed} in {environment}, but it runs {running}; refresh and try again"
    )]
    RollbackFromMismatch {
        environment: String,
        service: String,
        claimed: Digest,
        running: String,
    },
    #[error("{to} never ran successfully in {environment}; roll back only to a known-good release")]
    RollbackTargetUnknown { environment: String, to: Digest },
    #[error(
        "rollback {rollback} has {standing} standing decision(s) at the deployment's time {at} but needs {need} (revoked and expired decisions do not count); ask for fresh rollback decisions before deploying",
        at = when(at)
    )]
    RollbackQuorumNotStanding {
        rollback: Digest,
        standing: u32,
        need: u32,
        at: OffsetDateTime,
    },
    #[error("deployment refers to {0}, which is not an accepted promotion or rollback")]
    UnknownDeploymentTarget(Digest),
    #[error("deployment says {got}/{got_service} but the target is {expected}/{expected_service}")]
    DeploymentMismatch {
        expected: String,
        expected_service: String,
        got: String,
        got_service: String,
    },
    #[error("entry {0} is already in the log")]
    Duplicate(Digest),
}

/// Why an approval no longer counts although it has not expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StaleReason {
    Policy,
    GateResults,
    Snapshot,
}

impl fmt::Display for StaleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Policy => "the policy changed since it was given",
            Self::GateResults => "gate results changed since it was given",
            Self::Snapshot => "the environment snapshot changed since it was given",
        })
    }
}

/// One reason a promotion is not ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Blocker {
    NotDeployedInPrevious {
        environment: String,
        version: String,
    },
    GateMissing {
        gate: String,
    },
    GateFailed {
        gate: String,
        summary: String,
        remediation: Option<String>,
    },
    /// The gate result's evidence, re-judged by this client, gives another
    /// verdict than the one its signer stated.
    GateDisputed {
        gate: String,
        signer: String,
        entry: Digest,
        stated: GateStatus,
        computed: GateStatus,
    },
    /// The store does not hold evidence the gate result cites.
    GateEvidenceMissing {
        gate: String,
        entry: Digest,
        digests: Vec<Digest>,
    },
    /// The gate result could not be re-judged here.
    GateNotRejudged {
        gate: String,
        problem: String,
    },
    ApprovalsMissing {
        role: String,
        have: u32,
        need: u32,
    },
    ApprovalStale {
        signer: String,
        reason: StaleReason,
    },
    ApprovalExpired {
        signer: String,
        at: OffsetDateTime,
    },
    ApprovalRevoked {
        signer: String,
        by: String,
    },
    Rejected {
        by: String,
        rationale: String,
    },
    Frozen {
        environment: String,
        reason: String,
        until: OffsetDateTime,
    },
    Superseded {
        by: Digest,
        version: String,
    },
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotDeployedInPrevious {
                environment,
                version,
            } => {
                write!(
                    f,
                    "{version} has not been deployed to {environment} yet; deploy it there first"
                )
            }
            Self::GateMissing { gate } => {
                write!(
                    f,
                    "gate {gate} has no result yet; CI must submit it (tollgate gate submit)"
                )
            }
            Self::GateFailed {
                gate,
                summary,
                remediation,
            } => {
                write!(f, "gate {gate} failed: {summary}")?;
                match remediation {
                    Some(fix) => write!(f, ". {fix}"),
                    None => Ok(()),
                }
            }
            Self::GateDisputed {
                gate,
                signer,
                entry,
                stated,
                computed,
            } => {
                write!(
                    f,
                    "gate {gate} is disputed: {signer} signed `{stated}` (entry {entry}), but its own evidence, re-judged here, gives `{computed}`; the stated verdict does not count. \
                     Re-run CI so `tollgate gate submit` computes the result, and find out who signs with {signer}'s key \
                     (`tollgate gate recheck PROMOTION --gate {gate}` shows the details)",
                    stated = super::rejudge::status_word(*stated),
                    computed = super::rejudge::status_word(*computed),
                )
            }
            Self::GateEvidenceMissing {
                gate,
                entry,
                digests,
            } => {
                let list: Vec<String> = digests.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "gate {gate} cannot be re-judged: the store holds no evidence {} that its result (entry {entry}) cites; \
                     CI must submit the gate again (`tollgate gate submit` uploads the evidence)",
                    list.join(", ")
                )
            }
            Self::GateNotRejudged { gate, problem } => {
                write!(
                    f,
                    "gate {gate} could not be re-judged here: {problem}; until it is, its result does not count"
                )
            }
            Self::ApprovalsMissing { role, have, need } => {
                let more = need.saturating_sub(*have);
                let noun = if more == 1 { "approval" } else { "approvals" };
                write!(
                    f,
                    "needs {more} more {noun} from role {role} ({have} of {need})"
                )
            }
            Self::ApprovalStale { signer, reason } => {
                write!(
                    f,
                    "approval by {signer} went stale: {reason}; ask {signer} to approve again"
                )
            }
            Self::ApprovalExpired { signer, at } => {
                write!(
                    f,
                    "approval by {signer} expired at {}; ask for a fresh approval",
                    when(at)
                )
            }
            Self::ApprovalRevoked { signer, by } => {
                write!(f, "approval by {signer} was revoked by {by}")
            }
            Self::Rejected { by, rationale } => {
                write!(
                    f,
                    "rejected by {by}: {rationale}; they must revoke the rejection"
                )
            }
            Self::Frozen {
                environment,
                reason,
                until,
            } => {
                write!(
                    f,
                    "{environment} is frozen until {} ({reason})",
                    when(until)
                )
            }
            Self::Superseded { by, version } => {
                write!(
                    f,
                    "superseded: a newer promotion ({version}, {by}) was deployed since; request a new promotion to deploy this one again"
                )
            }
        }
    }
}

impl Blocker {
    /// The command that clears this blocker of `promotion`, when one
    /// command does (`tollgate status` prints it under the blocker); `None`
    /// when it clears by waiting or by acting on another promotion.
    pub fn next_command(&self, promotion: &Digest) -> Option<String> {
        match self {
            Self::GateMissing { gate }
            | Self::GateFailed { gate, .. }
            | Self::GateEvidenceMissing { gate, .. } => Some(format!(
                "tollgate gate submit {promotion} --gate {gate} FILE…"
            )),
            Self::GateDisputed { gate, .. } | Self::GateNotRejudged { gate, .. } => {
                Some(format!("tollgate gate recheck {promotion} --gate {gate}"))
            }
            Self::ApprovalsMissing { role, .. } => Some(format!(
                "tollgate approve {promotion} --role {role} --rationale \"…\""
            )),
            Self::ApprovalStale { .. }
            | Self::ApprovalExpired { .. }
            | Self::ApprovalRevoked { .. } => {
                Some(format!("tollgate approve {promotion} --rationale \"…\""))
            }
            Self::NotDeployedInPrevious { .. }
            | Self::Rejected { .. }
            | Self::Frozen { .. }
            | Self::Superseded { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Blocker;
    use crate::digest::Digest;

    #[test]
    fn a_blocker_names_the_command_that_clears_it_or_none() {
        let id = Digest::of(b"promotion");
        let approval = Blocker::ApprovalsMissing {
            role: "security".into(),
            have: 0,
            need: 1,
        };
        assert_eq!(
            approval.next_command(&id).unwrap(),
            format!("tollgate approve {id} --role security --rationale \"…\"")
        );
        let gate = Blocker::GateMissing {
            gate: "sast".into(),
        };
        assert_eq!(
            gate.next_command(&id).unwrap(),
            format!("tollgate gate submit {id} --gate sast FILE…")
        );
        let frozen = Blocker::Frozen {
            environment: "prod".into(),
            reason: "year-end".into(),
            until: time::OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(frozen.next_command(&id), None);
    }
}
