//! Commands that talk to the audit store: submit signed statements and
//! decisions, verify the log, and show readiness from the local fold.
//!
//! Every command that reads state first syncs and verifies the whole log
//! (`client::sync`); decisions bind what that local fold shows, never the
//! store's derived views.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use time::OffsetDateTime;

use super::{CommandError, CommandResult, messages};
use crate::client::config::{self, ClientConfig};
use crate::client::http::{Receipt, StoreClient, StoreError};
use crate::client::sync::{self, SyncError, VerifiedLog};
use crate::digest::Digest;
use crate::keys::{Signer, file};
use crate::ledger::{SignedCheckpoint, TlogProof, leaf_hash, verify_inclusion};
use crate::policy::Policy;
use crate::state::{Promotion, Refusal, gate_results_digest};
use crate::statement::{
    Binding, Decision, DecisionAction, Deployment, DeploymentStatus, DeploymentTarget, EvidenceRef,
    GateResult, ObservedCheckpoint, Predicate, PromotionRequest, RootHash, Snapshot, SourceRef,
    Statement, new_nonce,
};

/// Default decision lifetime when the environment sets no `approval_ttl`.
const DEFAULT_TTL: time::Duration = time::Duration::hours(24);

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
            SyncError::Alarm { .. } => Self::Refused(error.to_string()),
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

    /// Syncs and verifies the whole log; an ALARM is printed here.
    pub fn sync(&self) -> Result<VerifiedLog, CommandError> {
        self.block_on(sync::sync(&self.config, &self.client))
            .map_err(|e| {
                if let SyncError::Alarm { summary, evidence } = &e {
                    eprintln!("{}", messages::alarm(summary, evidence));
                }
                e.into()
            })
    }

    /// My operator name under the policy in force.
    fn me(&self, policy: &Policy) -> Result<String, CommandError> {
        policy
            .operator_for_key(&self.signer().public())
            .map(|o| o.name.clone())
            .ok_or_else(|| {
                CommandError::Refused(messages::not_an_operator(
                    &self.signer().public().to_string(),
                ))
            })
    }

    /// Signs, submits, checks the receipt's inclusion proof and prints both.
    /// Shows exactly what will be signed, then signs and submits a decision
    /// about `artifact` (named `subject` and `label` on screen).
    fn submit_decision(
        &self,
        decision: Decision,
        subject: &str,
        label: &str,
        artifact: Digest,
        what: &str,
    ) -> CommandResult {
        println!("{}", messages::signing_decision(&decision, subject, label));
        self.submit(
            &Statement::about(subject, artifact, Predicate::Decision(decision)),
            what,
        )
    }

    fn submit(&self, statement: &Statement, what: &str) -> CommandResult {
        let envelope = self.signer().sign_statement(statement.to_payload());
        let bytes = envelope.to_json();
        let receipt = self.block_on(self.client.submit(bytes.clone()))?;
        self.check_receipt(&receipt, &bytes)?;
        println!(
            "{}",
            messages::submitted(what, &envelope.entry_id(), &receipt)
        );
        Ok(())
    }

    fn check_receipt(&self, receipt: &Receipt, bytes: &[u8]) -> CommandResult {
        let checkpoint = SignedCheckpoint::parse_and_verify(
            receipt.checkpoint.as_bytes(),
            &self.config.log_vkey,
        )
        .map_err(|e| CommandError::Refused(messages::bad_receipt(&e.to_string())))?;
        let proof = receipt
            .proof()
            .map_err(|e| CommandError::Refused(messages::bad_receipt(&e)))?;
        let c = checkpoint.checkpoint();
        verify_inclusion(receipt.index, c.size, &leaf_hash(bytes), &proof, &c.root)
            .map_err(|e| CommandError::Refused(messages::bad_receipt(&e.to_string())))
    }
}

