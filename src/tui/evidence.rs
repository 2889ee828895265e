//! The evidence pane's view model (issue 9 §6): the documents behind each
//! gate result, parsed by kind into rows: failing tests, findings, licence
//! verdicts, a provenance summary, performance budgets, and the raw JSON
//! pretty-printed, folded and unfolded.
//!
//! Built by the client task for the promotion on screen
//! ([`super::detail`]) from the blobs the client layer fetched and checked
//! (`client::evidence`), with the policy's gate settings; pure, and the
//! render path only reads it. [`Models`] keeps each gate result's
//! model across polls, since it never changes for one entry and policy.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::Value;

use crate::client::evidence::{Blob, Blobs};
use crate::digest::Digest;
use crate::evidence::junit::Outcome;
use crate::evidence::license::{Judgement, LicensePolicy};
use crate::evidence::{EvidenceFile, Format, detect, junit, perf, provenance, sarif, sbom, vex};
use crate::policy::Policy;
use crate::policy::gates::{GateSettings, ProvenanceSettings};
use crate::state::{GateRecord, Promotion, Rejudgement};
use crate::statement::GateStatus;

/// Rows kept per table; the pane says how many more there are.
pub const MAX_ROWS: usize = 50;
/// Lines of raw JSON kept unfolded.
pub const MAX_RAW_LINES: usize = 400;

/// The evidence of one gate result.
#[derive(Debug, Clone, PartialEq)]
pub struct GateEvidence {
    pub gate: String,
    pub entry: Digest,
    pub signer: String,
    pub stated: GateStatus,
    pub rejudged: Option<Rejudgement>,
    pub documents: Vec<Document>,
}

/// Whether the document's bytes were had and matched their digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// Fetched (or cached) and its sha256 is the digest the signed gate
    /// result cites.
    Verified,
    /// The store does not hold it.
    Missing,
    Unavailable(String),
}

/// One evidence document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub digest: Digest,
    pub size: usize,
    pub format: Option<Format>,
    pub fetched: Fetched,
    pub detail: Detail,
    /// Pretty-printed JSON with nested containers folded to one line.
    pub raw_folded: Vec<String>,
    /// Pretty-printed JSON in full (at most [`MAX_RAW_LINES`]).
    pub raw_open: Vec<String>,
}

