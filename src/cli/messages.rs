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
         Client configuration (paste into config.toml; see `tollgate init`):\n\n\
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

pub fn no_acceptable_role(me: &str, action: &str, environment: &str, accepted: &str) -> String {
    format!(
        "{me} holds no role that can {action} in `{environment}`; the policy accepts: {accepted}"
    )
}

pub fn several_roles(roles: &str) -> String {
    format!("you hold several roles that qualify ({roles}); choose one with --role")
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

pub fn snapshot_file_invalid(path: &std::path::Path) -> String {
    format!(
        "{}: not a snapshot; expected JSON with `artifact` (sha256:…) and optional `config`, `flags`, `dependencies`, `secret_fingerprints`",
        path.display()
    )
}

pub fn nothing_running(environment: &str, service: &str) -> String {
    format!(
        "nothing of `{service}` is known to run in `{environment}`; there is nothing to roll back"
    )
}

pub fn no_known_good(environment: &str, service: &str) -> String {
    format!(
        "no earlier good deployment of `{service}` in `{environment}` is known; name one with --to sha256:HEX"
    )
}

pub fn no_promotions() -> String {
    "no promotions in the log yet".to_owned()
}

pub fn blocked() -> String {
    "the promotion is not ready (see the blockers above)".to_owned()
}

pub fn submitted(
    what: &str,
    entry_id: &crate::digest::Digest,
    receipt: &crate::client::http::Receipt,
) -> String {
    let state = if receipt.created {
        "recorded"
    } else {
        "already recorded"
    };
    format!(
        "{what} {state}\nentry id: {entry_id}\nindex:    {}\n(inclusion proof verified against the signed checkpoint)",
        receipt.index
    )
}

pub fn signing_decision(d: &crate::statement::Decision, subject: &str, version: &str) -> String {
    format!(
        "signing {kind} of {subject} {version} as {role}\n  rationale:  {rationale}\n  expires:    {expires}\n  binds:      policy {policy}, gate results {gates}, snapshot {snapshot}\n  observed:   {origin} size {size}",
        kind = d.action.kind_name(),
        role = d.role,
        rationale = d.rationale,
        expires = d.expires_at,
        policy = d.bound.policy.short(),
        gates = d.bound.gate_results.short(),
        snapshot = d
            .bound
            .snapshot
            .map_or_else(|| "none".to_owned(), |s| s.short()),
        origin = d.observed.origin,
        size = d.observed.size,
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
    for blocker in &p.blockers {
        let _ = write!(text, "\n  ✖ {blocker}");
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

pub fn log_verified(log: &crate::client::sync::VerifiedLog, ignored: usize) -> String {
    let c = log.checkpoint.checkpoint();
    format!(
        "log verified: {origin}\nsize:    {size}\nroot:    {root}\ncheck:   {accepted:?} (against the checkpoint saved last time)\npolicy:  version {version} ({digest})\nentries refused by the rules: {ignored}",
        origin = c.origin,
        size = c.size,
        root = crate::encoding::encode(&c.root),
        accepted = log.accepted,
        version = log.policy().version,
        digest = log.policy().digest(),
    )
}

pub fn init_done(
    key: &std::path::Path,
    policy: &std::path::Path,
    config: &std::path::Path,
) -> String {
    format!(
        "Created:\n  key:     {}\n  policy:  {} (starter policy; your key is operator `you`)\n  config:  {}\n\nNext:\n  1. Edit the policy: people, roles, environments, gates; check it with `tollgate policy check {}`.\n  2. Start or join a store; fill `store`, `pin` (or `ca`) and `log_vkey` in the config.\n  3. Set `policy_digest` to the digest `tollgate policy check` prints for the genesis policy.\n  4. Run `tollgate log verify`.",
        key.display(),
        policy.display(),
        config.display(),
        policy.display(),
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
