//! The command line's own words, kept together so they read as one voice.
//! (Domain reasons come from the library's error types.)

use crate::keys::Signer;
use crate::keys::vkey::NoteVerifierKey;

pub fn refused(reason: &str) -> String {
    format!("refused: {reason}")
}

pub fn error(error: &anyhow::Error) -> String {
    format!("error: {error:#}")
}

pub fn key_written(path: &std::path::Path, signer: &Signer) -> String {
    format!(
        "Wrote a new private key to {path} (mode 0600). Keep it secret.\n\
         name:    {name}\n\
         public:  {public}\n\
         key id:  {id}\n\n\
         Add it to the policy so others can trust your signature:\n\n\
         [operators.{name}]\n\
         key = \"{public}\"",
        path = path.display(),
        name = signer.name(),
        public = signer.public(),
        id = signer.public().key_id(),
    )
}

pub fn key_shown(
    path: &std::path::Path,
    signer: &Signer,
    vkey: Option<&NoteVerifierKey>,
) -> String {
    let mut text = format!(
        "file:    {path}\nname:    {name}\npublic:  {public}\nkey id:  {id}",
        path = path.display(),
        name = signer.name(),
        public = signer.public(),
        id = signer.public().key_id(),
    );
    if let Some(vkey) = vkey {
        text.push_str("\nvkey:    ");
        text.push_str(&vkey.to_string());
    }
    text
}

pub const KEY_MISSING_FIX: &str =
    "no key there yet; create one with `tollgate key generate --name YOUR-NAME`";

pub fn policy_valid(file: &str, policy: &crate::policy::Policy) -> String {
    format!(
        "{file}: valid\nversion:      {version}\norigin:       {origin}\ndigest:       {digest}\n\
         operators:    {operators}\nenvironments: {environments}",
        version = policy.version,
        origin = policy.origin,
        digest = policy.digest(),
        operators = policy.operators.len(),
        environments = policy.environment_order().join(" → "),
    )
}

pub fn policy_invalid(count: usize) -> String {
    let noun = if count == 1 { "problem" } else { "problems" };
    format!("{count} {noun} found; fix them and run `tollgate policy check` again")
}

pub const SHUTTING_DOWN: &str = "shutting down: no new requests; finishing the ones in flight";
pub const STOPPED: &str = "stopped; every acknowledged entry is committed";

pub fn serving(
    origin: &str,
    addr: std::net::SocketAddr,
    database: &str,
    fingerprint: &crate::digest::Digest,
    generated: bool,
    vkey: &NoteVerifierKey,
    policy_digest: &crate::digest::Digest,
) -> String {
    let cert = if generated {
        "self-signed, generated now"
    } else {
        "loaded"
    };
    format!(
        "tollgate store for {origin}\n\
         listening:   https://{addr}\n\
         database:    {database}\n\
         certificate: {cert}, {fingerprint}\n\
         log key:     {vkey}\n\n\
         Enrol a client (it shows these values and asks before writing them):\n\n\
         tollgate join https://{addr} --pin {fingerprint}\n\n\
         or paste into its config.toml:\n\n\
         store = \"https://{addr}\"\n\
         pin = \"{fingerprint}\"\n\
         log_vkey = \"{vkey}\"\n\
         policy_digest = \"{policy_digest}\"\n"
    )
}

// --- store commands -------------------------------------------------------

pub fn alarm(summary: &str, evidence: &std::path::Path) -> String {
    format!(
        "ALARM: {summary}\nevidence: {}\nDo not proceed: keep the evidence file and tell whoever runs the store and your security team.",
        evidence.display()
    )
}

pub fn not_an_operator(public: &str) -> String {
    format!(
        "your key {public} is not an operator in the accepted policy; ask an admin to add it (`tollgate key show` prints it)"
    )
}

pub fn bad_receipt(problem: &str) -> String {
    format!(
        "the store's receipt does not prove the entry is in the log: {problem}; run `tollgate log verify`"
    )
}

pub fn bad_checkpoint(problem: &str) -> String {
    format!(
        "the store's checkpoint does not verify under the configured log_vkey: {problem}; check `log_vkey` in the client configuration"
    )
}

