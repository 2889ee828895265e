//! Commands that talk to the audit store: submit signed statements and
//! decisions, verify the log, and show readiness from the local fold.
//!
//! Every command that reads state first syncs and verifies the whole log
//! (`client::sync`); decisions bind what that local fold shows, never the
//! store's derived views.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use std::io::Write as _;
use time::OffsetDateTime;

use super::{CommandError, CommandResult, messages};
use crate::client::actions;
use crate::client::config::{self, ClientConfig};
use crate::client::evidence::{BlobCache, JudgedFile, Rejudger};
use crate::client::http::{Receipt, StoreClient, StoreError};
use crate::client::outbox::{ItemState, Outbox};
use crate::client::sync::{self, SyncError, VerifiedLog};
use crate::digest::Digest;
use crate::keys::{Signer, file};
use crate::ledger::{SignedCheckpoint, TlogProof, leaf_hash, verify_inclusion};
use crate::policy::Policy;
use crate::state::{Promotion, Refusal, State};
use crate::statement::{
    Deployment, DeploymentStatus, DeploymentTarget, Predicate, SourceRef, Statement,
};

impl From<StoreError> for CommandError {
    fn from(error: StoreError) -> Self {
        if error.is_unreachable() {
            return Self::Unreachable(error.to_string());
        }
        match error {
            StoreError::Refused { .. } | StoreError::Protocol { .. } => {
                Self::Refused(error.to_string())
            }
            StoreError::Trust { .. }
            | StoreError::Sign(_)
            | StoreError::TooLarge { .. }
            | StoreError::Unreachable { .. } => Self::Input(anyhow::Error::new(error)),
        }
    }
}

impl From<SyncError> for CommandError {
    fn from(error: SyncError) -> Self {
        match error {
            SyncError::Store(e) => e.into(),
            SyncError::Alarm { .. } | SyncError::NotCosigned { .. } => {
                Self::Refused(error.to_string())
            }
            other => Self::Input(anyhow::Error::new(other)),
        }
    }
}

