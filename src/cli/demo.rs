//! `tollgate demo`: the first thing a newcomer runs (DESIGN.md §5). A
//! temporary workspace; two witnesses and the audit store, in process,
//! over real HTTPS on 127.0.0.1 with self-signed certificates; personas
//! with real keys; the seeded story of `demo::scenario` submitted to the
//! store entry by entry; then the cockpit as the chosen persona.
//!
//! `--join DIR` opens the cockpit of a running demo as another persona (the
//! two-person rule, from a second terminal). `--screenshots DIR` draws the
//! main views with the real renderer into SVG files, from the same story
//! with fixed keys and a fixed clock, and exits.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, anyhow, bail};
use time::OffsetDateTime;
use tokio::sync::oneshot;

use super::{CommandError, CommandResult, UiArgs, messages};
use crate::client::http::StoreClient;
use crate::demo::personas::{self, Keys, PERSONAS};
use crate::demo::scenario::{self, Scenario, Step};
use crate::digest::Digest;
use crate::keys::vkey::NoteVerifierKey;
use crate::keys::{Signer, file};
use crate::ledger::cosignature::CosignerKey;
use crate::policy::Policy;
use crate::store::server::{self as store_server, Limits};
use crate::store::witnesses::{WitnessEndpoint, Witnesses};
use crate::store::{DatabaseUrl, Store, StoreConfig};
use crate::tls::{self, Trust};
use crate::witness::{Witness, server as witness_server, state::StateDir};

/// How far a demo entry's signed time may lie from the store's clock: the
/// story spans three days, so the demo store accepts that much (a real
/// store keeps the default of a few minutes).
const DEMO_CLOCK_SKEW: std::time::Duration = std::time::Duration::from_hours(4 * 24);

/// Options of `tollgate demo`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Personas: alice (release manager, the default), dana (security \
reviewer), carol (on-call engineer), frank (developer), ci-main (CI system).\n\n\
Try the two-person rule: run `tollgate demo --dir /tmp/td`, then in a second terminal \
`tollgate demo --join /tmp/td --as dana`."
)]
pub struct DemoArgs {
    /// Who you are in the demo.
    #[arg(long = "as", value_name = "PERSONA", default_value = "alice")]
    persona: String,
    /// Keep the demo's workspace (keys, store, outboxes) in DIR instead of a
    /// temporary directory removed on exit.
    #[arg(long, value_name = "DIR", conflicts_with = "join")]
    dir: Option<PathBuf>,
    /// Open the cockpit of a demo already running with `--dir DIR`, as
    /// another persona.
    #[arg(long, value_name = "DIR")]
    join: Option<PathBuf>,
    /// Draw the main views into SVG files in DIR and exit (no store, no
    /// terminal needed).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["dir", "join"])]
    screenshots: Option<PathBuf>,
    #[command(flatten)]
    ui: UiArgs,
}

pub fn run(args: DemoArgs) -> CommandResult {
    let Some(persona) = personas::persona(&args.persona) else {
        let names: Vec<&str> = PERSONAS.iter().map(|p| p.name).collect();
        return Err(CommandError::Input(anyhow!(
            "--as {}: no such persona; choose one of {}",
            args.persona,
            names.join(", ")
        )));
    };
    if let Some(dir) = &args.screenshots {
        return screenshots(dir).map_err(CommandError::Input);
    }
    if let Some(dir) = &args.join {
        return join(dir, persona.name, args.ui);
    }
    live(args.dir.as_deref(), persona.name, args.ui)
}

/// Where a persona's files live in a workspace.
fn persona_root(workspace: &Path, name: &str) -> PathBuf {
    workspace.join("personas").join(name)
}

fn config_path(workspace: &Path, name: &str) -> PathBuf {
    persona_root(workspace, name)
        .join("config")
        .join("config.toml")
}

fn open_cockpit(workspace: &Path, name: &str, ui: UiArgs, notice: Option<String>) -> CommandResult {
    // Every path of this process (outbox, trusted checkpoint, cache) is the
    // persona's, whatever TOLLGATE_*_DIR say: a demo never touches real files.
    crate::paths::use_root(persona_root(workspace, name));
    super::ui(Some(&config_path(workspace, name)), ui, notice)
}

fn join(workspace: &Path, name: &str, ui: UiArgs) -> CommandResult {
    let config = config_path(workspace, name);
    if !config.exists() {
        return Err(CommandError::Input(anyhow!(
            "{}: no demo workspace there; start one with `tollgate demo --dir {}` and keep it running",
            workspace.display(),
            workspace.display()
        )));
    }
    open_cockpit(workspace, name, ui, None)
}