pub fn index_out_of_range(index: u64, size: u64) -> String {
    format!("INDEX {index} is not in the log (it has {size} entries)")
}

pub fn no_promotions() -> String {
    "no promotions in the log yet".to_owned()
}

pub fn not_deployable(status: &str) -> String {
    format!("the promotion may not be deployed now: it is {status} (see the blockers above)")
}

pub fn unapproved_text(d: &crate::state::UnapprovedDeployment) -> String {
    format!(
        "audit finding: unapproved deployment {id} (entry {index}) of promotion {promotion} to {env}/{service}, reported by {signer}; it was not ready then: {why}",
        id = d.deployment,
        index = d.index,
        promotion = d.promotion,
        env = d.environment,
        service = d.service,
        signer = d.signer,
        why = d.reasons.join("; "),
    )
}

pub fn disputed_text(d: &crate::state::DisputedGate) -> String {
    format!(
        "audit finding: disputed gate result {id} (entry {index}): {signer} signed `{stated}` for gate {gate} of promotion {promotion}, but its own evidence gives `{computed}` under {evaluator}: {summary}",
        id = d.entry,
        index = d.index,
        signer = d.signer,
        stated = crate::state::status_word(d.stated),
        gate = d.gate,
        promotion = d.promotion,
        computed = crate::state::status_word(d.computed),
        evaluator = d.evaluator,
        summary = d.summary,
    )
}

pub fn findings_json(state: &crate::state::State) -> serde_json::Value {
    let disputed = state.disputed.iter().map(|d| {
        serde_json::json!({
            "kind": "disputed gate result",
            "entry": d.entry.to_string(),
            "index": d.index,
            "promotion": d.promotion.to_string(),
            "gate": d.gate,
            "signer": d.signer,
            "stated": crate::state::status_word(d.stated),
            "computed": crate::state::status_word(d.computed),
            "evaluator": d.evaluator,
            "summary": d.summary,
        })
    });
    state
        .unapproved
        .iter()
        .map(|d| {
            serde_json::json!({
                "kind": "unapproved deployment",
                "deployment": d.deployment.to_string(),
                "index": d.index,
                "promotion": d.promotion.to_string(),
                "environment": d.environment,
                "service": d.service,
                "signer": d.signer,
                "at": d.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "reasons": d.reasons,
            })
        })
        .chain(disputed)
        .collect()
}

pub fn submitted(
    what: &str,
    promotion_id: Option<&crate::digest::Digest>,
    entry_id: &crate::digest::Digest,
    receipt: &crate::client::http::Receipt,
) -> String {
    let state = if receipt.created {
        "recorded"
    } else {
        "already recorded"
    };
    let promotion = promotion_id.map_or_else(String::new, |p| format!("promotion id: {p}\n"));
    format!(
        "{what} {state}\n{promotion}entry id:     {entry_id}\nindex:        {}\n(inclusion proof verified against the signed checkpoint)",
        receipt.index
    )
}

/// What is about to be signed, row by row.
pub fn signing(prepared: &crate::client::actions::Prepared) -> String {
    use std::fmt::Write as _;
    let mut out = format!("signing: {}\n", prepared.summary);
    for (label, value) in &prepared.details {
        let _ = writeln!(out, "  {label:<13} {value}");
    }
    out.trim_end().to_owned()
}

pub fn queued(what: &str, error: &str) -> String {
    format!(
        "the store cannot be reached, so the {what} is queued in the outbox (signed, on disk)\n  \
         {error}\n  it is delivered exactly once by `tollgate sync` or by the next command that reaches the store; \
         `tollgate outbox` lists it"
    )
}

/// A view of the log taken from the verified local cache.
pub fn as_of(log: &crate::client::sync::VerifiedLog) -> Option<String> {
    let at = log.offline?;
    Some(format!(
        "as of checkpoint {size}, verified at {at} (offline: from the verified local cache)",
        size = log.checkpoint.checkpoint().size,
        at = time(at),
    ))
}

/// The store did not answer; the cache stands in.
pub fn working_offline(error: &str, log: &crate::client::sync::VerifiedLog) -> String {
    format!(
        "the store cannot be reached ({error});\n  showing the log {}",
        as_of(log).unwrap_or_default()
    )
}

