//! The action layer: what an operator means to do ([`Intent`]), judged
//! against the verified log, becomes either the statement to sign
//! ([`Prepared`]) or a typed [`Refusal`] whose words come from
//! `state::reasons`. Pure: no I/O, no clock (the caller passes `now`), no
//! key (signing is the caller's next step, then the outbox).
//!
//! Everything the store would refuse is refused here first, with the same
//! reason: after building the statement, [`prepare`] runs it through
//! [`Folder::check`](crate::state::Folder::check), the very fold the store
//! runs at append. The CLI and the cockpit both call this; neither builds
//! statements itself.

use time::OffsetDateTime;

use super::sync::VerifiedLog;
use crate::digest::Digest;
use crate::envelope::{IN_TOTO_PAYLOAD_TYPE, pae};
use crate::policy::Policy;
use crate::state::{Promotion, Refusal, State, VerifiedEntry, gate_results_digest};
use crate::statement::{
    Binding, Decision, DecisionAction, ObservedCheckpoint, Predicate, PromotionRequest, RootHash,
    SourceRef, Statement, new_nonce,
};

/// How long a decision stands when the environment sets no `approval_ttl`.
pub const DEFAULT_TTL: time::Duration = time::Duration::hours(24);

/// What an operator means to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Ask to move `artifact` of `service` into `to`, from `from` (by
    /// default the environment the policy puts before `to`).
    Request {
        service: String,
        version: String,
        artifact: Digest,
        from: Option<String>,
        to: String,
        source: SourceRef,
        release_notes: Option<Digest>,
    },
    Approve {
        promotion: Digest,
        role: Option<String>,
        rationale: String,
    },
    Reject {
        promotion: Digest,
        role: Option<String>,
        rationale: String,
    },
    /// Withdraw a decision (mine, or any as a policy admin).
    Revoke {
        decision: Digest,
        role: Option<String>,
        rationale: String,
    },
    Waive {
        promotion: Digest,
        gate: String,
        ttl: time::Duration,
        role: Option<String>,
        rationale: String,
    },
    /// Roll `service` in `environment` back to `to`, or to its last known
    /// good release.
    Rollback {
        environment: String,
        service: String,
        to: Option<Digest>,
        role: Option<String>,
        rationale: String,
    },
}

/// A statement ready to sign, and what a person must see before signing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub statement: Statement,
    /// The kind of action: `approve`, `request`, …
    pub action: &'static str,
    /// One line, e.g. `approve payments 1.4.2 → prod as release-manager`.
    pub summary: String,
    /// Label → value rows: exactly what will be signed.
    pub details: Vec<(String, String)>,
    /// The promotion this is about, when there is one (for a request: the
    /// promotion it will create is its own entry id, known after signing).
    pub promotion_id: Option<Digest>,
}

/// Judges `intent` by `me` against the verified log at `now`.
pub fn prepare(
    log: &VerifiedLog,
    me: &str,
    intent: &Intent,
    now: OffsetDateTime,
) -> Result<Prepared, Refusal> {
    let policy = log.policy();
    let operator = policy
        .operators
        .get(me)
        .ok_or_else(|| Refusal::NotAnOperator(me.to_owned()))?;
    let state = log.state_at(now);
    let prepared = match intent {
        Intent::Request {
            service,
            version,
            artifact,
            from,
            to,
            source,
            release_notes,
        } => request(
            policy,
            me,
            RequestParts {
                service,
                version,
                artifact: *artifact,
                from: from.as_deref(),
                to,
                source,
                release_notes: *release_notes,
            },
            now,
        )?,
        Intent::Approve {
            promotion,
            role,
            rationale,
        } => approve_or_reject(
            log,
            &state,
            me,
            *promotion,
            role.as_deref(),
            rationale,
            true,
            now,
        )?,
        Intent::Reject {
            promotion,
            role,
            rationale,
        } => approve_or_reject(
            log,
            &state,
            me,
            *promotion,
            role.as_deref(),
            rationale,
            false,
            now,
        )?,
        Intent::Revoke {
            decision,
            role,
            rationale,
        } => revoke(log, &state, me, *decision, role.as_deref(), rationale, now)?,
        Intent::Waive {
            promotion,
            gate,
            ttl,
            role,
            rationale,
        } => waive(
            log,
            &state,
            me,
            *promotion,
            gate,
            *ttl,
            role.as_deref(),
            rationale,
            now,
        )?,
        Intent::Rollback {
            environment,
            service,
            to,
            role,
            rationale,
        } => rollback(
            log,
            &state,
            me,
            environment,
            service,
            *to,
            role.as_deref(),
            rationale,
            now,
        )?,
    };
    // The store's own judgement, locally: the same fold, the same reason.
    let payload = prepared.statement.to_payload();
    let entry = VerifiedEntry {
        index: log.checkpoint.checkpoint().size,
        id: Digest::of(&pae(IN_TOTO_PAYLOAD_TYPE, &payload)),
        signer: me.to_owned(),
        key: std::sync::Arc::new(operator.key),
        statement: prepared.statement.clone(),
    };
    log.folder.check(&entry)?;
    Ok(prepared)
}