/// The workspace, removed on drop unless the user named it.
struct Workspace {
    path: PathBuf,
    keep: bool,
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn workspace(dir: Option<&Path>) -> anyhow::Result<Workspace> {
    let (path, keep) = if let Some(dir) = dir {
        if dir.join("personas").exists() {
            bail!(
                "{}: already holds a demo; join it with `tollgate demo --join {}`, or remove it first",
                dir.display(),
                dir.display()
            );
        }
        (dir.to_path_buf(), true)
    } else {
        let nonce = Digest::of(
            &OffsetDateTime::now_utc()
                .unix_timestamp_nanos()
                .to_be_bytes(),
        );
        let name = format!(
            "tollgate-demo-{}-{}",
            std::process::id(),
            &nonce.to_hex()[..8]
        );
        (std::env::temp_dir().join(name), false)
    };
    std::fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Workspace { path, keep })
}

fn live(dir: Option<&Path>, name: &str, ui: UiArgs) -> CommandResult {
    let started = Instant::now();
    let ws = workspace(dir).map_err(CommandError::Input)?;
    let running = start(&ws.path).map_err(CommandError::Input)?;
    eprintln!(
        "{}",
        messages::demo_ready(&running.url, started.elapsed(), &ws.path, ws.keep)
    );
    let notice = messages::demo_join_hint(&ws.path);
    let result = open_cockpit(&ws.path, name, ui, Some(notice));
    running.stop();
    result
}

/// The demo's store and witnesses, on a runtime of their own.
struct Running {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the services thread reports once it listens.
struct Listening {
    store: SocketAddr,
    store_pin: Digest,
    witnesses: Vec<(CosignerKey, SocketAddr, Digest)>,
}

/// Keys, policy, witnesses and store; the story seeded; persona configs
/// written. Returns once the cockpit can connect.
fn start(workspace: &Path) -> anyhow::Result<Running> {
    let now = OffsetDateTime::now_utc();
    let keys = Keys::fresh();
    let policy = personas::policy(&keys, now).map_err(|e| anyhow!("the demo policy: {e}"))?;
    let log_key = Signer::generate(&policy.origin);
    let vkey = NoteVerifierKey::of_signer(&log_key)?;
    let scenario = scenario::build(&keys, &log_key, &policy, now)?;

    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel();
    let services_dir = workspace.join("services");
    let thread = {
        let policy = policy.clone();
        let vkey = vkey.clone();
        std::thread::Builder::new()
            .name("demo-store".into())
            .spawn(move || {
                let served = services(&services_dir, policy, log_key, vkey, ready_tx, stop_rx);
                if let Err(e) = served {
                    tracing::error!(error = %e, "demo services stopped");
                }
            })?
    };
    let listening = ready_rx
        .recv()
        .map_err(|_| anyhow!("the demo store did not start"))??;
    let url = format!("https://{}", listening.store);
    let running = Running {
        url: url.clone(),
        stop: Some(stop_tx),
        thread: Some(thread),
    };
    write_personas(workspace, &keys, &url, &listening, &vkey, &policy)?;
    seed(&keys, &url, listening.store_pin, &scenario)?;
    Ok(running)
}

fn services(
    dir: &Path,
    policy: Policy,
    log_key: Signer,
    vkey: NoteVerifierKey,
    ready: std::sync::mpsc::Sender<anyhow::Result<Listening>>,
    stop: oneshot::Receiver<()>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let started = async {
            let mut witnesses = Vec::new();
            let mut endpoints = Vec::new();
            let mut running_witnesses = Vec::new();
            for n in 1..=2 {
                let wdir = dir.join(format!("witness-{n}"));
                let signer = Signer::generate(&format!("witness-{n}.demo.tollgate.local"));
                let witness = Witness::open(signer, vec![vkey.clone()], StateDir::new(&wdir))?;
                let key = witness.key().clone();
                let (identity, _) = tls::self_signed(&wdir, &[])?;
                let running = witness_server::start(Arc::new(witness), &identity, loopback).await?;
                endpoints.push(WitnessEndpoint {
                    url: format!("https://{}", running.addr),
                    key: key.clone(),
                    trust: Trust::Pin(*identity.fingerprint().as_bytes()),
                });
                witnesses.push((key, running.addr, identity.fingerprint()));
                running_witnesses.push(running);
            }
            let store_dir = dir.join("store");
            std::fs::create_dir_all(&store_dir)?;
            let mut config = StoreConfig::new(
                DatabaseUrl::Sqlite(store_dir.join("store.db")),
                policy,
                log_key,
            );
            config.max_clock_skew = DEMO_CLOCK_SKEW;
            config.witnesses = Some(Witnesses::new(endpoints, 2)?);
            let store = Store::open(config).await?;
            let (identity, _) = tls::self_signed(&store_dir, &[])?;
            let server = store_server::start(store, &identity, loopback, Limits::default()).await?;
            Ok::<_, anyhow::Error>((
                Listening {
                    store: server.addr,
                    store_pin: identity.fingerprint(),
                    witnesses,
                },
                server,
                running_witnesses,
            ))
        }
        .await;
        match started {
            Ok((listening, server, witnesses)) => {
                let _ = ready.send(Ok(listening));
                let _ = stop.await;
                server.shutdown().await;
                for w in witnesses {
                    w.shutdown().await;
                }
                Ok(())
            }
            Err(e) => {
                let _ = ready.send(Err(anyhow!("{e:#}")));
                Err(e)
            }
        }
    })
}