/// A configured client with its key and a runtime.
pub struct Session {
    pub config: ClientConfig,
    pub client: StoreClient,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("store", &self.config.store)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub fn open(config_path: Option<&Path>) -> Result<Self, CommandError> {
        let config = config::load(config_path).map_err(anyhow::Error::new)?;
        let signer = file::read(&config.key).map_err(anyhow::Error::new)?;
        let client = StoreClient::new(&config, Arc::new(signer))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Self {
            config,
            client,
            runtime,
        })
    }

    pub(super) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn signer(&self) -> &Signer {
        self.client.signer()
    }

    /// Syncs and verifies the log (the new entries after the verified local
    /// cache); an ALARM is printed here, and so is a refused cache.
    pub fn sync(&self) -> Result<VerifiedLog, CommandError> {
        self.sync_raw().map_err(sync_error)
    }

    fn sync_raw(&self) -> Result<VerifiedLog, SyncError> {
        self.sync_judging(false)
    }

    /// [`Self::sync`] for a command that shows no readiness (`tollgate
    /// sync`): only the gate results it fetched are judged (and the
    /// judgements kept for the commands that show them).
    pub fn sync_judging_new(&self) -> Result<VerifiedLog, CommandError> {
        self.sync_judging(true).map_err(sync_error)
    }

    fn sync_judging(&self, new_only: bool) -> Result<VerifiedLog, SyncError> {
        let log = self.block_on(sync::sync(&self.config, &self.client))?;
        if let Some(note) = &log.cache_note {
            eprintln!("{}", messages::cache_note(note));
        }
        let first = new_only.then(|| log.checkpoint.checkpoint().size - log.fetched);
        Ok(self.rejudge_from(log, first))
    }

    /// Re-judges the log's gate results from their evidence (fetched once
    /// into the local evidence cache; offline, from that cache only), so
    /// every state this command shows counts only confirmed verdicts.
    /// The judgements made by earlier commands are kept (signed) in the
    /// evidence cache, so only new gate results are judged.
    fn rejudge(&self, log: VerifiedLog) -> VerifiedLog {
        self.rejudge_from(log, None)
    }

    /// [`Self::rejudge`] of the gate results from log index `first` on
    /// only, or of all.
    fn rejudge_from(&self, mut log: VerifiedLog, first: Option<u64>) -> VerifiedLog {
        let client = log.offline.is_none().then_some(&self.client);
        let cache = BlobCache::default_location();
        let file = JudgedFile::new(cache.dir(), &self.signer().public());
        let mut rejudger = Rejudger::new(cache).verdicts_only().keeping_decoded();
        rejudger.restore(file.load(&self.signer().public()));
        match first {
            Some(first) => self.block_on(rejudger.rejudge_since(client, &mut log, first)),
            None => self.block_on(rejudger.rejudge(client, &mut log)),
        };
        if rejudger.judged_anew()
            && let Err(e) = file.save(self.signer(), rejudger.judged())
        {
            tracing::warn!(error = %e, "cannot keep the gate results' judgements");
        }
        log
    }

    /// What read commands and decisions work from: a sync, or, when the
    /// store is unreachable, the verified local cache marked offline ("as of
    /// checkpoint N"). Without a usable cache the store's absence is the
    /// error (exit 3).
    pub fn view(&self) -> Result<VerifiedLog, CommandError> {
        match self.sync_raw() {
            Err(SyncError::Store(error)) if error.is_unreachable() => match self.offline_view() {
                Ok(log) => {
                    eprintln!("{}", messages::working_offline(&error.to_string(), &log));
                    Ok(log)
                }
                Err(_) => Err(SyncError::Store(error).into()),
            },
            other => other.map_err(sync_error),
        }
    }

    /// The verified local cache alone; the store is not contacted.
    pub fn offline_view(&self) -> Result<VerifiedLog, CommandError> {
        let log = sync::offline(&self.config, self.signer()).map_err(CommandError::from)?;
        Ok(self.rejudge(log))
    }

    /// My operator name under the policy in force. Not being in the
    /// policy is a setup problem (exit 2), not a verdict.
    fn me(&self, policy: &Policy) -> Result<String, CommandError> {
        policy
            .operator_for_key(&self.signer().public())
            .map(|o| o.name.clone())
            .ok_or_else(|| {
                CommandError::Input(anyhow::anyhow!(messages::not_an_operator(
                    &self.signer().public().to_string(),
                )))
            })
    }

    /// Signs, writes the statement to the outbox (fsync) and delivers the
    /// queue in order. Every receipt delivered is checked and kept; this
    /// statement's is printed. With the store down it stays queued: exit 3,
    /// saying how it will be delivered.
    pub(super) fn submit(&self, statement: &Statement, what: &Submission<'_>) -> CommandResult {
        let envelope = self.signer().sign_statement(statement.to_payload());
        let entry_id = envelope.entry_id();
        let promotion_id = what.promotion_id.or_else(|| {
            matches!(statement.predicate, Predicate::PromotionRequest(_)).then_some(entry_id)
        });
        let outbox = Outbox::default_location()?;
        outbox
            .enqueue(
                &envelope,
                statement.kind().name(),
                what.summary,
                promotion_id,
                OffsetDateTime::now_utc(),
            )
            .map_err(anyhow::Error::new)?;
        let delivery = self
            .block_on(outbox.deliver(&self.client, OffsetDateTime::now_utc))
            .map_err(anyhow::Error::new)?;
        for item in &delivery.sent {
            if let ItemState::Sent { receipt, .. } = &item.state {
                let bytes = item.envelope_bytes().map_err(anyhow::Error::new)?;
                self.check_receipt(receipt, &bytes)?;
                self.keep_receipt(receipt, item.entry_id)?;
            }
        }
        if let Some(item) = delivery.refused.iter().find(|i| i.entry_id == entry_id)
            && let ItemState::Refused {
                message,
                remediation,
                ..
            } = &item.state
        {
            return Err(CommandError::Refused(format!(
                "{message}\n  fix: {remediation}"
            )));
        }
        let mine = delivery.sent.iter().find(|i| i.entry_id == entry_id);
        match (mine, delivery.unreachable) {
            (Some(item), _) => {
                if let ItemState::Sent { receipt, .. } = &item.state {
                    print_submitted(what, entry_id, promotion_id, Some(receipt));
                }
                Ok(())
            }
            (None, Some(error)) => {
                print_submitted(what, entry_id, promotion_id, None);
                Err(CommandError::Unreachable(messages::queued(
                    what.what,
                    &error.to_string(),
                )))
            }
            (None, None) => Err(CommandError::Refused(messages::not_delivered(what.what))),
        }
    }

    /// A verified receipt advances the trusted checkpoint like a sync, and
    /// the entry is remembered so that later syncs prove it is still there.
    fn keep_receipt(&self, receipt: &Receipt, entry_id: Digest) -> CommandResult {
        self.block_on(sync::accept_receipt(
            &self.config,
            &self.client,
            receipt.index,
            entry_id,
            receipt.checkpoint.as_bytes(),
        ))
        .map_err(|e| {
            if let SyncError::Alarm { summary, evidence } = &e {
                eprintln!("{}", messages::alarm(summary, evidence));
            }
            e.into()
        })
    }

    fn check_receipt(&self, receipt: &Receipt, bytes: &[u8]) -> CommandResult {
        crate::client::receipts::verify_receipt(&self.config, receipt, bytes).map_err(|e| match e {
            crate::client::receipts::ReceiptError::Invalid(problem) => {
                CommandError::Refused(messages::bad_receipt(&problem))
            }
            crate::client::receipts::ReceiptError::Sync(e) => e.into(),
        })
    }
}