pub(super) fn parse_digest(text: &str, flag: &str) -> Result<Digest, CommandError> {
    text.parse::<Digest>()
        .map_err(|e| CommandError::Input(anyhow::anyhow!("{flag}: {e}")))
}

fn find_promotion<'s>(
    state: &'s crate::state::State,
    id: &Digest,
) -> Result<&'s Promotion, CommandError> {
    state
        .promotions
        .get(id)
        .ok_or_else(|| CommandError::Refused(Refusal::UnknownPromotion(*id).to_string()))
}

/// Binds a decision to what the local fold shows now.
#[allow(clippy::too_many_arguments)]
fn decision(
    log: &VerifiedLog,
    action: DecisionAction,
    role: String,
    rationale: String,
    ttl: time::Duration,
    gate_results: Digest,
    snapshot: Option<Digest>,
    now: OffsetDateTime,
) -> Decision {
    let checkpoint = log.checkpoint.checkpoint();
    Decision {
        action,
        role,
        rationale,
        issued_at: now,
        expires_at: now + ttl,
        nonce: new_nonce(),
        bound: Binding {
            policy: log.policy().digest(),
            gate_results,
            snapshot,
        },
        observed: ObservedCheckpoint {
            origin: checkpoint.origin.clone(),
            size: checkpoint.size,
            root: RootHash(checkpoint.root),
        },
    }
}

fn env_ttl(policy: &Policy, environment: &str) -> time::Duration {
    policy
        .environment(environment)
        .and_then(|e| e.approval_ttl)
        .and_then(|d| time::Duration::try_from(d).ok())
        .unwrap_or(DEFAULT_TTL)
}

