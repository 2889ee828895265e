//! `tollgate gate eval`: judge evidence files against a gate of a policy,
//! offline, exactly as `gate submit` would. Exit 0 when the gate passes or
//! warns, 1 when it blocks, 2 when evidence or policy cannot be read.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};

use super::{CommandError, CommandResult, store};
use crate::digest::Digest;
use crate::evidence::{self, Context, EvidenceFile, MAX_EVIDENCE_BYTES, Verdict};
use crate::policy::GateKind;
use crate::statement::GateStatus;

#[derive(Debug, clap::Subcommand)]
pub enum GateCommand {
    /// Evaluate evidence files against a gate of a policy file, offline (a
    /// dry run for CI): prints the verdict, reasons and remediation; exits 1
    /// when the gate blocks, 2 when input cannot be read.
    Eval(EvalArgs),
    /// Re-run each gate of a promotion from the evidence blobs in the store
    /// and report gate results whose signed status differs (disputes);
    /// exits 1 when any gate is disputed.
    Recheck(RecheckArgs),
    #[command(flatten)]
    Store(store::GateCommand),
}

#[derive(Debug, clap::Args)]
pub struct RecheckArgs {
    /// The promotion id (sha256:…).
    promotion: String,
    /// Only this gate.
    #[arg(long)]
    gate: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The gate, as named under [gates.NAME] in the policy.
    #[arg(long)]
    gate: String,
    /// The policy file (TOML).
    #[arg(long, value_name = "F")]
    policy: PathBuf,
    /// The promoted artifact's digest, for provenance subjects and VEX products.
    #[arg(long, value_name = "sha256:HEX")]
    artifact: Option<String>,
    /// For a manual gate only: the status a person states.
    #[arg(long, value_parser = ["pass", "fail", "warn", "error"])]
    status: Option<String>,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
    /// Evidence files; the format of each is detected from its content.
    files: Vec<PathBuf>,
}

pub fn run(config: Option<&Path>, command: GateCommand) -> CommandResult {
    match command {
        GateCommand::Eval(args) => eval(&args),
        GateCommand::Recheck(args) => recheck(config, &args),
        GateCommand::Store(command) => store::gate(config, command),
    }
}