/// A failed sync as a command error; an ALARM is printed here.
fn sync_error(e: SyncError) -> CommandError {
    if let SyncError::Alarm { summary, evidence } = &e {
        eprintln!("{}", messages::alarm(summary, evidence));
    }
    e.into()
}

/// How a submitted statement is named on screen.
pub(super) struct Submission<'a> {
    /// `approval`, `promotion request`, …
    pub what: &'a str,
    /// One line for the outbox listing.
    pub summary: &'a str,
    pub promotion_id: Option<Digest>,
    pub json: bool,
}

fn print_submitted(
    what: &Submission<'_>,
    entry_id: Digest,
    promotion_id: Option<Digest>,
    receipt: Option<&Receipt>,
) {
    if what.json {
        let value = serde_json::json!({
            "state": if receipt.is_some() { "recorded" } else { "queued" },
            "what": what.what,
            "promotion_id": promotion_id.map(|d| d.to_string()),
            "entry_id": entry_id.to_string(),
            "index": receipt.map(|r| r.index),
            "receipt": receipt,
        });
        println!("{value:#}");
    } else if let Some(receipt) = receipt {
        println!(
            "{}",
            messages::submitted(what.what, promotion_id.as_ref(), &entry_id, receipt)
        );
    }
}

/// A full `sha256:HEX` id, or a unique prefix of 8 or more hex digits among
/// `known` (promotions, decisions…).
fn resolve_id<'k>(
    text: &str,
    flag: &str,
    known: impl Iterator<Item = &'k Digest>,
) -> Result<Digest, CommandError> {
    if let Ok(digest) = text.parse::<Digest>() {
        return Ok(digest);
    }
    let hex = text
        .strip_prefix("sha256:")
        .unwrap_or(text)
        .to_ascii_lowercase();
    if hex.len() < 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CommandError::Input(anyhow::anyhow!(messages::bad_id(
            flag, text
        ))));
    }
    let matches: Vec<Digest> = known
        .filter(|d| d.to_hex().starts_with(&hex))
        .copied()
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(CommandError::Refused(messages::unknown_id(flag, text))),
        several => Err(CommandError::Input(anyhow::anyhow!(
            messages::ambiguous_id(flag, text, several.len())
        ))),
    }
}

fn refused(refusal: &Refusal) -> CommandError {
    CommandError::Refused(refusal.to_string())
}

/// Judges `intent` with the action layer against the freshly verified log,
/// shows what will be signed, then signs and submits it.
fn act(
    session: &Session,
    log: &VerifiedLog,
    intent: &actions::Intent,
    what: &str,
    json: bool,
) -> CommandResult {
    let me = session.me(log.policy())?;
    let prepared =
        actions::prepare(log, &me, intent, OffsetDateTime::now_utc()).map_err(|r| refused(&r))?;
    if !json {
        println!("{}", messages::signing(&prepared));
    }
    session.submit(
        &prepared.statement,
        &Submission {
            what,
            summary: &prepared.summary,
            promotion_id: prepared.promotion_id,
            json,
        },
    )
}

pub(super) fn parse_digest(text: &str, flag: &str) -> Result<Digest, CommandError> {
    text.parse::<Digest>()
        .map_err(|e| CommandError::Input(anyhow::anyhow!("{flag}: {e}")))
}

