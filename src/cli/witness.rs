//! `tollgate witness`: a C2SP tlog-witness over HTTPS that cosigns the
//! checkpoints of the logs given with `--log` (see `crate::witness`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use super::CommandResult;
use crate::keys::vkey::{NoteVerifierKey, is_valid_key_name};
use crate::keys::{Signer, file};
use crate::ledger::cosignature::CosignerKey;
use crate::paths;
use crate::tls::{self, Identity};
use crate::witness::state::StateDir;
use crate::witness::{Witness, server};

#[derive(Debug, clap::Args)]
pub struct WitnessArgs {
    /// Address to listen on [default: 127.0.0.1:8444]
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The vkey of a log to cosign (as `tollgate serve` prints it); repeat for several logs.
    #[arg(long = "log", value_name = "VKEY", required = true)]
    logs: Vec<String>,
    /// The witness's key name, fixed when its key is first created
    /// [default: tollgate-witness].
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Generate a self-signed certificate once into the data directory.
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    self_signed: bool,
    /// Server certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
}

pub fn run(args: &WitnessArgs) -> CommandResult {
    witness(args).map_err(Into::into)
}

/// The witness key, `<data dir>/witness.key` (0600), created on first start.
fn witness_key(data_dir: &Path, name: Option<&str>) -> anyhow::Result<Signer> {
    if let Some(name) = name {
        anyhow::ensure!(
            is_valid_key_name(name),
            "--name {name:?} cannot name a witness key: use a non-empty name without spaces or `+`, like witness.example.com/w1"
        );
    }
    let path = data_dir.join("witness.key");
    if path.exists() {
        let signer = file::read(&path)?;
        if let Some(name) = name.filter(|n| *n != signer.name()) {
            anyhow::bail!(
                "{} is the key of witness `{}`, not `{name}`; drop --name or use another data directory (TOLLGATE_DATA_DIR)",
                path.display(),
                signer.name()
            );
        }
        return Ok(signer);
    }
    let signer = Signer::generate(name.unwrap_or("tollgate-witness"));
    CosignerKey::of_signer(&signer)?;
    file::write(&path, &signer, false)?;
    Ok(signer)
}

fn witness(args: &WitnessArgs) -> anyhow::Result<()> {
    let logs = args
        .logs
        .iter()
        .map(|text| {
            text.parse::<NoteVerifierKey>().map_err(|e| {
                anyhow::anyhow!("--log {text:?}: {e}; pass the log_vkey `tollgate serve` printed")
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let data_dir = paths::data_dir()?;
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let (identity, generated) = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => (Identity::from_pem_files(cert, key)?, false),
        _ if args.self_signed => tls::self_signed(&data_dir, &[])?,
        _ => anyhow::bail!(
            "no certificate: pass --cert FILE --key FILE, or --self-signed for local use (plain HTTP is never served)"
        ),
    };
    let signer = witness_key(&data_dir, args.name.as_deref())?;
    let witness = Arc::new(Witness::open(signer, logs, StateDir::new(&data_dir))?);
    let listen = args
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8444)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let running = server::start(witness.clone(), &identity, listen).await?;
        println!(
            "{}",
            banner(
                &witness,
                running.addr,
                &identity.fingerprint().to_string(),
                generated
            )
        );
        super::serve::wait_for_signal().await;
        running.shutdown().await;
        Ok::<(), anyhow::Error>(())
    })
}

fn banner(witness: &Witness, addr: SocketAddr, fingerprint: &str, generated: bool) -> String {
    let cert = if generated {
        "self-signed, generated now"
    } else {
        "loaded"
    };
    let logs: Vec<String> = witness.logs().iter().map(|l| l.name().to_owned()).collect();
    let key = witness.key();
    format!(
        "tollgate witness {name}\n\
         listening:   https://{addr}\n\
         certificate: {cert}, {fingerprint}\n\
         witness key: {key}\n\
         logs:        {logs}\n\n\
         Store configuration (add to serve.toml):\n\n\
         [[witnesses]]\n\
         url = \"https://{addr}\"\n\
         vkey = \"{key}\"\n\
         pin = \"{fingerprint}\"\n\n\
         Client configuration (add to config.toml; witness_quorum counts these):\n\n\
         witnesses = [\"{key}\"]\n",
        name = key.name(),
        logs = logs.join(", "),
    )
}