#[derive(Clone, Copy)]
struct RequestParts<'a> {
    service: &'a str,
    version: &'a str,
    artifact: Digest,
    from: Option<&'a str>,
    to: &'a str,
    source: &'a SourceRef,
    release_notes: Option<Digest>,
}

fn request(
    policy: &Policy,
    me: &str,
    parts: RequestParts<'_>,
    now: OffsetDateTime,
) -> Result<Prepared, Refusal> {
    let target = policy
        .environment(parts.to)
        .ok_or_else(|| Refusal::UnknownEnvironment(parts.to.to_owned()))?;
    let from = parts
        .from
        .map(ToOwned::to_owned)
        .or_else(|| target.after.clone());
    let statement = Statement::about(
        parts.service,
        parts.artifact,
        Predicate::PromotionRequest(PromotionRequest {
            service: parts.service.to_owned(),
            version: parts.version.to_owned(),
            from: from.clone(),
            to: parts.to.to_owned(),
            source: parts.source.clone(),
            release_notes: parts.release_notes,
            requested_at: now,
            nonce: new_nonce(),
        }),
    );
    let route = format!(
        "{} → {}",
        from.as_deref().unwrap_or("(first environment)"),
        parts.to
    );
    Ok(Prepared {
        statement,
        action: "request",
        summary: format!(
            "request {} {} {route} as {me}",
            parts.service, parts.version
        ),
        details: vec![
            row("service", &parts.service),
            row("version", &parts.version),
            row("artifact", &parts.artifact),
            row("route", &route),
            row(
                "source",
                &format!("{}@{}", parts.source.repo, parts.source.commit),
            ),
            row(
                "release notes",
                &parts
                    .release_notes
                    .map_or_else(|| "none".to_owned(), |d| d.to_string()),
            ),
        ],
        promotion_id: None,
    })
}

fn promotion<'s>(state: &'s State, id: &Digest) -> Result<&'s Promotion, Refusal> {
    state
        .promotions
        .get(id)
        .ok_or(Refusal::UnknownPromotion(*id))
}

fn env_ttl(policy: &Policy, environment: &str) -> time::Duration {
    policy
        .environment(environment)
        .and_then(|e| e.approval_ttl)
        .and_then(|d| time::Duration::try_from(d).ok())
        .unwrap_or(DEFAULT_TTL)
}

/// The role to act in: the given one (which must be mine and accepted), or
/// the only one of mine that `accepted` lists.
fn pick_role(
    policy: &Policy,
    me: &str,
    given: Option<&str>,
    accepted: &[String],
    action: &'static str,
    environment: &str,
) -> Result<String, Refusal> {
    if let Some(role) = given {
        if !policy.has_role(me, role) {
            return Err(Refusal::RoleNotHeld {
                signer: me.to_owned(),
                role: role.to_owned(),
            });
        }
        if !accepted.iter().any(|a| a == role) {
            return Err(Refusal::RoleNotAccepted {
                role: role.to_owned(),
                action,
                environment: environment.to_owned(),
                accepted: accepted.join(", "),
            });
        }
        return Ok(role.to_owned());
    }
    let mine: Vec<&str> = policy
        .roles_of(me)
        .into_iter()
        .filter(|r| accepted.iter().any(|a| a == r))
        .collect();
    match mine.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(Refusal::NoAcceptableRole {
            signer: me.to_owned(),
            action,
            environment: environment.to_owned(),
            accepted: accepted.join(", "),
        }),
        several => Err(Refusal::SeveralRoles {
            roles: several.join(", "),
        }),
    }
}

/// A decision bound to what the verified log shows now.
#[derive(Clone, Copy)]
struct Bound {
    ttl: time::Duration,
    gate_results: Digest,
    snapshot: Option<Digest>,
}

fn decision(
    log: &VerifiedLog,
    action: DecisionAction,
    role: String,
    rationale: &str,
    bound: Bound,
    now: OffsetDateTime,
) -> Decision {
    let checkpoint = log.checkpoint.checkpoint();
    Decision {
        action,
        role,
        rationale: rationale.to_owned(),
        issued_at: now,
        expires_at: now + bound.ttl,
        nonce: new_nonce(),
        bound: Binding {
            policy: log.policy().digest(),
            gate_results: bound.gate_results,
            snapshot: bound.snapshot,
        },
        observed: ObservedCheckpoint {
            origin: checkpoint.origin.clone(),
            size: checkpoint.size,
            root: RootHash(checkpoint.root),
        },
    }
}

