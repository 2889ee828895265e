//! `tollgate verify ENVELOPE --policy FILE`: who signed a statement, in which
//! role, and what it says — or why it is refused. Offline.

use std::path::PathBuf;

use anyhow::Context as _;

use super::{CommandError, CommandResult};
use crate::envelope::Envelope;
use crate::policy::{self, Policy};
use crate::state::{KeyRing, VerifiedEntry};
use crate::statement::Predicate;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A DSSE envelope (JSON) holding an in-toto statement.
    envelope: PathBuf,
    /// The policy whose operators may have signed it.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &VerifyArgs) -> CommandResult {
    let policy = policy::check_file(&args.policy).map_err(|e| {
        anyhow::anyhow!("{e}\nthe policy is not valid; run `tollgate policy check`")
    })?;
    let bytes = std::fs::read(&args.envelope)
        .with_context(|| format!("cannot read {}", args.envelope.display()))?;
    let envelope = Envelope::from_json(&bytes).with_context(|| {
        format!(
            "{} is not a DSSE envelope tollgate accepts",
            args.envelope.display()
        )
    })?;
    let entry = KeyRing::of(&policy)
        .verify_envelope(0, &envelope)
        .map_err(|e| CommandError::Refused(format!("{}: {e}", args.envelope.display())))?;
    let role = acting_role(&policy, &entry)?;
    let detail = describe(&entry.statement.predicate);
    let subject = entry
        .statement
        .subject
        .iter()
        .map(|s| format!("{} {}", s.name, s.digest))
        .collect::<Vec<_>>();
    if args.json {
        let value = serde_json::json!({
            "verified": true,
            "signer": entry.signer,
            "key": entry.key.to_string(),
            "role": role,
            "predicate_type": entry.statement.kind().predicate_type(),
            "kind": entry.statement.kind().name(),
            "detail": detail,
            "subject": subject,
            "entry_id": entry.id.to_string(),
        });
        println!("{value:#}");
    } else {
        println!(
            "verified:  signed by {} ({})\nrole:      {role}\npredicate: {} ({detail})\nsubject:   {}\nentry id:  {}",
            entry.signer,
            entry.key,
            entry.statement.kind().predicate_type(),
            subject.join(", "),
            entry.id,
        );
    }
    Ok(())
}

/// The role the signer acts in: the claimed one for decisions, otherwise a
/// role the policy lets sign this kind of statement.
fn acting_role(policy: &Policy, entry: &VerifiedEntry) -> Result<String, CommandError> {
    let kind = entry.statement.kind();
    match &entry.statement.predicate {
        Predicate::Decision(d) => {
            if policy.has_role(&entry.signer, &d.role) {
                Ok(d.role.clone())
            } else {
                Err(CommandError::Refused(format!(
                    "{} claims role `{}`, which the policy does not give them",
                    entry.signer, d.role
                )))
            }
        }
        Predicate::Policy(_) => {
            let admins = &policy.admins.role;
            if policy.has_role(&entry.signer, admins) {
                Ok(admins.clone())
            } else {
                Err(CommandError::Refused(format!(
                    "{} is not in role `{admins}`, which signs policy versions",
                    entry.signer
                )))
            }
        }
        _ => {
            let allowed = policy.signers.get(kind.name()).cloned().unwrap_or_default();
            allowed
                .into_iter()
                .find(|role| policy.has_role(&entry.signer, role))
                .ok_or_else(|| {
                    CommandError::Refused(format!(
                        "{} may not sign {} statements under this policy",
                        entry.signer,
                        kind.name()
                    ))
                })
        }
    }
}

fn describe(predicate: &Predicate) -> String {
    match predicate {
        Predicate::PromotionRequest(p) => format!(
            "{} {} {} → {}",
            p.service,
            p.version,
            p.from.as_deref().unwrap_or("(start)"),
            p.to
        ),
        Predicate::GateResult(g) => format!(
            "gate {} {:?} for promotion {}",
            g.gate, g.status, g.promotion
        ),
        Predicate::Snapshot(s) => format!("snapshot of {} in {}", s.service, s.environment),
        Predicate::Decision(d) => format!("{} — {}", d.action.kind_name(), d.rationale),
        Predicate::Deployment(d) => format!("deployment to {} {:?}", d.environment, d.status),
        Predicate::Policy(p) => format!("policy version {}", p.version),
    }
}