/// Each persona's key and client configuration, as `init` and `join`
/// would have written them.
fn write_personas(
    workspace: &Path,
    keys: &Keys,
    url: &str,
    listening: &Listening,
    vkey: &NoteVerifierKey,
    policy: &Policy,
) -> anyhow::Result<()> {
    let witnesses: Vec<String> = listening
        .witnesses
        .iter()
        .map(|(key, _, _)| format!("\"{key}\""))
        .collect();
    for persona in PERSONAS {
        let root = persona_root(workspace, persona.name);
        let key_path = root.join("data").join("keys").join("operator.key");
        let signer = keys
            .get(persona.name)
            .ok_or_else(|| anyhow!("no demo key for {}", persona.name))?;
        file::write(&key_path, signer, true)?;
        let config = config_path(workspace, persona.name);
        if let Some(parent) = config.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let text = format!(
            "# tollgate demo: {name}, {role}. Written by `tollgate demo`.\n\
             store = \"{url}\"\n\
             pin = \"{pin}\"\n\
             key = {key:?}\n\
             log_vkey = \"{vkey}\"\n\
             policy_digest = \"{digest}\"\n\
             witnesses = [{witnesses}]\n\
             witness_quorum = 2\n",
            name = persona.name,
            role = persona.role,
            pin = listening.store_pin,
            key = key_path.display().to_string(),
            digest = policy.digest(),
            witnesses = witnesses.join(", "),
        );
        std::fs::write(&config, text)
            .with_context(|| format!("cannot write {}", config.display()))?;
    }
    Ok(())
}

/// Submits the story to the store, entry by entry, each signed by its
/// author and sent with their key, evidence first.
fn seed(keys: &Keys, url: &str, pin: Digest, scenario: &Scenario) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut clients = std::collections::BTreeMap::new();
    for (name, signer) in &keys.signers {
        let signer = Signer::from_signing_key(name, signer.signing_key().clone())?;
        let client = StoreClient::with_trust(url, &Trust::Pin(*pin.as_bytes()), Arc::new(signer))?;
        clients.insert(name.clone(), client);
    }
    let total = scenario.steps.len();
    runtime.block_on(async {
        for (
            index,
            Step {
                who,
                envelope,
                blobs,
            },
        ) in scenario.steps.iter().enumerate()
        {
            let client = clients
                .get(who)
                .ok_or_else(|| anyhow!("no demo client for {who}"))?;
            for (media_type, bytes) in blobs {
                client.put_evidence(bytes.clone(), media_type).await?;
            }
            let receipt = client.submit(envelope.clone()).await.with_context(|| {
                format!(
                    "the demo store refused step {} of {total} (by {who})",
                    index + 1
                )
            })?;
            if receipt.index != index as u64 {
                bail!(
                    "the demo store put step {} at index {}; the story expects {index}",
                    index + 1,
                    receipt.index
                );
            }
        }
        Ok(())
    })
}

/// The main views drawn by the real renderer from the story, as SVG.
fn screenshots(dir: &Path) -> anyhow::Result<()> {
    let scratch = Workspace {
        path: std::env::temp_dir().join(format!("tollgate-shots-{}", std::process::id())),
        keep: false,
    };
    let screens = crate::demo::shots::story(&scratch.path)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for screen in &screens {
        let path = dir.join(screen.file);
        std::fs::write(&path, screen.svg())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
