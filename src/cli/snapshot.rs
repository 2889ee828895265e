//! `tollgate snapshot submit`: capture what an environment runs besides the
//! artifact (configuration, feature flags, dependency versions, image
//! digests, secret fingerprints), sign it and submit it; `tollgate snapshot
//! diff`: compare the latest snapshots of two environments from the
//! verified log.
//!
//! Thin: files are read here, everything else is `drift`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use time::OffsetDateTime;

use super::store::{Session, Submission, parse_digest, read_file};
use super::{CommandError, CommandResult, messages};
use crate::client::sync::VerifiedLog;
use crate::digest::Digest;
use crate::drift::{self, HmacKey, Identity, InputFormat, MAX_CAPTURE_BYTES, Parts};
use crate::envelope::MAX_ENVELOPE_BYTES;
use crate::evidence::{self, EvidenceFile, Format};
use crate::state::{Promotion, State};
use crate::statement::{Predicate, Snapshot, Statement};

#[derive(Debug, clap::Subcommand)]
pub enum SnapshotCommand {
    /// Capture an environment from its configuration files (JSON, YAML,
    /// .env, Kubernetes ConfigMap/Secret), sign it and submit it. Secrets
    /// are recorded as keyed HMAC-SHA256 fingerprints, never values.
    Submit(SubmitArgs),
    /// Compare the latest snapshots of a service in two environments (from
    /// the verified log, or the verified cache when the store is down).
    Diff(DiffArgs),
}

#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// The environment captured (as named in the policy).
    #[arg(long)]
    env: String,
    /// The service whose configuration this is.
    #[arg(long)]
    service: String,
    /// Configuration files: JSON, YAML, .env, or Kubernetes ConfigMap or
    /// Secret manifests (a Secret's values are fingerprinted).
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The format of FILEs when detection (extension, then content) is wrong.
    #[arg(long, value_enum)]
    format: Option<InputFormat>,
    /// Feature flags: a JSON, YAML or .env map of flag names to values.
    #[arg(long, value_name = "FILE")]
    flags: Vec<PathBuf>,
    /// Secrets to fingerprint: .env, a flat JSON/YAML map, or a Kubernetes
    /// Secret. Needs --hmac-key.
    #[arg(long, value_name = "FILE")]
    secrets: Vec<PathBuf>,
    /// The collectors' shared HMAC key (at least 16 bytes); its key id goes
    /// with every fingerprint.
    #[arg(long, value_name = "FILE", env = "TOLLGATE_HMAC_KEY_FILE")]
    hmac_key: Option<PathBuf>,
    /// A CycloneDX or SPDX SBOM of what runs: dependency versions by package.
    #[arg(long, value_name = "FILE")]
    sbom: Option<PathBuf>,
    /// An image that runs, pinned by digest: NAME=sha256:HEX (repeatable).
    #[arg(long, value_name = "NAME=sha256:HEX")]
    image: Vec<String>,
    /// The artifact the snapshot is about [default: what runs in --env per
    /// the verified log].
    #[arg(long, value_name = "sha256:HEX")]
    artifact: Option<String>,
    /// Print the snapshot that would be signed, and submit nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON: entry_id, index and the receipt.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The service to compare.
    #[arg(long)]
    service: String,
    /// The environment compared from (e.g. staging).
    #[arg(long)]
    from: String,
    /// The environment compared to (e.g. prod).
    #[arg(long)]
    to: String,
    /// Leave out these paths (JSON pointers such as /config/replicas).
    #[arg(long, value_name = "POINTER")]
    ignore: Vec<String>,
    /// Print the unified text diff instead of the table.
    #[arg(long, conflicts_with = "json")]
    text: bool,
    /// Print JSON: the rows and the RFC 6902 patch.
    #[arg(long)]
    json: bool,
}

pub fn run(config: Option<&Path>, command: SnapshotCommand) -> CommandResult {
    match command {
        SnapshotCommand::Submit(args) => submit(config, &args),
        SnapshotCommand::Diff(args) => diff(config, &args),
    }
}

fn input(e: impl std::fmt::Display) -> CommandError {
    CommandError::Input(anyhow!("{e}"))
}

