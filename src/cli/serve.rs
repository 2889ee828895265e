//! `tollgate serve`: the audit store over HTTPS.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

use super::{CommandResult, messages};
use crate::keys::vkey::NoteVerifierKey;
use crate::keys::{Signer, file};
use crate::ledger::cosignature::CosignerKey;
use crate::paths;
use crate::policy::{self, Policy};
use crate::store::hooks::{HookDispatcher, HookReceiver};
use crate::store::server::{self, Limits};
use crate::store::witnesses::{WitnessEndpoint, Witnesses};
use crate::store::{DatabaseUrl, Store, StoreConfig};
use crate::tls::{self, Identity};
use crate::tls::{Trust, parse_pin};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A serve.toml with any of: listen, database, schema, policy, tls_cert,
    /// tls_key, self_signed, rate_limit, max_connections, max_buffered_bytes,
    /// witness_quorum, [[hooks]], [[witnesses]].
    #[arg(long, value_name = "FILE")]
    serve_config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8443]
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// `postgres://…` for PostgreSQL, or a SQLite file path [default: <data dir>/store.db]
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// PostgreSQL schema to keep this store's tables in (created if missing).
    #[arg(long, value_name = "NAME", requires = "database")]
    schema: Option<String>,
    /// The genesis policy (version 1), pinned by clients at enrolment
    /// [default: the one this store started with, else <config dir>/policy.toml]
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Generate a self-signed certificate once into the data directory.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    self_signed: bool,
    /// The store's TLS certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The store's TLS private key (PEM; readable by its owner only).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Requests per second allowed per operator key.
    #[arg(long, value_name = "N")]
    rate_limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeFile {
    listen: Option<SocketAddr>,
    database: Option<String>,
    schema: Option<String>,
    policy: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    #[serde(default)]
    self_signed: bool,
    rate_limit: Option<u32>,
    /// Connections served at once (further ones wait in the listen backlog).
    max_connections: Option<usize>,
    /// Request-body bytes held at once across all connections.
    max_buffered_bytes: Option<usize>,
    /// Deploy-hook receivers: `[[hooks]] url = "https://…"` with `pin` or `ca`.
    #[serde(default)]
    hooks: Vec<HookFile>,
    /// Witnesses: `[[witnesses]] url = "https://…"`, `vkey`, and `pin` or `ca`.
    #[serde(default)]
    witnesses: Vec<WitnessFile>,
    /// Cosignatures needed before a checkpoint is served [default: all witnesses].
    witness_quorum: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessFile {
    url: String,
    vkey: String,
    pin: Option<String>,
    ca: Option<PathBuf>,
}

fn witness_config(
    witnesses: &[WitnessFile],
    witness_quorum: Option<usize>,
) -> anyhow::Result<Option<Witnesses>> {
    if witnesses.is_empty() {
        anyhow::ensure!(
            witness_quorum.is_none(),
            "serve.toml sets witness_quorum but no [[witnesses]]; add the witnesses or remove witness_quorum"
        );
        return Ok(None);
    }
    let list = witnesses
        .iter()
        .map(|w| {
            anyhow::ensure!(
                w.url.starts_with("https://"),
                "witness {}: `url` must be an https:// URL",
                w.url
            );
            let key = w.vkey.parse::<CosignerKey>().map_err(|e| {
                anyhow::anyhow!(
                    "witness {}: `vkey` {e}; copy the witness key `tollgate witness` printed",
                    w.url
                )
            })?;
            let trust = match (&w.pin, &w.ca) {
                (Some(pin), None) => Trust::Pin(
                    parse_pin(pin).map_err(|e| anyhow::anyhow!("witness {}: `pin` {e}", w.url))?,
                ),
                (None, Some(ca)) => Trust::Ca(ca.clone()),
                _ => anyhow::bail!("witness {}: give exactly one of `pin` or `ca`", w.url),
            };
            Ok(WitnessEndpoint {
                url: w.url.clone(),
                key,
                trust,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let quorum = witness_quorum.unwrap_or(list.len());
    Ok(Some(Witnesses::new(list, quorum)?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HookFile {
    url: String,
    pin: Option<String>,
    ca: Option<PathBuf>,
}

fn hook_receivers(hooks: &[HookFile]) -> anyhow::Result<Vec<HookReceiver>> {
    hooks
        .iter()
        .map(|hook| {
            let trust = match (&hook.pin, &hook.ca) {
                (Some(pin), None) => Trust::Pin(
                    parse_pin(pin).map_err(|e| anyhow::anyhow!("hook {}: `pin` {e}", hook.url))?,
                ),
                (None, Some(ca)) => Trust::Ca(ca.clone()),
                _ => anyhow::bail!("hook {}: give exactly one of `pin` or `ca`", hook.url),
            };
            Ok(HookReceiver::new(&hook.url, &trust)?)
        })
        .collect()
}

fn read_serve_file(path: &Path) -> anyhow::Result<ServeFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("{} is not a valid serve configuration", path.display()))
}

/// Where the genesis policy this store started with is kept.
fn remembered_genesis(data_dir: &Path) -> PathBuf {
    data_dir.join("genesis-policy.toml")
}

fn remember_genesis(data_dir: &Path, text: &str) -> anyhow::Result<()> {
    let path = remembered_genesis(data_dir);
    if std::fs::read_to_string(&path).is_ok_and(|kept| kept == text) {
        return Ok(());
    }
    crate::durable::write_atomic(&path, text.as_bytes())?;
    Ok(())
}

/// The genesis policy to start with: `--policy` (or serve.toml's `policy`),
/// else the one this data directory's store started with, else
/// `<config dir>/policy.toml` (what `tollgate init` writes).
fn genesis_policy_file(given: Option<PathBuf>, data_dir: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path);
    }
    let kept = remembered_genesis(data_dir);
    if kept.exists() {
        return Ok(kept);
    }
    let starter = paths::config_dir()?.join("policy.toml");
    if starter.exists() {
        return Ok(starter);
    }
    anyhow::bail!(
        "no policy: this store has not started before, and neither --policy nor {} exists\n  \
         fix: run `tollgate init --name YOUR-NAME` to write a starter policy there, or pass --policy FILE",
        starter.display()
    )
}

/// The log's signing key: created once in the data directory, named after
/// the policy's origin (the checkpoint's key name must be the origin).
fn log_key(data_dir: &Path, origin: &str) -> anyhow::Result<Signer> {
    let path = data_dir.join("log.key");
    if path.exists() {
        let signer = file::read(&path)?;
        anyhow::ensure!(
            signer.name() == origin,
            "{} belongs to log `{}`, but the policy's origin is `{origin}`; use the data directory of that log",
            path.display(),
            signer.name()
        );
        return Ok(signer);
    }
    let signer = Signer::generate(origin);
    file::write(&path, &signer, false)?;
    Ok(signer)
}

pub fn run(args: &ServeArgs) -> CommandResult {
    serve(args).map_err(Into::into)
}

fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let from_file = match &args.serve_config {
        Some(path) => read_serve_file(path)?,
        None => ServeFile::default(),
    };
    let data_dir = paths::data_dir()?;
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let policy_path = genesis_policy_file(args.policy.clone().or(from_file.policy), &data_dir)?;
    let policy: Policy = policy::check_file(&policy_path).map_err(|e| {
        anyhow::anyhow!("{e}\nthe policy is not valid; run `tollgate policy check`")
    })?;
    let identity = match (
        args.tls_cert.clone().or(from_file.tls_cert),
        args.tls_key.clone().or(from_file.tls_key),
    ) {
        (Some(cert), Some(key)) => (Identity::from_pem_files(&cert, &key)?, false),
        _ if args.self_signed || from_file.self_signed => tls::self_signed(&data_dir, &[])?,
        _ => anyhow::bail!(
            "no certificate: pass --tls-cert FILE --tls-key FILE, or --self-signed for local use (plain HTTP is never served)"
        ),
    };
    let database = match args.database.clone().or(from_file.database) {
        Some(url) => DatabaseUrl::parse(&url),
        None => DatabaseUrl::Sqlite(data_dir.join("store.db")),
    };
    let database = match args.schema.clone().or(from_file.schema) {
        Some(schema) => database.with_schema(&schema),
        None => database,
    };
    let listen = args
        .listen
        .or(from_file.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8443)));
    let mut limits = Limits::default();
    if let Some(rate) = args.rate_limit.or(from_file.rate_limit) {
        limits.rate_per_key = rate;
    }
    if let Some(max) = from_file.max_connections {
        anyhow::ensure!(
            max > 0,
            "serve.toml: `max_connections` is 0; give at least 1 (default {})",
            limits.max_connections
        );
        limits.max_connections = max;
    }
    if let Some(max) = from_file.max_buffered_bytes {
        anyhow::ensure!(
            max >= limits.max_evidence_bytes,
            "serve.toml: `max_buffered_bytes` is {max}; give at least {} (one evidence upload; default {})",
            limits.max_evidence_bytes,
            limits.max_buffered_bytes
        );
        limits.max_buffered_bytes = max;
    }
    let receivers = hook_receivers(&from_file.hooks)?;
    let witnesses = witness_config(&from_file.witnesses, from_file.witness_quorum)?;
    let signer = log_key(&data_dir, &policy.origin)?;
    let vkey = NoteVerifierKey::of_signer(&signer)?;
    let policy_digest = policy.digest();
    let origin = policy.origin.clone();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let genesis_text = policy.document().to_owned();
        let mut config = StoreConfig::new(database.clone(), policy, signer);
        config.witnesses = witnesses;
        let store = Store::open(config).await?;
        // The store accepted it (or had pinned it already): remember it, so a
        // restart needs no --policy.
        remember_genesis(&data_dir, &genesis_text)?;
        let hooks = if receivers.is_empty() {
            None
        } else {
            Some(HookDispatcher::start(store.clone(), receivers).await?)
        };
        let running = server::start(store, &identity.0, listen, limits).await?;
        println!(
            "{}",
            messages::serving(
                &origin,
                running.addr,
                &database.to_string(),
                &identity.0.fingerprint(),
                identity.1,
                &vkey,
                &policy_digest
            )
        );
        wait_for_signal().await;
        eprintln!("{}", messages::SHUTTING_DOWN);
        if let Some(hooks) = hooks {
            hooks.stop().await;
        }
        running.shutdown().await;
        eprintln!("{}", messages::STOPPED);
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(())
}

pub(super) async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