/// What a document says, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    /// Nothing to show (not fetched).
    Nothing,
    /// It could not be read; the message says why.
    Unreadable(String),
    Tests {
        summary: String,
        failing: Vec<FailingTest>,
        more: u64,
    },
    Findings {
        rows: Vec<FindingRow>,
        more: usize,
    },
    Licenses {
        components: usize,
        /// Whether the gate's licence policy judged them; when not, every
        /// component is listed.
        judged: bool,
        rows: Vec<LicenseRow>,
        more: usize,
    },
    Provenance(ProvenanceSummary),
    Budgets(Vec<BudgetRow>),
    Vex(Vec<VexRow>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FailingTest {
    pub name: String,
    pub errored: bool,
    pub message: String,
    pub time: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    pub severity: String,
    pub rule: String,
    pub location: String,
    pub message: String,
    pub suppression: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseRow {
    pub component: String,
    pub verdict: &'static str,
    /// The clause that failed.
    pub clause: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenanceSummary {
    pub builder: String,
    /// `repo@commit`.
    pub source: String,
    pub signature_verified: bool,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BudgetRow {
    pub metric: String,
    pub value: Option<f64>,
    pub budget: Option<String>,
    pub within: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexRow {
    pub ids: String,
    pub status: String,
    pub reason: String,
}

/// What the person did to the Evidence tab.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaneState {
    /// The raw JSON is shown in full rather than folded.
    pub unfolded: bool,
    /// Lines scrolled down.
    pub scroll: usize,
}

/// Every gate result's model, by gate result entry id.
pub type Evidence = BTreeMap<Digest, Arc<GateEvidence>>;

/// Models kept across polls: (gate result id, policy digest, whether its
/// blobs were all had) → model.
#[derive(Debug, Default)]
pub struct Models {
    kept: HashMap<(Digest, Digest), Arc<GateEvidence>>,
}

impl Models {
    /// The models of `p`'s latest gate results (`p` carries this
    /// client's re-judgements), from `blobs`.
    pub fn of_promotion(&mut self, policy: &Policy, p: &Promotion, blobs: &Blobs) -> Evidence {
        let mut out = Evidence::new();
        self.add(policy, p, blobs, &mut out);
        out
    }

    /// Adds the models of `p`'s latest gate results to `out`.
    fn add(&mut self, policy: &Policy, p: &Promotion, blobs: &Blobs, out: &mut Evidence) {
        let policy_digest = policy.digest();
        for gate in p.gates.values() {
            let Some(latest) = &gate.latest else {
                continue;
            };
            let key = (latest.id, policy_digest);
            let model = match self.kept.get(&key) {
                Some(m) if m.rejudged == gate.rejudged => Arc::clone(m),
                _ => {
                    let m = Arc::new(gate_evidence(
                        policy,
                        &p.artifact,
                        latest,
                        gate.rejudged.clone(),
                        blobs,
                    ));
                    let complete = m.documents.iter().all(|d| d.fetched == Fetched::Verified);
                    if complete {
                        self.kept.insert(key, Arc::clone(&m));
                    }
                    m
                }
            };
            out.insert(latest.id, model);
        }
    }
}

/// The model of one gate result.
pub fn gate_evidence(
    policy: &Policy,
    artifact: &Digest,
    record: &GateRecord,
    rejudged: Option<Rejudgement>,
    blobs: &Blobs,
) -> GateEvidence {
    let settings = policy
        .gate(&record.result.gate)
        .and_then(|g| g.typed_settings().ok());
    let documents = record
        .result
        .evidence
        .iter()
        .map(|e| match blobs.get(&e.digest) {
            Some(Blob::Found(bytes)) => document(e.digest, bytes, settings.as_ref(), artifact),
            Some(Blob::Missing) => unfetched(e.digest, Fetched::Missing),
            Some(Blob::Unavailable(why)) => unfetched(e.digest, Fetched::Unavailable(why.clone())),
            None => unfetched(e.digest, Fetched::Unavailable("not fetched yet".to_owned())),
        })
        .collect();
    GateEvidence {
        gate: record.result.gate.clone(),
        entry: record.id,
        signer: record.signer.clone(),
        stated: record.result.status,
        rejudged,
        documents,
    }
}

fn unfetched(digest: Digest, fetched: Fetched) -> Document {
    Document {
        digest,
        size: 0,
        format: None,
        fetched,
        detail: Detail::Nothing,
        raw_folded: Vec::new(),
        raw_open: Vec::new(),
    }
}

/// The model of one fetched document.
pub fn document(
    digest: Digest,
    bytes: &[u8],
    settings: Option<&GateSettings>,
    artifact: &Digest,
) -> Document {
    let name = digest.short();
    let file = EvidenceFile { name: &name, bytes };
    let format = detect(&file).ok();
    let detail = match format {
        None => Detail::Unreadable(
            detect(&file)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default(),
        ),
        Some(format) => detail(format, &file, settings, artifact)
            .unwrap_or_else(|e| Detail::Unreadable(e.to_string())),
    };
    let (raw_folded, raw_open) = match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => (pretty(&value, Some(1)), pretty(&value, None)),
        Err(_) => (Vec::new(), Vec::new()),
    };
    Document {
        digest,
        size: bytes.len(),
        format,
        fetched: Fetched::Verified,
        detail,
        raw_folded,
        raw_open,
    }
}

fn detail(
    format: Format,
    file: &EvidenceFile<'_>,
    settings: Option<&GateSettings>,
    artifact: &Digest,
) -> Result<Detail, crate::evidence::EvidenceError> {
    Ok(match format {
        Format::Junit => tests(junit::parse(file)?),
        Format::Sarif => findings(&sarif::parse(file)?),
        Format::CycloneDx => licenses(&sbom::parse_cyclonedx(file)?, settings),
        Format::Spdx => licenses(&sbom::parse_spdx(file)?, settings),
        Format::Provenance => {
            // Not a provenance gate: no trusted keys, so nothing verifies.
            let fallback = ProvenanceSettings {
                source: String::new(),
                refs: Vec::new(),
                builders: Vec::new(),
                keys: Vec::new(),
            };
            let s = match settings {
                Some(GateSettings::Provenance(s)) => s,
                _ => &fallback,
            };
            let c = provenance::check(file, s, Some(artifact))?;
            let repo = c.repositories.first().cloned().unwrap_or_default();
            Detail::Provenance(ProvenanceSummary {
                builder: c.builder,
                source: match c.commit {
                    Some(commit) => format!("{repo}@{commit}"),
                    None => repo,
                },
                signature_verified: c.signature_verified,
                problems: c.problems,
            })
        }
        Format::Metrics => budgets(&perf::parse(file)?, settings),
        // A drift gate's evidence: the snapshot statements and their stored
        // diff (RFC 6902); the Drift tab shows the diff as a table, and the
        // raw JSON is shown below.
        Format::Snapshot | Format::JsonPatch => Detail::Nothing,
        Format::OpenVex => Detail::Vex(
            vex::parse(file)?
                .into_iter()
                .take(MAX_ROWS)
                .map(|s| VexRow {
                    ids: s.ids.join(", "),
                    status: s.status,
                    reason: s.reason,
                })
                .collect(),
        ),
    })
}

fn tests(report: junit::Report) -> Detail {
    let bad = report.failures + report.errors;
    Detail::Tests {
        summary: format!(
            "{} tests: {} passed, {} failed, {} errors, {} skipped",
            report.tests,
            report.tests.saturating_sub(bad + report.skipped),
            report.failures,
            report.errors,
            report.skipped
        ),
        more: bad.saturating_sub(report.failed.len() as u64),
        failing: report
            .failed
            .into_iter()
            .map(|c| FailingTest {
                name: c.name,
                errored: c.outcome == Outcome::Errored,
                message: c.message,
                time: c.time,
            })
            .collect(),
    }
}

fn findings(report: &sarif::Report) -> Detail {
    let listed: Vec<&sarif::Finding> = report
        .findings
        .iter()
        .filter(|f| f.level != crate::policy::gates::SarifLevel::None)
        .collect();
    let more = listed.len().saturating_sub(MAX_ROWS);
    let rows = listed
        .into_iter()
        .take(MAX_ROWS)
        .map(|f| FindingRow {
            severity: f
                .security_severity
                .and_then(sarif::Severity::of)
                .map_or_else(|| f.level.as_str().to_owned(), |s| s.as_str().to_owned()),
            rule: f.rule_id.clone(),
            location: f.location.clone(),
            message: f.message.clone(),
            suppression: f.suppressed.clone(),
        })
        .collect();
    Detail::Findings { rows, more }
}

fn licenses(components: &[sbom::Component], settings: Option<&GateSettings>) -> Detail {
    let policy = match settings {
        Some(GateSettings::Sbom(s)) => LicensePolicy::new(s).ok(),
        _ => None,
    };
    let mut rows = Vec::new();
    let mut failing = 0usize;
    for c in components {
        let (verdict, clause) = match &policy {
            None => (
                "listed",
                c.license
                    .clone()
                    .unwrap_or_else(|| "no licence stated".to_owned()),
            ),
            Some(policy) => match policy.judge(c) {
                Judgement::Allowed => continue,
                Judgement::Denied(why) => ("denied", why),
                Judgement::Banned(why) => ("banned", why),
                Judgement::Unknown(why) => ("unknown", why),
            },
        };
        failing += 1;
        if rows.len() < MAX_ROWS {
            rows.push(LicenseRow {
                component: c.label(),
                verdict,
                clause,
            });
        }
    }
    Detail::Licenses {
        components: components.len(),
        judged: policy.is_some(),
        more: failing.saturating_sub(rows.len()),
        rows,
    }
}

fn budgets(metrics: &perf::Metrics, settings: Option<&GateSettings>) -> Detail {
    let Some(GateSettings::Perf(s)) = settings else {
        return Detail::Budgets(
            metrics
                .names()
                .into_iter()
                .map(|name| BudgetRow {
                    metric: name.to_owned(),
                    value: metrics.value(name),
                    budget: None,
                    within: None,
                })
                .collect(),
        );
    };
    let value = metrics.value(&s.metric);
    let mut rows = vec![BudgetRow {
        metric: s.metric.clone(),
        value,
        budget: s.max.map(|m| format!("≤ {m}")),
        within: s.max.zip(value).map(|(max, v)| v <= max),
    }];
    if let Some(limit) = s.max_regression_percent {
        let pct = value
            .zip(metrics.baseline(&s.metric))
            .filter(|(_, base)| *base > 0.0)
            .map(|(v, base)| (v - base) / base * 100.0);
        rows.push(BudgetRow {
            metric: "regression %".to_owned(),
            value: pct,
            budget: Some(format!("≤ {limit}%")),
            within: pct.map(|p| p <= limit),
        });
    }
    Detail::Budgets(rows)
}

/// `value` pretty-printed two spaces an indent; containers deeper than
/// `fold` are shown on one line with their size. At most
/// [`MAX_RAW_LINES`] lines.
pub fn pretty(value: &Value, fold: Option<usize>) -> Vec<String> {
    let mut lines = Vec::new();
    write_value(&mut lines, "", value, 0, fold, true);
    if lines.len() > MAX_RAW_LINES {
        let more = lines.len() - MAX_RAW_LINES;
        lines.truncate(MAX_RAW_LINES);
        lines.push(format!("… {more} more lines"));
    }
    lines
}

fn scalar(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 200 {
        let cut: String = text.chars().take(200).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Writes `value` at `depth`, after `prefix` (`"key": `), followed by a
/// comma unless it is the last of its container.
fn write_value(
    lines: &mut Vec<String>,
    prefix: &str,
    value: &Value,
    depth: usize,
    fold: Option<usize>,
    last: bool,
) {
    // Bounded work on hostile input: stop descending past the line budget.
    if lines.len() > MAX_RAW_LINES {
        return;
    }
    let indent = "  ".repeat(depth);
    let comma = if last { "" } else { "," };
    let folded = fold.is_some_and(|f| depth >= f);
    match value {
        Value::Object(map) if map.is_empty() => lines.push(format!("{indent}{prefix}{{}}{comma}")),
        Value::Array(items) if items.is_empty() => {
            lines.push(format!("{indent}{prefix}[]{comma}"));
        }
        Value::Object(map) if folded => {
            lines.push(format!(
                "{indent}{prefix}{{…{}}}{comma}",
                count(map.len(), "key", "keys")
            ));
        }
        Value::Array(items) if folded => {
            lines.push(format!(
                "{indent}{prefix}[…{}]{comma}",
                count(items.len(), "item", "items")
            ));
        }
        Value::Object(map) => {
            lines.push(format!("{indent}{prefix}{{"));
            let n = map.len();
            for (i, (k, v)) in map.iter().enumerate() {
                let mut key = String::new();
                let _ = write!(key, "{}: ", Value::String(k.clone()));
                write_value(lines, &key, v, depth + 1, fold, i + 1 == n);
            }
            lines.push(format!("{indent}}}{comma}"));
        }
        Value::Array(items) => {
            lines.push(format!("{indent}{prefix}["));
            let n = items.len();
            for (i, v) in items.iter().enumerate() {
                write_value(lines, "", v, depth + 1, fold, i + 1 == n);
            }
            lines.push(format!("{indent}]{comma}"));
        }
        other => lines.push(format!("{indent}{prefix}{}{comma}", scalar(other))),
    }
}