/// Reads a capture input, refusing one over the size limit before reading it.
fn read_input(path: &Path) -> Result<Vec<u8>, CommandError> {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    if size > MAX_CAPTURE_BYTES as u64 {
        return Err(input(drift::DriftError::TooLarge {
            name: path.display().to_string(),
            size: usize::try_from(size).unwrap_or(usize::MAX),
        }));
    }
    read_file(path)
}

/// Reads and captures every input; nothing is contacted yet.
fn capture(args: &SubmitArgs) -> Result<(Parts, Option<HmacKey>), CommandError> {
    if args.files.is_empty()
        && args.flags.is_empty()
        && args.secrets.is_empty()
        && args.sbom.is_none()
        && args.image.is_empty()
    {
        return Err(input(messages::snapshot_nothing()));
    }
    let mut parts = Parts::default();
    for path in &args.files {
        let name = path.display().to_string();
        let captured =
            drift::capture::parse(&name, &read_input(path)?, args.format).map_err(input)?;
        parts.add_config(&name, captured).map_err(input)?;
    }
    for path in &args.flags {
        let name = path.display().to_string();
        let captured = drift::capture::parse(&name, &read_input(path)?, None).map_err(input)?;
        parts.add_flags(&name, captured).map_err(input)?;
    }
    for path in &args.secrets {
        let name = path.display().to_string();
        let secrets =
            drift::capture::parse_secrets(&name, &read_input(path)?, None).map_err(input)?;
        parts.add_secrets(&name, secrets).map_err(input)?;
    }
    if let Some(path) = &args.sbom {
        let name = path.display().to_string();
        let bytes = super::gate::read_evidence(path)?;
        let file = EvidenceFile {
            name: &name,
            bytes: &bytes,
        };
        let components = match evidence::detect(&file).map_err(input)? {
            Format::CycloneDx => evidence::sbom::parse_cyclonedx(&file),
            Format::Spdx => evidence::sbom::parse_spdx(&file),
            other => {
                return Err(input(messages::snapshot_not_sbom(
                    &name,
                    other.with_article(),
                )));
            }
        }
        .map_err(input)?;
        parts.add_dependencies(
            components
                .iter()
                .map(|c| (c.name.as_str(), c.purl.as_deref(), c.version.as_str())),
        );
    }
    for image in &args.image {
        let (name, digest) = image
            .split_once('=')
            .ok_or_else(|| input(messages::snapshot_bad_image(image, &"no `=`")))?;
        let digest: Digest = digest
            .parse()
            .map_err(|e| input(messages::snapshot_bad_image(image, &e)))?;
        parts.images.insert(name.to_owned(), digest);
    }
    let key = match &args.hmac_key {
        Some(path) => {
            let bytes = zeroize::Zeroizing::new(read_file(path)?);
            Some(HmacKey::new(&path.display().to_string(), &bytes).map_err(input)?)
        }
        None => None,
    };
    Ok((parts, key))
}

fn submit(config: Option<&Path>, args: &SubmitArgs) -> CommandResult {
    // Every input is read and captured before anything is signed or sent:
    // bad input changes nothing.
    let (parts, key) = capture(args)?;
    let artifact = args
        .artifact
        .as_deref()
        .map(|a| parse_digest(a, "--artifact"))
        .transpose()?;
    let session = if args.dry_run && artifact.is_some() {
        None
    } else {
        Some(Session::open(config)?)
    };
    let artifact = match (artifact, &session) {
        (Some(a), _) => a,
        (None, Some(session)) => {
            let log = session.view()?;
            let state = log.state_at(OffsetDateTime::now_utc());
            state
                .service(&args.env, &args.service)
                .and_then(|s| s.running.as_ref())
                .map(|r| r.artifact)
                .ok_or_else(|| input(messages::snapshot_no_artifact(&args.env, &args.service)))?
        }
        (None, None) => {
            return Err(input(messages::snapshot_no_artifact(
                &args.env,
                &args.service,
            )));
        }
    };
    let snapshot = parts
        .into_snapshot(
            Identity {
                environment: args.env.clone(),
                service: args.service.clone(),
                artifact,
                captured_at: OffsetDateTime::now_utc(),
            },
            key.as_ref(),
        )
        .map_err(input)?;
    let statement = Statement::about(&args.service, artifact, Predicate::Snapshot(snapshot));
    let payload = statement.to_payload();
    // DSSE carries the payload in base64, with the signature and key id.
    let envelope_size = payload.len().div_ceil(3) * 4 + 512;
    if envelope_size > MAX_ENVELOPE_BYTES {
        return Err(input(messages::snapshot_too_large(
            payload.len(),
            MAX_ENVELOPE_BYTES,
        )));
    }
    if let Err(e) = Statement::parse_verified(&payload) {
        return Err(input(messages::snapshot_invalid(&e)));
    }
    let Some(session) = session.filter(|_| !args.dry_run) else {
        println!("{}", String::from_utf8_lossy(&payload));
        return Ok(());
    };
    let summary = statement.summary();
    session.submit(
        &statement,
        &Submission {
            what: "snapshot",
            summary: &summary,
            promotion_id: None,
            json: args.json,
        },
    )
}