pub fn cache_note(note: &str) -> String {
    format!("note: {note}")
}

pub fn not_delivered(what: &str) -> String {
    format!("the {what} was queued but not delivered; `tollgate outbox` shows its state")
}

pub fn bad_id(flag: &str, text: &str) -> String {
    format!(
        "{flag} {text:?} is not an id\n  fix: give sha256:<64 hex>, or a unique prefix of 8 or more hex digits (`tollgate status` lists ids)"
    )
}

pub fn unknown_id(flag: &str, text: &str) -> String {
    format!("{flag} {text:?} matches nothing in the verified log; `tollgate status` lists ids")
}

pub fn ambiguous_id(flag: &str, text: &str, n: usize) -> String {
    format!("{flag} {text:?} matches {n} ids\n  fix: give more hex digits")
}

pub fn no_such_version(environment: &str, service: &str, version: &str) -> String {
    format!(
        "version {version:?} of `{service}` never ran in `{environment}`; roll back to a version that ran there (`tollgate status --env {environment}` shows them) or give sha256:HEX"
    )
}

pub fn promotion_text(p: &crate::state::Promotion) -> String {
    use std::fmt::Write as _;
    let mut text = format!(
        "{id}  {service} {version}  {from} → {to}  [{status}]",
        id = p.id,
        service = p.request.service,
        version = p.request.version,
        from = p.request.from.as_deref().unwrap_or("-"),
        to = p.request.to,
        status = p.status.label(),
    );
    let _ = write!(
        text,
        "\n  requested by {} at {}",
        p.requested_by,
        time(p.request.requested_at)
    );
    for gate in p.gates.values() {
        let verdict = match &gate.verdict {
            crate::state::GateVerdict::Passed => "✔ passed".to_owned(),
            crate::state::GateVerdict::Waived { until } => {
                format!("! waived until {}", time(*until))
            }
            crate::state::GateVerdict::Failed => "✖ failed".to_owned(),
            crate::state::GateVerdict::Missing => "… no result".to_owned(),
        };
        let _ = write!(text, "\n  gate {}: {verdict}", gate.name);
        if let Some(latest) = &gate.latest {
            let _ = write!(text, " — {} (by {})", latest.result.summary, latest.signer);
        }
    }
    for a in &p.approvals {
        let standing = match &a.standing {
            crate::state::Standing::Counted => "counts".to_owned(),
            crate::state::Standing::Expired { at } => format!("expired {}", time(*at)),
            crate::state::Standing::Stale(why) => format!("stale: {why}"),
            crate::state::Standing::Revoked { by } => format!("revoked by {by}"),
            crate::state::Standing::NotNeeded => "not needed".to_owned(),
        };
        let _ = write!(
            text,
            "\n  approval: {} as {} at {}, expires {} [{standing}] — \"{}\"",
            a.decision.signer,
            a.decision.role,
            time(a.issued_at),
            time(a.expires_at),
            a.decision.rationale
        );
    }
    // What to run next, while running something can still make it ready.
    let open = matches!(
        p.status,
        crate::state::PromotionStatus::Waiting | crate::state::PromotionStatus::DeployFailed
    );
    for blocker in &p.blockers {
        let _ = write!(text, "\n  ✖ {blocker}");
        if let Some(command) = blocker.next_command(&p.id).filter(|_| open) {
            let _ = write!(text, "\n    next: {command}");
        }
    }
    text
}

/// What runs in each environment now, one line per service that `shows`
/// (environment, service) (after a rollback, the version rolled back to).
pub fn environments_text(
    state: &crate::state::State,
    policy: &crate::policy::Policy,
    shows: impl Fn(&str, &str) -> bool,
) -> String {
    use std::fmt::Write as _;
    let mut text = String::from("environments:");
    for env in policy.environment_order() {
        let Some(services) = state.environments.get(env) else {
            continue;
        };
        for (service, s) in services {
            let Some(running) = s.running.as_ref().filter(|_| shows(env, service)) else {
                continue;
            };
            let via = match running.via {
                crate::state::Via::Promotion(id) => format!("promotion {}", id.short()),
                crate::state::Via::Rollback(id) => format!("rollback {}", id.short()),
            };
            // A rollback names no version; the run it went back to does.
            let version = running
                .version
                .as_deref()
                .or_else(|| {
                    s.history
                        .iter()
                        .rev()
                        .find(|r| r.artifact == running.artifact && r.version.is_some())
                        .and_then(|r| r.version.as_deref())
                })
                .unwrap_or("?");
            let _ = write!(
                text,
                "\n  {env}/{service}: {version} ({}) since {} via {via}{}",
                running.artifact.short(),
                time(running.at),
                if running.approved {
                    ""
                } else {
                    " — UNAPPROVED"
                }
            );
        }
    }
    text
}