fn row(label: &str, value: &dyn std::fmt::Display) -> (String, String) {
    (label.to_owned(), value.to_string())
}

/// The rows every decision shows: what is signed, bound and observed.
fn decision_details(d: &Decision, subject: &str, artifact: Digest) -> Vec<(String, String)> {
    vec![
        row("action", &d.action.kind_name()),
        row("subject", &subject),
        row("artifact", &artifact),
        row("role", &d.role),
        row("rationale", &d.rationale),
        row("issued", &when(d.issued_at)),
        row("expires", &when(d.expires_at)),
        row("policy", &d.bound.policy),
        row("gate results", &d.bound.gate_results),
        row(
            "snapshot",
            &d.bound
                .snapshot
                .map_or_else(|| "none".to_owned(), |s| s.to_string()),
        ),
        row(
            "observed",
            &format!("{} size {}", d.observed.origin, d.observed.size),
        ),
    ]
}

fn when(at: OffsetDateTime) -> String {
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

fn decided(
    d: Decision,
    subject: &str,
    label: &str,
    artifact: Digest,
    promotion_id: Option<Digest>,
) -> Prepared {
    let action = d.action.kind_name();
    let summary = format!("{action} {subject} {label} as {}", d.role);
    let details = decision_details(&d, &format!("{subject} {label}"), artifact);
    Prepared {
        statement: Statement::about(subject, artifact, Predicate::Decision(d)),
        action,
        summary,
        details,
        promotion_id,
    }
}

#[allow(clippy::too_many_arguments)]
fn approve_or_reject(
    log: &VerifiedLog,
    state: &State,
    me: &str,
    id: Digest,
    role: Option<&str>,
    rationale: &str,
    approve: bool,
    now: OffsetDateTime,
) -> Result<Prepared, Refusal> {
    let policy = log.policy();
    let p = promotion(state, &id)?;
    let env = policy
        .environment(&p.request.to)
        .ok_or_else(|| Refusal::UnknownEnvironment(p.request.to.clone()))?;
    let accepted: Vec<String> = env.approvals.iter().map(|a| a.role.clone()).collect();
    let action = if approve { "approve" } else { "reject" };
    let role = pick_role(policy, me, role, &accepted, action, &env.name)?;
    if approve && p.requested_by == me {
        return Err(Refusal::SelfApproval {
            signer: me.to_owned(),
            role,
        });
    }
    let what = if approve {
        DecisionAction::Approve { promotion: id }
    } else {
        DecisionAction::Reject { promotion: id }
    };
    let d = decision(
        log,
        what,
        role,
        rationale,
        Bound {
            ttl: env_ttl(policy, &env.name),
            gate_results: gate_results_digest(p),
            snapshot: log.folder.current_snapshot(p),
        },
        now,
    );
    let label = format!("{} → {}", p.request.version, p.request.to);
    Ok(decided(d, &p.request.service, &label, p.artifact, Some(id)))
}

fn revoke(
    log: &VerifiedLog,
    state: &State,
    me: &str,
    target: Digest,
    role: Option<&str>,
    rationale: &str,
    now: OffsetDateTime,
) -> Result<Prepared, Refusal> {
    let policy = log.policy();
    let record = state
        .decisions
        .get(&target)
        .ok_or(Refusal::UnknownDecision(target))?;
    let admin = policy.has_role(me, &policy.admins.role);
    if record.signer != me && !admin {
        return Err(Refusal::NotYourDecision {
            decision: target,
            owner: record.signer.clone(),
        });
    }
    let role = match role {
        Some(role) => role.to_owned(),
        None if record.signer == me && policy.has_role(me, &record.decision.role) => {
            record.decision.role.clone()
        }
        None => policy.admins.role.clone(),
    };
    if !policy.has_role(me, &role) {
        return Err(Refusal::RoleNotHeld {
            signer: me.to_owned(),
            role,
        });
    }
    let d = decision(
        log,
        DecisionAction::Revoke { decision: target },
        role,
        rationale,
        Bound {
            ttl: DEFAULT_TTL,
            gate_results: Digest::of(b""),
            snapshot: None,
        },
        now,
    );
    let promotion_id = record.decision.action.promotion().copied();
    Ok(decided(
        d,
        "decision",
        &target.short(),
        record.artifact,
        promotion_id,
    ))
}

#[allow(clippy::too_many_arguments)]
fn waive(
    log: &VerifiedLog,
    state: &State,
    me: &str,
    id: Digest,
    gate: &str,
    ttl: time::Duration,
    role: Option<&str>,
    rationale: &str,
    now: OffsetDateTime,
) -> Result<Prepared, Refusal> {
    let policy = log.policy();
    let p = promotion(state, &id)?;
    // In the fold's order, so a misspelled gate gets the fold's reason.
    if !p.gates.contains_key(gate) {
        return Err(Refusal::GateNotRequired {
            gate: gate.to_owned(),
            environment: p.request.to.clone(),
        });
    }
    let rule = policy
        .gates
        .get(gate)
        .and_then(|g| g.waivable_by.as_ref())
        .ok_or_else(|| Refusal::NotWaivable(gate.to_owned()))?;
    let role = pick_role(
        policy,
        me,
        role,
        std::slice::from_ref(&rule.role),
        "waive",
        &p.request.to,
    )?;
    let d = decision(
        log,
        DecisionAction::Waive {
            promotion: id,
            gate: gate.to_owned(),
            until: now + ttl,
        },
        role,
        rationale,
        Bound {
            ttl,
            gate_results: gate_results_digest(p),
            snapshot: log.folder.current_snapshot(p),
        },
        now,
    );
    let label = format!("{} → {} (gate {gate})", p.request.version, p.request.to);
    Ok(decided(d, &p.request.service, &label, p.artifact, Some(id)))
}

#[allow(clippy::too_many_arguments)]
fn rollback(
    log: &VerifiedLog,
    state: &State,
    me: &str,
    environment: &str,
    service: &str,
    to: Option<Digest>,
    role: Option<&str>,
    rationale: &str,
    now: OffsetDateTime,
) -> Result<Prepared, Refusal> {
    let policy = log.policy();
    let env = policy
        .environment(environment)
        .ok_or_else(|| Refusal::UnknownEnvironment(environment.to_owned()))?;
    let rule = env
        .rollback
        .as_ref()
        .ok_or_else(|| Refusal::RollbackNotAllowed(environment.to_owned()))?;
    let role = pick_role(policy, me, role, &rule.roles, "roll back", &env.name)?;
    let running = state.service(environment, service);
    let from = running
        .and_then(|s| s.running.as_ref())
        .map(|r| r.artifact)
        .ok_or_else(|| Refusal::NothingRunning {
            environment: environment.to_owned(),
            service: service.to_owned(),
        })?;
    let to = match to {
        Some(to) => to,
        None => running
            .and_then(|s| s.last_known_good())
            .map(|r| r.artifact)
            .ok_or_else(|| Refusal::NoKnownGood {
                environment: environment.to_owned(),
                service: service.to_owned(),
            })?,
    };
    let version = running
        .and_then(|s| s.history.iter().rev().find(|r| r.artifact == to))
        .and_then(|r| r.version.clone())
        .unwrap_or_else(|| to.short());
    let d = decision(
        log,
        DecisionAction::Rollback {
            environment: environment.to_owned(),
            service: service.to_owned(),
            from,
            to,
        },
        role,
        rationale,
        Bound {
            ttl: env_ttl(policy, environment),
            gate_results: Digest::of(b""),
            snapshot: running.and_then(|s| s.snapshot),
        },
        now,
    );
    let label = format!("in {environment} back to {version}");
    Ok(decided(d, service, &label, to, None))
}

/// The gate-result CI signs for `promotion` (whose id is `id`): the
/// verdict the evaluator reached on the evidence, bound to the evidence by
/// digest and to the evaluator's version (none for a manual gate, whose
/// status a person states), so any client can re-judge it.
pub fn gate_result(
    id: Digest,
    promotion: &Promotion,
    gate: &str,
    verdict: crate::evidence::Verdict,
    evidence: Vec<crate::statement::EvidenceRef>,
    manual: bool,
    now: OffsetDateTime,
) -> Statement {
    Statement::about(
        &promotion.request.service,
        promotion.artifact,
        Predicate::GateResult(crate::statement::GateResult {
            promotion: id,
            gate: gate.to_owned(),
            status: verdict.status,
            summary: verdict.summary,
            measurements: verdict.measurements,
            evidence,
            remediation: verdict.remediation,
            produced_at: now,
            evaluator: (!manual).then(|| crate::evidence::EVALUATOR_VERSION.to_owned()),
        }),
    )
}

/// How an evidence file is referenced from a gate-result: by the gate's
/// name, its detected media type and the digest of its bytes.
pub fn evidence_ref(
    gate: &str,
    input: &crate::evidence::InputSummary,
) -> crate::statement::EvidenceRef {
    crate::statement::EvidenceRef {
        kind: gate.to_owned(),
        media_type: input
            .format
            .map_or("application/octet-stream", |f| f.media_type())
            .to_owned(),
        digest: input.digest,
    }
}