fn diff(config: Option<&Path>, args: &DiffArgs) -> CommandResult {
    for pointer in &args.ignore {
        if let Some(problem) = drift::normalise::pointer_problem(pointer) {
            return Err(input(format!("--ignore: {problem}")));
        }
    }
    let session = Session::open(config)?;
    let log = session.view()?;
    let entries = log
        .entries
        .all()
        .map_err(crate::client::sync::SyncError::from)?;
    let state = log.state_at(OffsetDateTime::now_utc());
    let found = |env: &str| -> Result<&Snapshot, CommandError> {
        drift::latest(&state, entries, env, &args.service)
            .and_then(|e| match &e.statement.predicate {
                Predicate::Snapshot(s) => Some(s),
                _ => None,
            })
            .ok_or_else(|| CommandError::Refused(messages::snapshot_missing(env, &args.service)))
    };
    let from = found(&args.from)?;
    let to = found(&args.to)?;
    let comparison = drift::compare(from, to, &args.ignore);
    if args.json {
        let text = serde_json::to_string_pretty(&comparison).map_err(input)?;
        println!("{text}");
    } else if args.text {
        print!("{}", comparison.unified());
    } else {
        print!("{}", table(&comparison));
    }
    Ok(())
}

/// The drift table: `path | FROM | TO | change`, columns sized to fit.
pub fn table(c: &drift::Comparison) -> String {
    use std::fmt::Write as _;
    if c.rows.is_empty() {
        return messages::snapshot_no_drift(&c.service, &c.from_env, &c.to_env);
    }
    let cells: Vec<[String; 4]> = c
        .rows
        .iter()
        .map(|r| {
            [
                r.path.clone(),
                drift::Row::cell(r.from.as_ref()),
                drift::Row::cell(r.to.as_ref()),
                r.change.as_str().to_owned(),
            ]
        })
        .collect();
    let header = [
        "path".to_owned(),
        c.from_env.clone(),
        c.to_env.clone(),
        "change".to_owned(),
    ];
    let mut widths = BTreeMap::new();
    for row in std::iter::once(&header).chain(&cells) {
        for (i, cell) in row.iter().enumerate() {
            let w = widths.entry(i).or_insert(0);
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&cells) {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| format!("{cell:<w$}", w = widths[&i]))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

/// For a drift gate: the latest snapshots of the promotion's service in its
/// reference environment and its target, from the verified log (see
/// [`drift::bound_snapshots`]); a missing one is named on stderr. `None`
/// when `gate` is not a drift gate.
pub(super) fn bound_snapshots(
    log: &VerifiedLog,
    state: &State,
    promotion: &Promotion,
    gate: &str,
) -> Option<super::gate::Loaded> {
    let bound = drift::bound_snapshots(
        log.policy(),
        state,
        log.entries.all().ok()?,
        promotion,
        gate,
    )?;
    for env in &bound.missing {
        eprintln!(
            "{}",
            messages::snapshot_missing(env, &promotion.request.service)
        );
    }
    let (names, contents) = bound.files.into_iter().unzip();
    Some(super::gate::Loaded::from_parts(names, contents))
}
