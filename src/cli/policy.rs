//! `tollgate policy check FILE`.

use std::path::PathBuf;

use super::{CommandResult, messages};
use crate::policy;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy document. Exit 0 when valid; otherwise exit 2 and
    /// print every problem as `file:line:column: message`, one per line.
    Check {
        /// The policy document (TOML).
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Add your signature to FILE.signed, a DSSE envelope of the policy
    /// statement for FILE (created if missing). Each admin runs it in turn.
    Sign {
        /// The policy document (TOML).
        file: PathBuf,
        #[command(flatten)]
        key: super::KeyPath,
    },
    /// Submit a signed policy (FILE.signed) to the store.
    Submit {
        /// The signed policy envelope written by `policy sign`.
        file: PathBuf,
    },
}

pub fn run(command: &PolicyCommand, config: Option<&std::path::Path>) -> CommandResult {
    match command {
        PolicyCommand::Sign { file, key } => sign(file, &key.resolve()?),
        PolicyCommand::Submit { file } => super::store::policy_submit(config, file),
        PolicyCommand::Check { file, json } => match policy::check_file(file) {
            Ok(policy) => {
                if *json {
                    let value = serde_json::json!({
                        "file": file,
                        "valid": true,
                        "version": policy.version,
                        "origin": policy.origin,
                        "digest": policy.digest().to_string(),
                        "environments": policy.environment_order(),
                    });
                    println!("{value:#}");
                } else {
                    println!(
                        "{}",
                        messages::policy_valid(&file.display().to_string(), &policy)
                    );
                }
                Ok(())
            }
            Err(errors) => {
                if *json {
                    let list: Vec<_> = errors
                        .iter()
                        .map(|e| {
                            serde_json::json!({
                                "file": e.file, "line": e.line, "column": e.column, "message": e.message,
                            })
                        })
                        .collect();
                    println!(
                        "{:#}",
                        serde_json::json!({ "file": file, "valid": false, "errors": list })
                    );
                } else {
                    for error in &errors {
                        eprintln!("{error}");
                    }
                }
                Err(anyhow::anyhow!(messages::policy_invalid(errors.len())).into())
            }
        },
    }
}

/// `policy sign FILE`: creates or extends `FILE.signed`.
fn sign(file: &std::path::Path, key_path: &std::path::Path) -> CommandResult {
    use anyhow::Context as _;

    use crate::envelope::Envelope;
    use crate::statement::Statement;

    let policy = policy::check_file(file).map_err(|e| {
        anyhow::anyhow!("{e}\nthe policy is not valid; run `tollgate policy check`")
    })?;
    let signer = crate::keys::file::read(key_path)?;
    let mut out = file.as_os_str().to_owned();
    out.push(".signed");
    let out = PathBuf::from(out);
    let statement = Statement::policy(policy.version, policy.document());
    let payload = statement.to_payload();
    let keyid = signer.public().key_id().to_string();
    let envelope = match std::fs::read(&out) {
        Ok(bytes) => {
            let mut envelope = Envelope::from_json(&bytes)
                .with_context(|| format!("{} is not a signed policy envelope", out.display()))?;
            if envelope.unverified_payload() != payload.as_slice() {
                return Err(anyhow::anyhow!(messages::signed_policy_differs(&out, file)).into());
            }
            if already_signed(&envelope, &signer, &keyid) {
                return Err(anyhow::anyhow!(messages::policy_already_signed(
                    &out, key_path, &keyid
                ))
                .into());
            }
            envelope.add_signature(signer.signing_key(), &keyid);
            envelope
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => signer.sign_statement(payload),
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("cannot read {}", out.display()))
                .into());
        }
    };
    crate::client::sync::write_atomic(&out, &envelope.to_json()).map_err(anyhow::Error::new)?;
    println!(
        "{}",
        messages::policy_signed(&out, &policy, envelope.signatures().len())
    );
    Ok(())
}

/// Whether `signer` already signed `envelope`: a signature under its keyid,
/// or one its key verifies (whatever keyid it was given). A second signature
/// would not count twice, and DSSE readers refuse two under one keyid.
fn already_signed(
    envelope: &crate::envelope::Envelope,
    signer: &crate::keys::Signer,
    keyid: &str,
) -> bool {
    let pae = envelope.pae();
    let key = signer.public();
    envelope
        .signatures()
        .iter()
        .any(|s| s.keyid == keyid || key.verifying_key().verify_strict(&pae, &s.sig).is_ok())
}