/// Reads an evidence file, refusing one over the size limit before reading it.
pub(super) fn read_evidence(path: &Path) -> Result<Vec<u8>, CommandError> {
    let input = |e: anyhow::Error| CommandError::Input(e);
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read evidence file {}", path.display()))
        .map_err(input)?;
    let size = file.metadata().map_or(0, |m| m.len());
    if size > MAX_EVIDENCE_BYTES as u64 {
        return Err(input(anyhow!(
            "{}: the file is {size} bytes; evidence is limited to {MAX_EVIDENCE_BYTES} bytes. Split the report or submit a summary",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_EVIDENCE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read evidence file {}", path.display()))
        .map_err(input)?;
    Ok(bytes)
}

fn parse_status(text: &str) -> GateStatus {
    match text {
        "pass" => GateStatus::Pass,
        "fail" => GateStatus::Fail,
        "warn" => GateStatus::Warn,
        _ => GateStatus::Error,
    }
}

/// Evidence files read from disk, named as given.
#[derive(Debug)]
pub(super) struct Loaded {
    names: Vec<String>,
    contents: Vec<Vec<u8>>,
}

impl Loaded {
    pub(super) fn read(paths: &[PathBuf]) -> Result<Self, CommandError> {
        Ok(Self {
            names: paths.iter().map(|p| p.display().to_string()).collect(),
            contents: paths
                .iter()
                .map(|p| read_evidence(p))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Evidence taken from somewhere other than files (snapshots from the
    /// verified log).
    pub(super) fn from_parts(names: Vec<String>, contents: Vec<Vec<u8>>) -> Self {
        Self { names, contents }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub(super) fn files(&self) -> Vec<EvidenceFile<'_>> {
        self.names
            .iter()
            .zip(&self.contents)
            .map(|(name, bytes)| EvidenceFile { name, bytes })
            .collect()
    }
}

/// Computes the verdict of `gate` in `policy` for `files`, honouring
/// `--status` for manual gates only.
pub(super) fn verdict(
    policy: &crate::policy::Policy,
    gate_name: &str,
    files: &[EvidenceFile<'_>],
    artifact: Option<&Digest>,
    status: Option<&str>,
) -> Result<Verdict, CommandError> {
    let gate = policy.gate(gate_name).ok_or_else(|| {
        let names: Vec<&str> = policy.gates.keys().map(String::as_str).collect();
        CommandError::Input(anyhow!(
            "the policy has no gate `{gate_name}`; its gates are: {}",
            names.join(", ")
        ))
    })?;
    if gate.kind != GateKind::Manual && status.is_some() {
        return Err(CommandError::Input(anyhow!(
            "gate `{gate_name}` is a `{}` gate: its status is computed from the evidence, so --status is refused (only manual gates take --status)",
            gate.kind
        )));
    }
    let ctx = Context { artifact };
    let mut verdict = evidence::evaluate_gate(gate, files, ctx);
    if gate.kind == GateKind::Manual {
        let Some(status) = status else {
            return Err(CommandError::Input(anyhow!(
                "gate `{gate_name}` is a manual gate: state its status with --status pass|fail|warn|error"
            )));
        };
        verdict.status = parse_status(status);
        verdict.summary = format!("stated by a person: {status}");
        verdict.unreadable = false;
        verdict.remediation = if verdict.status == GateStatus::Pass {
            None
        } else {
            gate.remediation.clone()
        };
    }
    Ok(verdict)
}

fn eval(args: &EvalArgs) -> CommandResult {
    let policy =
        crate::policy::check_file(&args.policy).map_err(|e| CommandError::Input(anyhow!("{e}")))?;
    let artifact = args
        .artifact
        .as_deref()
        .map(|a| {
            a.parse::<Digest>().map_err(|e| {
                CommandError::Input(anyhow!(
                    "--artifact {a}: {e}; expected sha256:<64 hex digits>"
                ))
            })
        })
        .transpose()?;
    let loaded = Loaded::read(&args.files)?;
    let verdict = verdict(
        &policy,
        &args.gate,
        &loaded.files(),
        artifact.as_ref(),
        args.status.as_deref(),
    )?;
    if args.json {
        let text = serde_json::to_string_pretty(&verdict)
            .map_err(|e| CommandError::Input(anyhow!("cannot print the verdict: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", render(&args.gate, &verdict));
    }
    outcome(&args.gate, &verdict)
}

/// Maps a verdict onto the exit-code contract.
pub(super) fn outcome(gate: &str, verdict: &Verdict) -> CommandResult {
    match verdict.status {
        GateStatus::Pass | GateStatus::Warn => Ok(()),
        GateStatus::Fail => Err(CommandError::Refused(format!(
            "gate `{gate}` blocks: {}",
            verdict.summary
        ))),
        GateStatus::Error => Err(CommandError::Input(anyhow!(
            "gate `{gate}` could not be evaluated: {}",
            verdict.summary
        ))),
    }
}

pub(super) fn render(gate: &str, v: &Verdict) -> String {
    use std::fmt::Write as _;
    let status = match v.status {
        GateStatus::Pass => "PASS",
        GateStatus::Fail => "FAIL",
        GateStatus::Warn => "WARN",
        GateStatus::Error => "ERROR",
    };
    let mut out = format!("gate {gate}: {status} — {}\n", v.summary);
    for input in &v.inputs {
        let format = input.format.map_or("unknown format", |f| f.as_str());
        let _ = writeln!(
            out,
            "  evidence: {} ({format}, {})",
            input.name, input.digest
        );
    }
    for m in &v.measurements {
        let _ = match m.threshold {
            Some(t) => writeln!(out, "  measured: {} = {} (threshold {t})", m.name, m.value),
            None => writeln!(out, "  measured: {} = {}", m.name, m.value),
        };
    }
    for r in &v.reasons {
        let _ = writeln!(out, "  - {r}");
    }
    if let Some(r) = &v.remediation {
        let _ = writeln!(out, "  remediation: {r}");
    }
    let _ = writeln!(out, "  evaluator: {}", v.evaluator);
    out
}

/// What a recheck found for one gate, from the session's re-judgement
/// (`client::evidence`, the same one every state readiness counts); `Some`
/// when the gate's stated verdict is not confirmed.
fn recheck_gate(name: &str, gate: &crate::state::GateState) -> Option<String> {
    use crate::state::Rejudgement;
    let Some(latest) = &gate.latest else {
        println!("gate {name}: no result yet");
        return None;
    };
    let signed = latest.result.status;
    match &gate.rejudged {
        None => {
            println!("gate {name}: stated by a person ({signed:?}); nothing to recompute");
            None
        }
        Some(Rejudgement::Agrees) => {
            println!(
                "gate {name}: agrees ({signed:?}, entry {}): {}",
                latest.id, latest.result.summary
            );
            None
        }
        Some(Rejudgement::Disputed {
            computed,
            evaluator,
            summary,
            ..
        }) => Some(format!(
            "gate {name}: DISPUTED: entry {} signed by {} says {signed:?}, but {evaluator} computes {computed:?} from its {} evidence file(s): {summary}",
            latest.id,
            latest.signer,
            latest.result.evidence.len(),
        )),
        Some(Rejudgement::EvidenceMissing { digests }) => Some(format!(
            "gate {name}: NOT RECHECKED: the store holds no evidence {} that entry {} cites",
            digests
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            latest.id
        )),
        Some(Rejudgement::NotRejudged { problem }) => {
            Some(format!("gate {name}: NOT RECHECKED: {problem}"))
        }
    }
}

fn recheck(config: Option<&Path>, args: &RecheckArgs) -> CommandResult {
    let id = store::parse_digest(&args.promotion, "PROMOTION")?;
    let session = store::Session::open(config)?;
    let log = session.sync()?;
    let state = log.state_at(time::OffsetDateTime::now_utc());
    let promotion = state
        .promotions
        .get(&id)
        .ok_or_else(|| CommandError::Refused(format!("no promotion {id} in the verified log")))?;
    if let Some(name) = &args.gate
        && !promotion.gates.contains_key(name)
    {
        return Err(CommandError::Input(anyhow!(
            "promotion {id} has no gate `{name}`"
        )));
    }
    let mut disputes = Vec::new();
    for (name, gate) in &promotion.gates {
        if args.gate.as_ref().is_some_and(|g| g != name) {
            continue;
        }
        if let Some(dispute) = recheck_gate(name, gate) {
            println!("{dispute}");
            disputes.push(name.clone());
        }
    }
    if disputes.is_empty() {
        Ok(())
    } else {
        Err(CommandError::Refused(format!(
            "gate(s) whose signed verdict the evidence does not confirm: {}",
            disputes.join(", ")
        )))
    }
}
