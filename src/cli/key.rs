//! `tollgate key generate` and `tollgate key show`.

use anyhow::Context as _;

use super::{CommandResult, KeyPath, messages};
use crate::keys::vkey::{NoteVerifierKey, is_valid_key_name};
use crate::keys::{Signer, file};

#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Generate a new ed25519 signing key (written with mode 0600).
    Generate {
        /// Your operator name, as the policy will list it (e.g. alice).
        #[arg(long, default_value = "operator")]
        name: String,
        /// Replace an existing key file. The old key is lost.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        path: KeyPath,
    },
    /// Show the public half of your key: name, public key, key id and vkey.
    Show {
        #[command(flatten)]
        path: KeyPath,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: KeyCommand) -> CommandResult {
    match command {
        KeyCommand::Generate { name, force, path } => {
            if !is_valid_key_name(&name) {
                return Err(anyhow::anyhow!(
                    "--name {name:?} is not usable: a name must be non-empty, without spaces or `+`"
                )
                .into());
            }
            let path = path.resolve()?;
            let signer = Signer::generate(&name);
            file::write(&path, &signer, force).map_err(anyhow::Error::from)?;
            println!("{}", messages::key_written(&path, &signer));
            Ok(())
        }
        KeyCommand::Show { path, json } => {
            let path = path.resolve()?;
            if !path.exists() {
                return Err(
                    anyhow::anyhow!("{}: {}", path.display(), messages::KEY_MISSING_FIX).into(),
                );
            }
            let signer = file::read(&path).with_context(|| "cannot use this key")?;
            let vkey = NoteVerifierKey::of_signer(&signer).ok();
            if json {
                let value = serde_json::json!({
                    "file": path,
                    "name": signer.name(),
                    "public": signer.public().to_string(),
                    "key_id": signer.public().key_id().to_string(),
                    "vkey": vkey.as_ref().map(ToString::to_string),
                });
                println!("{value:#}");
            } else {
                println!("{}", messages::key_shown(&path, &signer, vkey.as_ref()));
            }
            Ok(())
        }
    }
}
