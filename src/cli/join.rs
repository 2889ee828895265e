//! `tollgate join URL --pin sha256:…`: enrol this client with a store. It
//! fetches the store's checkpoint and genesis policy over TLS pinned to the
//! given certificate, checks that the checkpoint verifies under the log key
//! the store announces and that the policy belongs to that log, shows the
//! digests, and after a yes (or `--yes`) writes `store`, `pin`, `log_vkey`
//! and `policy_digest` into the client configuration. Other settings in an
//! existing configuration are kept.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, anyhow};

use super::{CommandError, CommandResult, KeyPath, messages};
use crate::client::config::{self, Trust, parse_pin};
use crate::client::http::{StoreClient, StoreError};
use crate::keys::file;
use crate::keys::vkey::NoteVerifierKey;
use crate::ledger::SignedCheckpoint;
use crate::policy::Policy;

#[derive(Debug, clap::Args)]
pub struct JoinArgs {
    /// The store's URL, e.g. https://audit.example.com:8443
    #[arg(value_name = "URL")]
    url: String,
    /// The SHA-256 of the store's certificate, as `tollgate serve` printed it.
    #[arg(long, value_name = "sha256:HEX")]
    pin: String,
    /// Write the configuration without asking (for scripts).
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    key: KeyPath,
}

/// What the store showed, once checked.
struct Enrolment {
    checkpoint: SignedCheckpoint,
    log_vkey: NoteVerifierKey,
    genesis: Policy,
    current: Policy,
}

pub fn run(config: Option<&Path>, args: &JoinArgs) -> CommandResult {
    let url = args.url.trim_end_matches('/').to_owned();
    if !url.starts_with("https://") {
        return Err(anyhow!(
            "{url}: the store is reached over HTTPS only\n  fix: give its https:// URL"
        )
        .into());
    }
    let pin = parse_pin(&args.pin).map_err(|problem| {
        anyhow!("--pin {problem}\n  fix: copy the pin `tollgate serve` printed")
    })?;
    let key_path = args.key.resolve()?;
    if !key_path.exists() {
        return Err(anyhow!(
            "{}: no private key there\n  fix: run `tollgate init --name YOUR-NAME` (or `tollgate key generate`) first",
            key_path.display()
        )
        .into());
    }
    let signer = Arc::new(file::read(&key_path)?);
    let client = StoreClient::with_trust(&url, &Trust::Pin(pin), Arc::clone(&signer))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let enrolment = runtime.block_on(fetch(&client, &signer))?;
    let config_path = match config {
        Some(path) => path.to_path_buf(),
        None => config::default_path().map_err(anyhow::Error::new)?,
    };
    let me = enrolment
        .current
        .operator_for_key(&signer.public())
        .map(|o| {
            (
                o.name.clone(),
                enrolment.current.roles_of(&o.name).join(", "),
            )
        });
    println!(
        "{}",
        messages::join_summary(
            &url,
            &args.pin,
            &enrolment.checkpoint,
            &enrolment.log_vkey,
            &enrolment.genesis,
            &enrolment.current,
            me.as_ref(),
            &config_path,
        )
    );
    if !args.yes && !confirm()? {
        return Err(CommandError::Refused(
            "nothing written: the enrolment was not confirmed".into(),
        ));
    }
    write_config(&config_path, &url, &args.pin, &enrolment, &key_path)?;
    println!("{}", messages::joined(&config_path));
    Ok(())
}

async fn fetch(
    client: &StoreClient,
    signer: &crate::keys::Signer,
) -> Result<Enrolment, CommandError> {
    let note = client.checkpoint().await?;
    let view = client.policy().await.map_err(|e| match e {
        StoreError::Refused {
            status: 401,
            ref code,
            ..
        } if code == "unknown_key" => CommandError::Input(anyhow!(messages::not_in_policy(
            &signer.public().to_string()
        ))),
        other => other.into(),
    })?;
    let log_vkey: NoteVerifierKey = view.log_vkey.parse().map_err(|e| {
        CommandError::Refused(format!(
            "the store announced a log key that cannot be read ({e}); it is not a tollgate store of this version"
        ))
    })?;
    let checkpoint = SignedCheckpoint::parse_and_verify(&note, &log_vkey).map_err(|e| {
        CommandError::Refused(format!(
            "the store's checkpoint does not verify under the log key it announced ({e}); do not enrol with it"
        ))
    })?;
    let genesis = Policy::parse(&view.genesis, "genesis policy (from the store)").map_err(|e| {
        CommandError::Refused(format!("the store's genesis policy does not validate: {e}"))
    })?;
    let current =
        Policy::parse(&view.document, "current policy (from the store)").map_err(|e| {
            CommandError::Refused(format!("the store's current policy does not validate: {e}"))
        })?;
    let origin = &checkpoint.checkpoint().origin;
    if &genesis.origin != origin {
        return Err(CommandError::Refused(format!(
            "the store's genesis policy is for the log {:?}, but its checkpoint is from {origin:?}; do not enrol with it",
            genesis.origin
        )));
    }
    Ok(Enrolment {
        checkpoint,
        log_vkey,
        genesis,
        current,
    })
}

fn confirm() -> Result<bool, CommandError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(anyhow!(
            "standard input is not a terminal, so nothing can be confirmed\n  fix: compare the digests above with the store's operator, then run again with --yes"
        )
        .into());
    }
    print!("Write these into the configuration? [y/N] ");
    std::io::stdout()
        .flush()
        .context("cannot write to the terminal")?;
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the answer")?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Sets the enrolment fields in the configuration, keeping everything else.
fn write_config(
    path: &Path,
    url: &str,
    pin: &str,
    enrolment: &Enrolment,
    key_path: &Path,
) -> Result<(), CommandError> {
    let mut table = match std::fs::read_to_string(path) {
        Ok(text) => text.parse::<toml::Table>().map_err(|e| {
            anyhow!(
                "{}: cannot update it, it is not valid TOML ({})\n  fix: correct or remove the file and run `tollgate join` again",
                path.display(),
                e.to_string().trim_end()
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
        Err(e) => {
            return Err(anyhow!("{}: cannot read: {e}", path.display()).into());
        }
    };
    table.remove("ca");
    let set = |table: &mut toml::Table, key: &str, value: String| {
        table.insert(key.to_owned(), toml::Value::String(value));
    };
    set(&mut table, "store", url.to_owned());
    set(&mut table, "pin", pin.to_owned());
    set(&mut table, "log_vkey", enrolment.log_vkey.to_string());
    set(
        &mut table,
        "policy_digest",
        enrolment.genesis.digest().to_string(),
    );
    if !table.contains_key("key") {
        set(&mut table, "key", absolute(key_path).display().to_string());
    }
    let text = format!(
        "# tollgate client configuration, written by `tollgate join`.\n{}",
        toml::to_string(&table).map_err(anyhow::Error::new)?
    );
    // Check it reads back before replacing anything.
    config::parse(&text, path).map_err(anyhow::Error::new)?;
    crate::durable::write_atomic(path, text.as_bytes()).map_err(anyhow::Error::new)?;
    Ok(())
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
