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
    let cert = if generated { "self-signed, generated now" } else { "loaded" };
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
