//! What the confirm dialog shows: exactly what will be signed for a draft,
//! or the reason it would be refused.

use super::app::{App, Draft};
use super::data::when;

/// Label → value rows for the confirm dialog, or the refusal's text.
pub fn details(app: &App, draft: &Draft) -> Result<Vec<(String, String)>, String> {
    let mut rows = vec![("signer".to_owned(), app.session.me.clone())];
    match draft {
        Draft::Approve {
            promotion,
            rationale,
        }
        | Draft::Reject {
            promotion,
            rationale,
        } => {
            let kind = if matches!(draft, Draft::Approve { .. }) {
                "approve"
            } else {
                "reject"
            };
            rows.push(("decision".into(), kind.into()));
            rows.push(("promotion".into(), promotion.to_string()));
            if let Some(p) = app
                .data
                .as_ref()
                .and_then(|d| d.state.promotions.get(promotion))
            {
                if p.requested_by == app.session.me {
                    return Err(format!(
                        "{} requested this promotion and cannot {kind} it; ask another approver",
                        app.session.me
                    ));
                }
                rows.push(("artifact".into(), p.artifact.to_string()));
                rows.push((
                    "release".into(),
                    format!(
                        "{} {} → {}",
                        p.request.service, p.request.version, p.request.to
                    ),
                ));
            }
            rows.push(("rationale".into(), rationale.clone()));
        }
        Draft::Revoke {
            decision,
            rationale,
        } => {
            rows.push(("decision".into(), "revoke".into()));
            rows.push(("revokes".into(), decision.to_string()));
            rows.push(("rationale".into(), rationale.clone()));
        }
        Draft::Waive {
            promotion,
            gate,
            ttl,
            rationale,
        } => {
            rows.push(("decision".into(), "waive".into()));
            rows.push(("promotion".into(), promotion.to_string()));
            rows.push(("gate".into(), gate.clone()));
            rows.push(("until".into(), when(app.now + *ttl)));
            rows.push(("rationale".into(), rationale.clone()));
        }
        Draft::Rollback {
            environment,
            service,
            to,
            rationale,
        } => {
            rows.push(("decision".into(), "rollback".into()));
            rows.push(("environment".into(), environment.clone()));
            rows.push(("service".into(), service.clone()));
            if let Some(running) = app
                .data
                .as_ref()
                .and_then(|d| d.state.service(environment, service))
                .and_then(|s| s.running.as_ref())
            {
                rows.push(("from".into(), running.artifact.to_string()));
            }
            if let Some(to) = to {
                rows.push(("to".into(), to.to_string()));
                let version = app
                    .data
                    .as_ref()
                    .and_then(|d| d.state.service(environment, service))
                    .and_then(|s| s.history.iter().rev().find(|r| r.artifact == *to))
                    .map(super::data::version_of);
                if let Some(version) = version {
                    rows.push(("to version".into(), version));
                }
            }
            rows.push(("rationale".into(), rationale.clone()));
        }
    }
    Ok(rows)
}

/// Turns a confirmed draft into a signed statement in the outbox; returns
/// its summary, or why it could not.
pub fn sign_and_queue(
    log: Option<&crate::client::sync::VerifiedLog>,
    signer: &crate::keys::Signer,
    outbox: Option<&crate::client::outbox::Outbox>,
    me: &str,
    draft: &Draft,
) -> Result<String, String> {
    let _ = (log, signer, outbox, me, draft);
    Err("signing from the cockpit needs the action layer (client::actions)".to_owned())
}