pub fn promotion_json(p: &crate::state::Promotion) -> serde_json::Value {
    serde_json::json!({
        "id": p.id.to_string(),
        "service": p.request.service,
        "version": p.request.version,
        "from": p.request.from,
        "to": p.request.to,
        "artifact": p.artifact.to_string(),
        "requested_by": p.requested_by,
        "status": p.status.label(),
        "ready": p.status == crate::state::PromotionStatus::Ready,
        "blockers": p.blockers.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "approvals": p.approvals.iter().map(|a| serde_json::json!({
            "id": a.decision.id.to_string(), "signer": a.decision.signer, "role": a.decision.role,
        })).collect::<Vec<_>>(),
    })
}

pub fn log_verified(log: &crate::client::sync::VerifiedLog, findings: usize) -> String {
    let c = log.checkpoint.checkpoint();
    format!(
        "log verified: {origin}\nsize:    {size}\nroot:    {root}\ncheck:   {accepted:?} (against the checkpoint saved last time)\npolicy:  version {version} ({digest})\naudit findings: {findings}",
        origin = c.origin,
        size = c.size,
        root = crate::encoding::encode(&c.root),
        accepted = log.accepted,
        version = log.policy().version,
        digest = log.policy().digest(),
    )
}

pub fn init_done(
    name: &str,
    key: &std::path::Path,
    policy: &std::path::Path,
    config: &std::path::Path,
) -> String {
    format!(
        "Created:\n  key:     {key}\n  policy:  {policy} (a starter policy; you are operator `{name}`)\n  config:  {config}\n\n\
         Next:\n  \
         1. Edit the policy before the store first starts (it pins it): each person's and CI's\n     \
         key (each runs `tollgate key generate --name NAME`, which prints its [operators.NAME]\n     \
         block), roles, environments, gates. Check it with `tollgate policy check {policy}`.\n  \
         2. Run a store: `tollgate serve --self-signed` starts with that policy and prints\n     \
         its URL and certificate pin. Or ask whoever runs your team's store for them.\n  \
         3. Enrol: `tollgate join https://127.0.0.1:8443 --pin sha256:…`.\n  \
         4. `tollgate status` lists promotions; `tollgate log verify` checks the log.",
        key = key.display(),
        policy = policy.display(),
        config = config.display(),
    )
}

pub fn signed_policy_differs(signed: &std::path::Path, file: &std::path::Path) -> String {
    format!(
        "{} signs a different document than {}; remove it to start a new round of signatures",
        signed.display(),
        file.display()
    )
}

pub fn policy_already_signed(
    signed: &std::path::Path,
    key: &std::path::Path,
    keyid: &str,
) -> String {
    format!(
        "{} already carries a signature by the key in {} (keyid {keyid}); each admin signs once — pass another admin's key with --key, or submit the file when enough admins have signed",
        signed.display(),
        key.display()
    )
}

pub fn policy_signed(
    out: &std::path::Path,
    policy: &crate::policy::Policy,
    count: usize,
) -> String {
    format!(
        "signed policy version {version} ({digest})\nwrote {out} with {count} signature(s)\nnext: the other admins run `tollgate policy sign` on the same file; then `tollgate policy submit {out}`",
        version = policy.version,
        digest = policy.digest(),
        out = out.display(),
    )
}

pub fn unreachable(error: &str) -> String {
    format!("unreachable: {error}")
}

/// A time as users read it: RFC 3339 in UTC, whole seconds.
pub fn time(at: time::OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    // RFC 3339 in UTC and whole seconds is this fixed shape for years
    // 0000–9999; written directly, it costs a fraction of the general
    // formatter's time (a large `status` prints hundreds of thousands).
    if (0..=9999).contains(&at.year()) {
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        );
    }
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