/// The role to act in: the given one (which must be mine and accepted), or
/// the only one of mine that `accepted` lists.
fn pick_role(
    policy: &Policy,
    me: &str,
    given: Option<&str>,
    accepted: &[String],
    action: &'static str,
    environment: &str,
) -> Result<String, CommandError> {
    let refuse = |role: &str| {
        CommandError::Refused(
            Refusal::RoleNotAccepted {
                role: role.to_owned(),
                action,
                environment: environment.to_owned(),
                accepted: accepted.join(", "),
            }
            .to_string(),
        )
    };
    if let Some(role) = given {
        if !policy.has_role(me, role) {
            return Err(CommandError::Refused(
                Refusal::RoleNotHeld {
                    signer: me.to_owned(),
                    role: role.to_owned(),
                }
                .to_string(),
            ));
        }
        if !accepted.iter().any(|a| a == role) {
            return Err(refuse(role));
        }
        return Ok(role.to_owned());
    }
    let mine: Vec<&str> = policy
        .roles_of(me)
        .into_iter()
        .filter(|r| accepted.iter().any(|a| a == r))
        .collect();
    match mine.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(CommandError::Refused(messages::no_acceptable_role(
            me,
            action,
            environment,
            &accepted.join(", "),
        ))),
        several => Err(CommandError::Input(anyhow::anyhow!(
            messages::several_roles(&several.join(", "))
        ))),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, CommandError> {
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
pub enum SnapshotCommand {
    /// Record what runs in an environment: JSON with artifact, config,
    /// flags, dependencies and secret_fingerprints.
    Submit {
        #[arg(long)]
        env: String,
        #[arg(long)]
        service: String,
        file: PathBuf,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Download and verify the whole log against the pinned policy and the
    /// log key, and check it extends the checkpoint seen last time.
    Verify {
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
}

#[derive(Debug, clap::Args)]
pub struct DeployedArgs {
    /// The promotion id, or a rollback decision id.
    promotion: String,
    #[arg(long, value_parser = ["succeeded", "failed"])]
    status: String,
}

#[derive(Debug, clap::Args)]
pub struct DecideArgs {
    /// The promotion id (sha256:…).
    promotion: String,
    /// The role you act in [default: your only role the environment accepts].
    #[arg(long)]
    role: Option<String>,
    #[arg(long)]
    rationale: String,
}

#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The decision id to withdraw.
    decision: String,
    #[arg(long)]
    rationale: String,
    #[arg(long)]
    role: Option<String>,
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
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    #[arg(long)]
    env: String,
    #[arg(long)]
    service: String,
    /// The digest to roll back to [default: the last known good].
    #[arg(long)]
    to: Option<String>,
    #[arg(long)]
    rationale: String,
    #[arg(long)]
    role: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// One promotion id; all promotions when omitted.
    promotion: Option<String>,
    #[arg(long)]
    json: bool,
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
    } = command;
    let artifact = parse_digest(&digest, "--digest")?;
    let session = Session::open(config)?;
    let log = session.sync()?;
    let policy = log.policy();
    let me = session.me(policy)?;
    if !policy.may_sign("promotion-request", &me) {
        return Err(CommandError::Refused(
            Refusal::NotAuthorisedToSign {
                signer: me,
                kind: "promotion-request",
                allowed: policy
                    .signers
                    .get("promotion-request")
                    .map(|r| r.join(", "))
                    .unwrap_or_default(),
            }
            .to_string(),
        ));
    }
    let release_notes = match notes {
        Some(path) => {
            let bytes = read_file(&path)?;
            let receipt = session.block_on(session.client.put_evidence(bytes, "text/markdown"))?;
            Some(receipt.digest)
        }
        None => None,
    };
    let statement = Statement::about(
        &service,
        artifact,
        Predicate::PromotionRequest(PromotionRequest {
            service: service.clone(),
            version,
            from,
            to,
            source: SourceRef { repo, commit },
            release_notes,
            requested_at: OffsetDateTime::now_utc(),
            nonce: new_nonce(),
        }),
    );
    session.submit(&statement, "promotion request")
}

pub fn gate(config: Option<&Path>, command: GateCommand) -> CommandResult {
    let GateCommand::Submit {
        promotion,
        gate,
        status,
        summary,
        files,
    } = command;
    let id = parse_digest(&promotion, "PROMOTION")?;
    // Read and judge before anything is uploaded: bad input changes nothing.
    let loaded = super::gate::Loaded::read(&files)?;
    let session = Session::open(config)?;
    let log = session.sync()?;
    let state = log.state_at(OffsetDateTime::now_utc());
    let p = find_promotion(&state, &id)?;
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
        let media = input
            .format
            .map_or("application/octet-stream", |f| f.media_type());
        let receipt = session.block_on(session.client.put_evidence(file.bytes.to_vec(), media))?;
        evidence.push(EvidenceRef {
            kind: gate.clone(),
            media_type: media.to_owned(),
            digest: receipt.digest,
        });
    }
    let evaluator = status
        .is_none()
        .then(|| crate::evidence::EVALUATOR_VERSION.to_owned());
    let statement = Statement::about(
        &p.request.service,
        p.artifact,
        Predicate::GateResult(GateResult {
            promotion: id,
            gate,
            status: verdict.status,
            summary: summary.unwrap_or(verdict.summary),
            measurements: verdict.measurements,
            evidence,
            remediation: verdict.remediation,
            produced_at: OffsetDateTime::now_utc(),
            evaluator,
        }),
    );
    session.submit(&statement, "gate result")
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotFile {
    artifact: Digest,
    #[serde(default)]
    config: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    flags: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    dependencies: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    secret_fingerprints: std::collections::BTreeMap<String, String>,
}

pub fn snapshot(config: Option<&Path>, command: SnapshotCommand) -> CommandResult {
    let SnapshotCommand::Submit { env, service, file } = command;
    let bytes = read_file(&file)?;
    let parsed: SnapshotFile =
        serde_json::from_slice(&bytes).with_context(|| messages::snapshot_file_invalid(&file))?;
    let session = Session::open(config)?;
    let statement = Statement::about(
        &service,
        parsed.artifact,
        Predicate::Snapshot(Snapshot {
            environment: env,
            service: service.clone(),
            captured_at: OffsetDateTime::now_utc(),
            artifact: parsed.artifact,
            config: parsed.config,
            flags: parsed.flags,
            dependencies: parsed.dependencies,
            secret_fingerprints: parsed.secret_fingerprints,
        }),
    );
    session.submit(&statement, "snapshot")
}

pub fn deployed(config: Option<&Path>, args: &DeployedArgs) -> CommandResult {
    let id = parse_digest(&args.promotion, "PROMOTION")?;
    let status = if args.status == "succeeded" {
        DeploymentStatus::Succeeded
    } else {
        DeploymentStatus::Failed
    };
    let session = Session::open(config)?;
    let log = session.sync()?;
    let state = log.state_at(OffsetDateTime::now_utc());
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
    session.submit(&statement, "deployment")
}

pub fn approve_or_reject(config: Option<&Path>, args: &DecideArgs, approve: bool) -> CommandResult {
    let id = parse_digest(&args.promotion, "PROMOTION")?;
    let session = Session::open(config)?;
    let log = session.sync()?;
    let now = OffsetDateTime::now_utc();
    let state = log.state_at(now);
    let policy = log.policy();
    let me = session.me(policy)?;
    let p = find_promotion(&state, &id)?;
    let env = policy.environment(&p.request.to).ok_or_else(|| {
        CommandError::Refused(Refusal::UnknownEnvironment(p.request.to.clone()).to_string())
    })?;
    let accepted: Vec<String> = env.approvals.iter().map(|a| a.role.clone()).collect();
    let action_name = if approve { "approve" } else { "reject" };
    let role = pick_role(
        policy,
        &me,
        args.role.as_deref(),
        &accepted,
        action_name,
        &env.name,
    )?;
    if approve && p.requested_by == me {
        return Err(CommandError::Refused(
            Refusal::SelfApproval { signer: me, role }.to_string(),
        ));
    }
    let action = if approve {
        DecisionAction::Approve { promotion: id }
    } else {
        DecisionAction::Reject { promotion: id }
    };
    let d = decision(
        &log,
        action,
        role,
        args.rationale.clone(),
        env_ttl(policy, &env.name),
        gate_results_digest(p),
        log.folder.current_snapshot(p),
        now,
    );
    session.submit_decision(
        d,
        &p.request.service,
        &p.request.version,
        p.artifact,
        action_name,
    )
}

pub fn revoke(config: Option<&Path>, args: &RevokeArgs) -> CommandResult {
    let target = parse_digest(&args.decision, "DECISION")?;
    let session = Session::open(config)?;
    let log = session.sync()?;
    let now = OffsetDateTime::now_utc();
    let state = log.state_at(now);
    let policy = log.policy();
    let me = session.me(policy)?;
    let record = state
        .decisions
        .get(&target)
        .ok_or_else(|| CommandError::Refused(Refusal::UnknownDecision(target).to_string()))?;
    let admin = policy.has_role(&me, &policy.admins.role);
    if record.signer != me && !admin {
        return Err(CommandError::Refused(
            Refusal::NotYourDecision {
                decision: target,
                owner: record.signer.clone(),
            }
            .to_string(),
        ));
    }
    let role = match &args.role {
        Some(role) => role.clone(),
        None if record.signer == me && policy.has_role(&me, &record.decision.role) => {
            record.decision.role.clone()
        }
        None => policy.admins.role.clone(),
    };
    if !policy.has_role(&me, &role) {
        return Err(CommandError::Refused(
            Refusal::RoleNotHeld { signer: me, role }.to_string(),
        ));
    }
    let d = decision(
        &log,
        DecisionAction::Revoke { decision: target },
        role,
        args.rationale.clone(),
        DEFAULT_TTL,
        Digest::of(b""),
        None,
        now,
    );
    session.submit_decision(d, "decision", &target.short(), record.artifact, "revoke")
}

pub fn waive(config: Option<&Path>, args: &WaiveArgs) -> CommandResult {
    let id = parse_digest(&args.promotion, "PROMOTION")?;
    let length = humantime::parse_duration(&args.until)
        .map_err(|e| CommandError::Input(anyhow::anyhow!("--until {:?}: {e}", args.until)))?;
    let length = time::Duration::try_from(length)
        .map_err(|e| CommandError::Input(anyhow::anyhow!("--until {:?}: {e}", args.until)))?;
    let session = Session::open(config)?;
    let log = session.sync()?;
    let now = OffsetDateTime::now_utc();
    let state = log.state_at(now);
    let policy = log.policy();
    let me = session.me(policy)?;
    let p = find_promotion(&state, &id)?;
    let rule = policy
        .gates
        .get(&args.gate)
        .and_then(|g| g.waivable_by.as_ref())
        .ok_or_else(|| {
            CommandError::Refused(Refusal::NotWaivable(args.gate.clone()).to_string())
        })?;
    let role = pick_role(
        policy,
        &me,
        args.role.as_deref(),
        std::slice::from_ref(&rule.role),
        "waive",
        &p.request.to,
    )?;
    let d = decision(
        &log,
        DecisionAction::Waive {
            promotion: id,
            gate: args.gate.clone(),
            until: now + length,
        },
        role,
        args.rationale.clone(),
        length,
        gate_results_digest(p),
        log.folder.current_snapshot(p),
        now,
    );
    session.submit_decision(
        d,
        &p.request.service,
        &p.request.version,
        p.artifact,
        "waive",
    )
}

pub fn rollback(config: Option<&Path>, args: &RollbackArgs) -> CommandResult {
    let session = Session::open(config)?;
    let log = session.sync()?;
    let now = OffsetDateTime::now_utc();
    let state = log.state_at(now);
    let policy = log.policy();
    let me = session.me(policy)?;
    let env = policy.environment(&args.env).ok_or_else(|| {
        CommandError::Refused(Refusal::UnknownEnvironment(args.env.clone()).to_string())
    })?;
    let rule = env.rollback.as_ref().ok_or_else(|| {
        CommandError::Refused(Refusal::RollbackNotAllowed(args.env.clone()).to_string())
    })?;
    let role = pick_role(
        policy,
        &me,
        args.role.as_deref(),
        &rule.roles,
        "roll back",
        &env.name,
    )?;
    let service = state.service(&args.env, &args.service);
    let from = service
        .and_then(|s| s.running.as_ref())
        .map(|r| r.artifact)
        .ok_or_else(|| {
            CommandError::Refused(messages::nothing_running(&args.env, &args.service))
        })?;
    let to = match &args.to {
        Some(text) => parse_digest(text, "--to")?,
        None => service
            .and_then(|s| s.last_known_good())
            .map(|r| r.artifact)
            .ok_or_else(|| {
                CommandError::Refused(messages::no_known_good(&args.env, &args.service))
            })?,
    };
    let d = decision(
        &log,
        DecisionAction::Rollback {
            environment: args.env.clone(),
            service: args.service.clone(),
            from,
            to,
        },
        role,
        args.rationale.clone(),
        env_ttl(policy, &env.name),
        Digest::of(b""),
        service.and_then(|s| s.snapshot),
        now,
    );
    session.submit_decision(d, &args.service, &to.short(), to, "rollback")
}

pub fn status(config: Option<&Path>, args: &StatusArgs) -> CommandResult {
    let session = Session::open(config)?;
    let log = session.sync()?;
    let state = log.state_at(OffsetDateTime::now_utc());
    let promotions: Vec<&Promotion> = match &args.promotion {
        Some(text) => vec![find_promotion(&state, &parse_digest(text, "PROMOTION")?)?],
        None => state.promotions_in_order().collect(),
    };
    if args.json {
        let list: Vec<_> = promotions
            .iter()
            .map(|p| messages::promotion_json(p))
            .collect();
        let checkpoint = log.checkpoint.checkpoint();
        let value = serde_json::json!({
            "log": {"origin": checkpoint.origin, "size": checkpoint.size,
                    "root": crate::encoding::encode(&checkpoint.root)},
            "policy": {"version": log.policy().version, "digest": log.policy().digest().to_string()},
            "promotions": list,
        });
        println!("{value:#}");
    } else if promotions.is_empty() {
        println!("{}", messages::no_promotions());
    } else {
        for p in &promotions {
            println!("{}", messages::promotion_text(p));
        }
    }
    // A single promotion that is not ready is a blocked verdict: exit 1.
    if args.promotion.is_some()
        && promotions.first().is_some_and(|p| {
            !p.blockers.is_empty() && p.status == crate::state::PromotionStatus::Waiting
        })
    {
        return Err(CommandError::Refused(messages::blocked()));
    }
    Ok(())
}

pub fn log(config: Option<&Path>, command: &LogCommand) -> CommandResult {
    let session = Session::open(config)?;
    match command {
        LogCommand::Verify { json } => {
            let log = session.sync()?;
            let c = log.checkpoint.checkpoint();
            let state = log.state_at(OffsetDateTime::now_utc());
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
                });
                println!("{value:#}");
            } else {
                println!("{}", messages::log_verified(&log, state.ignored.len()));
            }
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
    println!(
        "{}",
        messages::submitted(
            &format!("policy version {}", next.version),
            &envelope.entry_id(),
            &receipt
        )
    );
    Ok(())
}

/// `init`: a key, a starter policy with that key as an operator, and a
/// client configuration with placeholders.
pub fn init(config: Option<&Path>, name: &str, force: bool) -> CommandResult {
    let key_path = crate::paths::default_key_file()?;
    let signer = if key_path.exists() && !force {
        file::read(&key_path)?
    } else {
        let signer = Signer::generate(name);
        file::write(&key_path, &signer, force)?;
        signer
    };
    let config_path = match config {
        Some(path) => path.to_path_buf(),
        None => config::default_path().map_err(anyhow::Error::new)?,
    };
    let dir = config_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let policy_path = dir.join("policy.toml");
    if config_path.exists() && !force {
        return Err(CommandError::Input(anyhow::anyhow!(
            "{}: a client configuration already exists; pass --force to replace it",
            config_path.display()
        )));
    }
    let policy_text = format!(
        "{}\n# You, added by `tollgate init`; add yourself to roles below.\n[operators.you]\nkey = \"{}\"\n",
        crate::policy::EXAMPLE_POLICY.trim_end(),
        signer.public()
    );
    let policy_text = policy_text.replace(
        "[roles]\nrelease-manager = [\"alice\", \"erin\"]",
        "[roles]\nrelease-manager = [\"alice\", \"erin\", \"you\"]",
    );
    // Operators must come before [roles] in TOML, so insert there instead.
    let policy_text = move_operator_block(&policy_text);
    let digest = Digest::of(policy_text.as_bytes());
    sync::write_atomic(&policy_path, policy_text.as_bytes()).map_err(anyhow::Error::new)?;
    sync::write_atomic(
        &config_path,
        config::template(&key_path, &digest).as_bytes(),
    )
    .map_err(anyhow::Error::new)?;
    println!(
        "{}",
        messages::init_done(&key_path, &policy_path, &config_path)
    );
    Ok(())
}

/// Moves the appended `[operators.you]` block up to the operators section.
fn move_operator_block(text: &str) -> String {
    let marker = "\n# You, added by `tollgate init`";
    let Some(at) = text.find(marker) else {
        return text.to_owned();
    };
    let (body, block) = text.split_at(at);
    let anchor = "\n# CI is an operator too";
    match body.find(anchor) {
        Some(pos) => format!(
            "{}{}\n{}\n",
            &body[..pos],
            block.trim_end(),
            &body[pos..].trim_end()
        ),
        None => text.to_owned(),
    }
}