pub(super) fn read_file(path: &Path) -> Result<Vec<u8>, CommandError> {
    std::fs::read(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .map_err(CommandError::Input)
}

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

#[derive(Debug, clap::Subcommand)]
pub enum PromoteCommand {
    /// Ask to promote an artifact from one environment to the next.
    Request {
        #[arg(long)]
        service: String,
        #[arg(long)]
        version: String,
        /// The artifact digest, sha256:HEX.
        #[arg(long)]
        digest: String,
        /// The environment it runs in now (omit for the first environment).
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: String,
        /// Release notes file; its digest is recorded and the file uploaded.
        #[arg(long, value_name = "FILE")]
        notes: Option<PathBuf>,
        /// Source repository.
        #[arg(long, default_value = "unknown")]
        repo: String,
        /// Source commit.
        #[arg(long, default_value = "unknown")]
        commit: String,
        /// Print JSON: promotion_id, entry_id, index and the receipt.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum GateCommand {
    /// Record a gate result for a promotion, uploading FILEs as evidence.
    Submit {
        /// The promotion id (sha256:…).
        promotion: String,
        #[arg(long)]
        gate: String,
        /// Only for manual gates: the status a person states. Every other
        /// gate's status is computed from the evidence by the policy.
        #[arg(long, value_parser = ["pass", "fail", "warn", "error"])]
        status: Option<String>,
        /// Replaces the computed summary.
        #[arg(long)]
        summary: Option<String>,
        /// Evidence files (format detected; uploaded; their digests go into
        /// the result).
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Download and verify the whole log against the pinned policy and the
    /// log key, and check it extends the checkpoint seen last time.
    Verify {
        /// Do not contact the store: check the verified local cache against
        /// the saved checkpoint and show the log as of that checkpoint.
        #[arg(long)]
        offline: bool,
        #[arg(long)]
        json: bool,
    },
    /// Print the store's current signed checkpoint (verified).
    Checkpoint {
        #[arg(long)]
        json: bool,
    },
    /// Print an offline inclusion proof (c2sp.org/tlog-proof@v1) for an entry.
    Proof { index: u64 },
    /// The audit history: every verified entry with its signer, kind, signed
    /// time and what it does.
    Show {
        /// Start at this log index.
        #[arg(long, value_name = "N", default_value_t = 0)]
        since: u64,
        /// Print times in the local time zone instead of UTC.
        #[arg(long)]
        local: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct DeployedArgs {
    /// The promotion id, or a rollback decision id (or a unique prefix of
    /// 8+ hex digits).
    promotion: String,
    #[arg(long, value_parser = ["succeeded", "failed"])]
    status: String,
    /// Print JSON: promotion_id, entry_id, index and the receipt.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct DecideArgs {
    /// The promotion id (sha256:…, or a unique prefix of 8+ hex digits).
    promotion: String,
    /// The role you act in [default: your only role the environment accepts].
    #[arg(long)]
    role: Option<String>,
    #[arg(long)]
    rationale: String,
    /// Print JSON: promotion_id, entry_id, index and the receipt.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The decision id to withdraw (or a unique prefix of 8+ hex digits).
    decision: String,
    #[arg(long)]
    rationale: String,
    #[arg(long)]
    role: Option<String>,
    /// Print JSON: promotion_id, entry_id, index and the receipt.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct WaiveArgs {
    promotion: String,
    #[arg(long)]
    gate: String,
    /// How long the waiver lasts, e.g. 24h or 3d.
    #[arg(long)]
    until: String,
    #[arg(long)]
    rationale: String,
    #[arg(long)]
    role: Option<String>,
    /// Print JSON: promotion_id, entry_id, index and the receipt.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    #[arg(long)]
    env: String,
    #[arg(long)]
    service: String,
    /// The version or sha256:HEX digest to roll back to [default: the last
    /// known good].
    #[arg(long, value_name = "VERSION|sha256:HEX")]
    to: Option<String>,
    #[arg(long)]
    rationale: String,
    #[arg(long)]
    role: Option<String>,
    /// Print JSON: entry_id, index and the receipt.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Exit codes:\n  \
    0  with PROMOTION: it may be deployed now (ready, or ready again after a failed deployment);\n     \
    without PROMOTION: the list was shown\n  \
    1  with PROMOTION: it may not be deployed now: waiting (blocked, e.g. an approval expired), \
    rejected, superseded by a newer deployed promotion, or already deployed; \
    also an ALARM about the log\n  \
    2  usage or input error\n  \
    3  store unreachable")]
pub struct StatusArgs {
    /// One promotion id; all promotions when omitted.
    promotion: Option<String>,
    /// Only promotions of this service.
    #[arg(long, value_name = "SERVICE")]
    service: Option<String>,
    /// Only promotions into this environment.
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    #[arg(long)]
    json: bool,
}

impl StatusArgs {
    /// Whether `status` shows what concerns `service` in `environment`.
    fn shows(&self, environment: &str, service: &str) -> bool {
        self.service.as_ref().is_none_or(|s| s == service)
            && self.env.as_ref().is_none_or(|e| e == environment)
    }
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

pub fn promote(config: Option<&Path>, command: PromoteCommand) -> CommandResult {
    let PromoteCommand::Request {
        service,
        version,
        digest,
        from,
        to,
        notes,
        repo,
        commit,
        json,
    } = command;
    let artifact = parse_digest(&digest, "--digest")?;
    let session = Session::open(config)?;
    let log = session.sync()?;
    let release_notes = match notes {
        Some(path) => {
            let bytes = read_file(&path)?;
            let receipt = session.block_on(session.client.put_evidence(bytes, "text/markdown"))?;
            Some(receipt.digest)
        }
        None => None,
    };
    let intent = actions::Intent::Request {
        service,
        version,
        artifact,
        from,
        to,
        source: SourceRef { repo, commit },
        release_notes,
    };
    act(&session, &log, &intent, "promotion request", json)
}

pub fn gate(config: Option<&Path>, command: GateCommand) -> CommandResult {
    let GateCommand::Submit {
        promotion,
        gate,
        status,
        summary,
        files,
    } = command;
    // Read before anything is uploaded: bad input changes nothing.
    let loaded = super::gate::Loaded::read(&files)?;
    let session = Session::open(config)?;
    let log = session.sync()?;
    let state = log.state_at(OffsetDateTime::now_utc());
    let id = resolve_id(&promotion, "PROMOTION", state.promotions.keys())?;
    let p = state
        .promotions
        .get(&id)
        .ok_or_else(|| refused(&Refusal::UnknownPromotion(id)))?;
    // A drift gate without files judges the latest snapshots of the
    // promotion's environments, as the verified log holds them.
    let loaded = match (
        loaded.is_empty(),
        super::snapshot::bound_snapshots(&log, &state, p, &gate),
    ) {
        (true, Some(snapshots)) => snapshots,
        _ => loaded,
    };
    let inputs = loaded.files();
    let verdict = super::gate::verdict(
        log.policy(),
        &gate,
        &inputs,
        Some(&p.artifact),
        status.as_deref(),
    )?;
    if verdict.unreadable {
        return super::gate::outcome(&gate, &verdict);
    }
    print!("{}", super::gate::render(&gate, &verdict));
    let mut evidence = Vec::new();
    for (file, input) in inputs.iter().zip(&verdict.inputs) {
        let reference = actions::evidence_ref(&gate, input);
        let receipt = session.block_on(
            session
                .client
                .put_evidence(file.bytes.to_vec(), &reference.media_type),
        )?;
        evidence.push(crate::statement::EvidenceRef {
            digest: receipt.digest,
            ..reference
        });
    }
    let mut verdict = verdict;
    if let Some(summary) = summary {
        verdict.summary = summary;
    }
    let statement = actions::gate_result(
        id,
        p,
        &gate,
        verdict,
        evidence,
        status.is_some(),
        OffsetDateTime::now_utc(),
    );
    let summary = statement.summary();
    session.submit(
        &statement,
        &Submission {
            what: "gate result",
            summary: &summary,
            promotion_id: Some(id),
            json: false,
        },
    )
}

pub fn deployed(config: Option<&Path>, args: &DeployedArgs) -> CommandResult {
    let status = if args.status == "succeeded" {
        DeploymentStatus::Succeeded
    } else {
        DeploymentStatus::Failed
    };
    let session = Session::open(config)?;
    let log = session.sync()?;
    let state = log.state_at(OffsetDateTime::now_utc());
    let known = state.promotions.keys().chain(
        state
            .rollbacks
            .values()
            .flat_map(|r| std::iter::once(&r.id).chain(r.decisions.iter().map(|d| &d.id))),
    );
    let id = resolve_id(&args.promotion, "PROMOTION", known)?;
    let (target, environment, service, artifact) = if let Some(p) = state.promotions.get(&id) {
        (
            DeploymentTarget::Promotion(id),
            p.request.to.clone(),
            p.request.service.clone(),
            p.artifact,
        )
    } else if let Some(group) = state
        .rollbacks
        .values()
        .find(|r| r.id == id || r.decisions.iter().any(|d| d.id == id))
    {
        (
            DeploymentTarget::Rollback(id),
            group.environment.clone(),
            group.service.clone(),
            group.to,
        )
    } else {
        return Err(CommandError::Refused(
            Refusal::UnknownDeploymentTarget(id).to_string(),
        ));
    };
    let statement = Statement::about(
        &service,
        artifact,
        Predicate::Deployment(Deployment {
            target,
            environment,
            service: service.clone(),
            status,
            at: OffsetDateTime::now_utc(),
        }),
    );
    let summary = statement.summary();
    let promotion_id = match target {
        DeploymentTarget::Promotion(id) => Some(id),
        DeploymentTarget::Rollback(_) => None,
    };
    session.submit(
        &statement,
        &Submission {
            what: "deployment",
            summary: &summary,
            promotion_id,
            json: args.json,
        },
    )
}

pub fn approve_or_reject(config: Option<&Path>, args: &DecideArgs, approve: bool) -> CommandResult {
    let session = Session::open(config)?;
    let log = session.view()?;
    let promotion = resolve_id(
        &args.promotion,
        "PROMOTION",
        log.folder.raw_state().promotions.keys(),
    )?;
    let (role, rationale) = (args.role.clone(), args.rationale.clone());
    let intent = if approve {
        actions::Intent::Approve {
            promotion,
            role,
            rationale,
        }
    } else {
        actions::Intent::Reject {
            promotion,
            role,
            rationale,
        }
    };
    let what = if approve { "approval" } else { "rejection" };
    act(&session, &log, &intent, what, args.json)
}

pub fn revoke(config: Option<&Path>, args: &RevokeArgs) -> CommandResult {
    let session = Session::open(config)?;
    let log = session.view()?;
    let decision = resolve_id(
        &args.decision,
        "DECISION",
        log.folder.raw_state().decisions.keys(),
    )?;
    let intent = actions::Intent::Revoke {
        decision,
        role: args.role.clone(),
        rationale: args.rationale.clone(),
    };
    act(&session, &log, &intent, "revocation", args.json)
}

pub fn waive(config: Option<&Path>, args: &WaiveArgs) -> CommandResult {
    let length = humantime::parse_duration(&args.until)
        .map_err(|e| CommandError::Input(anyhow::anyhow!("--until {:?}: {e}", args.until)))?;
    let ttl = time::Duration::try_from(length)
        .map_err(|e| CommandError::Input(anyhow::anyhow!("--until {:?}: {e}", args.until)))?;
    let session = Session::open(config)?;
    let log = session.view()?;
    let promotion = resolve_id(
        &args.promotion,
        "PROMOTION",
        log.folder.raw_state().promotions.keys(),
    )?;
    let intent = actions::Intent::Waive {
        promotion,
        gate: args.gate.clone(),
        ttl,
        role: args.role.clone(),
        rationale: args.rationale.clone(),
    };
    act(&session, &log, &intent, "waiver", args.json)
}

pub fn rollback(config: Option<&Path>, args: &RollbackArgs) -> CommandResult {
    let session = Session::open(config)?;
    let log = session.view()?;
    let to = match &args.to {
        None => None,
        Some(text) => Some(match text.parse::<Digest>() {
            Ok(digest) => digest,
            // A version: what ran there under that version.
            Err(_) => log
                .folder
                .raw_state()
                .service(&args.env, &args.service)
                .and_then(|s| {
                    s.history
                        .iter()
                        .rev()
                        .find(|r| r.version.as_deref() == Some(text.as_str()))
                })
                .map(|r| r.artifact)
                .ok_or_else(|| {
                    CommandError::Refused(messages::no_such_version(&args.env, &args.service, text))
                })?,
        }),
    };
    let intent = actions::Intent::Rollback {
        environment: args.env.clone(),
        service: args.service.clone(),
        to,
        role: args.role.clone(),
        rationale: args.rationale.clone(),
    };
    act(&session, &log, &intent, "rollback", args.json)
}

/// Whether a promotion may be deployed now: ready, or ready again after a
/// failed deployment (the fold judges a retry on its own signed time).
fn deployable(p: &Promotion) -> bool {
    use crate::state::PromotionStatus;
    match p.status {
        PromotionStatus::Ready => true,
        PromotionStatus::DeployFailed => p.blockers.is_empty(),
        PromotionStatus::Waiting
        | PromotionStatus::Rejected
        | PromotionStatus::Deployed
        | PromotionStatus::Superseded => false,
    }
}

pub fn status(config: Option<&Path>, args: &StatusArgs) -> CommandResult {
    let session = Session::open(config)?;
    let mut log = session.view()?;
    let mut state = log.take_state_at(OffsetDateTime::now_utc());
    // Findings, like promotions, only for the service and environment asked
    // for.
    state
        .unapproved
        .retain(|u| args.shows(&u.environment, &u.service));
    let about = |id: &Digest| {
        state
            .promotions
            .get(id)
            .is_some_and(|p| args.shows(&p.request.to, &p.request.service))
    };
    let disputed: Vec<_> = std::mem::take(&mut state.disputed)
        .into_iter()
        .filter(|d| about(&d.promotion))
        .collect();
    state.disputed = disputed;
    let promotions: Vec<&Promotion> = match &args.promotion {
        Some(text) => {
            let id = resolve_id(text, "PROMOTION", state.promotions.keys())?;
            vec![
                state
                    .promotions
                    .get(&id)
                    .ok_or_else(|| refused(&Refusal::UnknownPromotion(id)))?,
            ]
        }
        None => state.promotions_in_order().collect(),
    };
    let promotions: Vec<&Promotion> = promotions
        .into_iter()
        .filter(|p| args.shows(&p.request.to, &p.request.service))
        .collect();
    if args.json {
        let list: Vec<_> = promotions
            .iter()
            .map(|p| messages::promotion_json(p))
            .collect();
        let checkpoint = log.checkpoint.checkpoint();
        let value = serde_json::json!({
            "log": {"origin": checkpoint.origin, "size": checkpoint.size,
                    "root": crate::encoding::encode(&checkpoint.root),
                    "offline": log.offline.is_some(),
                    "verified_at": log.offline.map(messages::time)},
            "policy": {"version": log.policy().version, "digest": log.policy().digest().to_string()},
            "promotions": list,
            "findings": messages::findings_json(&state),
        });
        println!("{value:#}");
    } else {
        let environments = args.promotion.is_none().then_some(args);
        write_status_text(&state, &promotions, &log, environments)?;
    }
    // With one promotion, `status` is a gate for scripts: exit 0 only when
    // it may be deployed now.
    if args.promotion.is_some() && !promotions.first().is_some_and(|p| deployable(p)) {
        return Err(CommandError::Refused(messages::not_deployable(
            promotions.first().map_or("unknown", |p| p.status.label()),
        )));
    }
    drop(promotions);
    super::leave_to_exit((state, log));
    Ok(())
}

/// `status` as text: the promotions (formatted on every core: a 100k-entry
/// log prints tens of megabytes), the unapproved deployments, the
/// environments `environments` shows (none when one promotion was asked
/// for), and the disputed gate results, in one buffered write.
fn write_status_text(
    state: &State,
    promotions: &[&Promotion],
    log: &VerifiedLog,
    environments: Option<&StatusArgs>,
) -> CommandResult {
    use rayon::prelude::*;
    // Formatted on every core a chunk at a time and written as it goes: the
    // whole text of a large log is tens of megabytes that a process would
    // otherwise hold (and fault in) at once.
    const CHUNK: usize = 2048;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut write = |text: &str| writeln!(out, "{text}");
    let written = promotions
        .chunks(CHUNK)
        .try_for_each(|chunk| {
            let texts: Vec<String> = chunk
                .par_iter()
                .map(|p| messages::promotion_text(p))
                .collect();
            texts.iter().try_for_each(|text| write(text))
        })
        .and_then(|()| {
            if promotions.is_empty() {
                write(&messages::no_promotions())?;
            }
            state
                .unapproved
                .iter()
                .try_for_each(|u| write(&messages::unapproved_text(u)))?;
            if let Some(args) = environments {
                write(&messages::environments_text(
                    state,
                    log.policy(),
                    |env, service| args.shows(env, service),
                ))?;
            }
            state
                .disputed
                .iter()
                .try_for_each(|d| write(&messages::disputed_text(d)))
        });
    written
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    Ok(())
}

pub fn log(config: Option<&Path>, command: &LogCommand) -> CommandResult {
    let session = Session::open(config)?;
    match command {
        LogCommand::Verify { offline, json } => {
            let mut log = if *offline {
                session.offline_view()?
            } else {
                session.sync()?
            };
            // Verifying reads every cached entry too (each checked against
            // its leaf hash, a chunk at a time); other commands read them
            // only to show them.
            log.entries.visit(0, |_| {}).map_err(SyncError::from)?;
            let state = log.take_state_at(OffsetDateTime::now_utc());
            let c = log.checkpoint.checkpoint();
            if *json {
                let value = serde_json::json!({
                    "verified": true,
                    "origin": c.origin,
                    "size": c.size,
                    "root": crate::encoding::encode(&c.root),
                    "accepted": format!("{:?}", log.accepted).to_lowercase(),
                    "policy_version": log.policy().version,
                    "policy_digest": log.policy().digest().to_string(),
                    "ignored_entries": state.ignored.len(),
                    "findings": messages::findings_json(&state),
                    "offline": log.offline.is_some(),
                    "verified_at": log.offline.map(messages::time),
                    "fetched": log.fetched,
                });
                println!("{value:#}");
            } else {
                println!(
                    "{}",
                    messages::log_verified(&log, state.unapproved.len() + state.disputed.len())
                );
                if let Some(as_of) = messages::as_of(&log) {
                    println!("{as_of}");
                }
                for finding in &state.unapproved {
                    println!("{}", messages::unapproved_text(finding));
                }
                for finding in &state.disputed {
                    println!("{}", messages::disputed_text(finding));
                }
            }
            super::leave_to_exit((state, log));
            Ok(())
        }
        LogCommand::Checkpoint { json } => {
            let bytes = session.block_on(session.client.checkpoint())?;
            let checkpoint =
                SignedCheckpoint::parse_and_verify(&bytes, &session.config.log_vkey)
                    .map_err(|e| CommandError::Refused(messages::bad_checkpoint(&e.to_string())))?;
            if *json {
                let c = checkpoint.checkpoint();
                let value = serde_json::json!({
                    "origin": c.origin, "size": c.size,
                    "root": crate::encoding::encode(&c.root),
                    "note": String::from_utf8_lossy(checkpoint.as_bytes()),
                });
                println!("{value:#}");
            } else {
                print!("{}", String::from_utf8_lossy(checkpoint.as_bytes()));
            }
            Ok(())
        }
        LogCommand::Proof { index } => {
            let bytes = session.block_on(session.client.checkpoint())?;
            let checkpoint =
                SignedCheckpoint::parse_and_verify(&bytes, &session.config.log_vkey)
                    .map_err(|e| CommandError::Refused(messages::bad_checkpoint(&e.to_string())))?;
            sync::check_witnesses(&session.config, &checkpoint)?;
            let size = checkpoint.checkpoint().size;
            if *index >= size {
                return Err(CommandError::Input(anyhow::anyhow!(
                    messages::index_out_of_range(*index, size)
                )));
            }
            let entry = session.block_on(session.client.entries_page(*index, index + 1))?;
            let proof = session.block_on(session.client.inclusion_proof(*index, size))?;
            let leaf = leaf_hash(entry.first().map_or(&[][..], Vec::as_slice));
            let c = checkpoint.checkpoint();
            verify_inclusion(*index, size, &leaf, &proof, &c.root)
                .map_err(|e| CommandError::Refused(messages::bad_receipt(&e.to_string())))?;
            let bundle = TlogProof::new(*index, proof, &checkpoint);
            print!("{}", String::from_utf8_lossy(&bundle.to_bytes()));
            Ok(())
        }
        LogCommand::Show { since, local, json } => {
            let log = session.view()?;
            let shown = log
                .entries
                .all()
                .map_err(SyncError::from)?
                .iter()
                .filter(|e| e.index >= *since);
            if *json {
                let list: Vec<_> = shown
                    .map(|e| {
                        serde_json::json!({
                            "index": e.index,
                            "entry_id": e.id.to_string(),
                            "signer": e.signer,
                            "kind": e.statement.kind().name(),
                            "signed_at": e.statement.signed_at().map(|(_, at)| messages::time(at)),
                            "summary": e.statement.summary(),
                        })
                    })
                    .collect();
                let c = log.checkpoint.checkpoint();
                println!(
                    "{:#}",
                    serde_json::json!({ "origin": c.origin, "size": c.size, "entries": list })
                );
            } else {
                println!(
                    "{}",
                    messages::history(shown, log.checkpoint.checkpoint().size, *local)
                );
            }
            Ok(())
        }
    }
}

/// `policy submit FILE.signed`: checks locally that the admins of the
/// policy in force reach the threshold, then submits.
pub fn policy_submit(config: Option<&Path>, file: &Path) -> CommandResult {
    let bytes = read_file(file)?;
    let envelope = crate::envelope::Envelope::from_json(&bytes)
        .with_context(|| format!("{} is not a signed policy envelope", file.display()))?;
    let session = Session::open(config)?;
    let log = session.sync()?;
    let next = crate::policy::rotation::verify_successor(log.policy(), &envelope)
        .map_err(|e| CommandError::Refused(e.to_string()))?;
    let receipt = session.block_on(session.client.submit(bytes.clone()))?;
    session.check_receipt(&receipt, &bytes)?;
    session.keep_receipt(&receipt, envelope.entry_id())?;
    println!(
        "{}",
        messages::submitted(
            &format!("policy version {}", next.version),
            None,
            &envelope.entry_id(),
            &receipt
        )
    );
    Ok(())
}