pub fn outbox_listing(dir: &std::path::Path, items: &[crate::client::outbox::Item]) -> String {
    use crate::client::outbox::ItemState;
    use std::fmt::Write as _;
    if items.is_empty() {
        return format!("the outbox is empty ({})", dir.display());
    }
    let mut out = format!("outbox {}\n", dir.display());
    for item in items {
        let _ = write!(
            out,
            "{:>4}  {:<8} {}  {}",
            item.seq,
            item.state_name(),
            item.entry_id.short(),
            item.summary
        );
        match &item.state {
            ItemState::Queued {
                last_error: Some(e),
            } => {
                let _ = write!(out, "\n        last attempt: {e}");
            }
            ItemState::Queued { last_error: None } => {}
            ItemState::Sent { receipt, at } => {
                let _ = write!(out, "  (index {}, {})", receipt.index, time(*at));
            }
            ItemState::Refused {
                message,
                remediation,
                ..
            } => {
                let _ = write!(
                    out,
                    "\n        refused: {message}\n        fix: {remediation}"
                );
            }
        }
        out.push('\n');
    }
    out.push_str("`tollgate sync` delivers what is queued.");
    out
}

pub fn sync_done(
    sent: &[crate::client::outbox::Item],
    refused: &[crate::client::outbox::Item],
    size: u64,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for item in sent {
        if let crate::client::outbox::ItemState::Sent { receipt, .. } = &item.state {
            let _ = writeln!(out, "delivered: {} (index {})", item.summary, receipt.index);
        }
    }
    for item in refused {
        let _ = writeln!(out, "refused by the store: {}", item.summary);
    }
    let _ = write!(out, "log verified: {size} entries");
    out
}

pub fn outbox_refused(n: usize) -> String {
    format!("the store refused {n} queued item(s); `tollgate outbox` shows why and what to do")
}

#[allow(clippy::too_many_arguments)]
pub fn join_summary(
    url: &str,
    pin: &str,
    checkpoint: &crate::ledger::SignedCheckpoint,
    log_vkey: &NoteVerifierKey,
    genesis: &crate::policy::Policy,
    current: &crate::policy::Policy,
    me: Option<&(String, String)>,
    config: &std::path::Path,
) -> String {
    let c = checkpoint.checkpoint();
    let me = match me {
        Some((name, roles)) if roles.is_empty() => format!("{name} (no roles yet)"),
        Some((name, roles)) => format!("{name} ({roles})"),
        None => "not in the current policy".to_owned(),
    };
    format!(
        "store:            {url}\n\
         certificate pin:  {pin}\n\
         log:              {origin}, {size} entries (checkpoint verified)\n\
         log key:          {log_vkey}\n\
         genesis policy:   version {gv}, {gd}\n\
         current policy:   version {cv}, {cd}\n\
         you are:          {me}\n\n\
         Compare the genesis policy digest with the one the store's operator\n\
         gives you: it is pinned, and every later policy must chain from it.\n\
         configuration:    {config}",
        origin = c.origin,
        size = c.size,
        gv = genesis.version,
        gd = genesis.digest(),
        cv = current.version,
        cd = current.digest(),
        config = config.display(),
    )
}

pub fn joined(config: &std::path::Path) -> String {
    format!(
        "wrote {}\nnext: `tollgate status` lists promotions; `tollgate log verify` checks the whole log.",
        config.display()
    )
}

pub fn not_in_policy(public: &str) -> String {
    format!(
        "the store does not know your key: it is not in the store's policy yet\n  \
         fix: send this line to a policy admin, who adds it under [operators.YOUR-NAME] and \
         rotates the policy, then run this command again:\n  key = \"{public}\""
    )
}

/// A time in the local zone when asked and known, else UTC; whole seconds.
pub fn time_in(at: time::OffsetDateTime, local: bool) -> String {
    if local && let Ok(offset) = time::UtcOffset::current_local_offset() {
        let at = at.to_offset(offset).replace_nanosecond(0).unwrap_or(at);
        if let Ok(text) = at.format(&time::format_description::well_known::Rfc3339) {
            return text;
        }
    }
    time(at)
}

pub fn history<'e>(
    entries: impl Iterator<Item = &'e crate::state::VerifiedEntry>,
    size: u64,
    local: bool,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut shown = 0usize;
    for e in entries {
        let at = e
            .statement
            .signed_at()
            .map_or_else(|| "-".to_owned(), |(_, at)| time_in(at, local));
        let _ = writeln!(
            out,
            "{:>6}  {at:<25} {:<12} {:<17} {}  {}",
            e.index,
            e.signer,
            e.statement.kind().name(),
            e.id.short(),
            e.statement.summary()
        );
        shown += 1;
    }
    let _ = write!(
        out,
        "{shown} of {size} entries shown; every signature and the Merkle root verified"
    );
    out
}

/// The demo cockpit's first status line.
pub fn demo_join_hint(workspace: &std::path::Path) -> String {
    format!(
        "demo: a second person joins from another terminal with `tollgate demo --join {} --as dana`",
        workspace.display()
    )
}

/// Printed before the demo's cockpit opens (and visible again after it
/// closes): where the store is, and how to join as a second persona.
pub fn demo_ready(
    url: &str,
    took: std::time::Duration,
    workspace: &std::path::Path,
    kept: bool,
) -> String {
    let join = if kept {
        format!(
            "second terminal: tollgate demo --join {} --as dana   (the two-person rule)",
            workspace.display()
        )
    } else {
        format!(
            "second terminal: tollgate demo --join {} --as dana   (the two-person rule; this workspace is removed when you quit — use --dir DIR to keep one)",
            workspace.display()
        )
    };
    format!(
        "tollgate demo: store and 2 witnesses on {url} (HTTPS, self-signed), story seeded in {} ms\n{join}",
        took.as_millis()
    )
}

pub fn snapshot_nothing() -> String {
    "nothing to capture: give configuration FILEs, --flags, --secrets, --sbom or --image".to_owned()
}

pub fn snapshot_not_sbom(name: &str, found: &str) -> String {
    format!(
        "{name}: this is {found}, but --sbom reads a CycloneDX or SPDX SBOM; pass the SBOM of what runs"
    )
}

pub fn snapshot_bad_image(text: &str, problem: &dyn std::fmt::Display) -> String {
    format!("--image {text}: {problem}; write NAME=sha256:<64 hex digits>")
}

pub fn snapshot_no_artifact(env: &str, service: &str) -> String {
    format!(
        "the verified log shows nothing of {service} running in {env}; pass --artifact sha256:HEX to say which artifact the snapshot is about"
    )
}

pub fn snapshot_too_large(payload: usize, limit: usize) -> String {
    format!(
        "the snapshot is {payload} bytes; a signed entry is limited to {limit} bytes. Capture only the service's own settings, or split it by service"
    )
}

pub fn snapshot_invalid(problem: &dyn std::fmt::Display) -> String {
    format!(
        "the captured snapshot is not a valid statement: {problem}; check --env and --service are plain names"
    )
}

pub fn snapshot_missing(env: &str, service: &str) -> String {
    format!(
        "no snapshot of {service} in {env} in the verified log; capture one with `tollgate snapshot submit --env {env} --service {service} FILE…`"
    )
}

pub fn snapshot_no_drift(service: &str, from: &str, to: &str) -> String {
    format!("no drift: {service} in {to} matches {from}\n")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The fast path of [`super::time`] is exactly RFC 3339 in UTC,
        /// whole seconds, whatever the instant and its offset.
        #[test]
        fn time_is_rfc3339_in_utc_to_the_second(
            unix in -62_000_000_000i64..253_000_000_000i64,
            nanos in 0u32..1_000_000_000,
            offset in -86_399i32..86_400,
        ) {
            let utc = time::OffsetDateTime::from_unix_timestamp(unix)
                .unwrap()
                .replace_nanosecond(nanos)
                .unwrap();
            let at = utc.to_offset(time::UtcOffset::from_whole_seconds(offset).unwrap());
            let expected = utc
                .replace_nanosecond(0)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            prop_assert_eq!(super::time(at), expected);
        }
    }
}
