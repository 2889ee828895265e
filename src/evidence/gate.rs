//! Verdicts: each gate kind judged from its evidence files. A pure function
//! of (settings, evidence bytes, context); the same input always yields the
//! same verdict under the same [`EVALUATOR_VERSION`].

use serde::Serialize;

use super::junit;
use super::license::{Judgement, LicensePolicy};
use super::{
    EVALUATOR_VERSION, EvidenceError, EvidenceFile, Format, detect, perf, provenance, sarif, sbom,
    vex,
};
use crate::digest::Digest;
use crate::policy::Gate;
use crate::policy::gates::{
    DriftSettings, GateSettings, JunitSettings, PerfSettings, ProvenanceSettings, SarifLevel,
    SarifSettings, SbomSettings, UnknownLicense,
};
use crate::statement::{GateStatus, Measurement};

/// Reasons listed in a verdict; the counts in the summary include all.
const MAX_REASONS: usize = 25;

/// What the evaluation may know besides the evidence.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The promoted artifact (provenance subjects, VEX products).
    pub artifact: Option<&'a Digest>,
}

/// One evidence file as the evaluation saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputSummary {
    pub name: String,
    pub format: Option<Format>,
    pub digest: Digest,
}

/// A gate's computed verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub status: GateStatus,
    pub summary: String,
    pub measurements: Vec<Measurement>,
    pub reasons: Vec<String>,
    pub remediation: Option<String>,
    pub evaluator: &'static str,
    pub inputs: Vec<InputSummary>,
    /// True when the verdict is `error` because evidence could not be read
    /// (as opposed to a gate that cannot be computed).
    pub unreadable: bool,
}

impl Verdict {
    fn new(status: GateStatus, summary: String) -> Self {
        Self {
            status,
            summary,
            measurements: Vec::new(),
            reasons: Vec::new(),
            remediation: None,
            evaluator: EVALUATOR_VERSION,
            inputs: Vec::new(),
            unreadable: false,
        }
    }

    fn reason(&mut self, text: String) {
        if self.reasons.len() < MAX_REASONS {
            self.reasons.push(text);
        }
    }

    fn measure(&mut self, name: &str, value: f64, threshold: Option<f64>, unit: Option<&str>) {
        self.measurements.push(Measurement {
            name: name.to_owned(),
            value,
            threshold,
            unit: unit.map(str::to_owned),
        });
    }

    fn unreadable(error: &EvidenceError) -> Self {
        let mut v = Self::new(GateStatus::Error, error.to_string());
        v.unreadable = true;
        v
    }
}

/// [`evaluate_with`] without context.
pub fn evaluate(settings: &GateSettings, files: &[EvidenceFile<'_>]) -> Verdict {
    evaluate_with(settings, files, Context::default())
}

/// Evaluates a policy gate and attaches its remediation text to anything
/// but a pass.
pub fn evaluate_gate(gate: &Gate, files: &[EvidenceFile<'_>], ctx: Context<'_>) -> Verdict {
    let mut verdict = match gate.typed_settings() {
        Ok(settings) => evaluate_with(&settings, files, ctx),
        Err(e) => Verdict::new(
            GateStatus::Error,
            format!("gate `{}` has invalid settings: {e}", gate.name),
        ),
    };
    if verdict.status != GateStatus::Pass {
        verdict.remediation.clone_from(&gate.remediation);
    }
    verdict
}

/// Evaluates `settings` against `files`.
pub fn evaluate_with(
    settings: &GateSettings,
    files: &[EvidenceFile<'_>],
    ctx: Context<'_>,
) -> Verdict {
    let mut inputs = Vec::with_capacity(files.len());
    let mut typed = Vec::with_capacity(files.len());
    let mut first_error = None;
    // A person's sign-off may attach anything; it is stored, not read.
    let attachments_only = matches!(settings, GateSettings::Manual(_));
    for f in files {
        let format = detect(f);
        inputs.push(InputSummary {
            name: f.name.to_owned(),
            format: format.as_ref().ok().copied(),
            digest: Digest::of(f.bytes),
        });
        match format {
            Ok(format) => typed.push((format, *f)),
            Err(_) if attachments_only => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let mut verdict = match first_error {
        Some(e) => Verdict::unreadable(&e),
        None => match judge(settings, &typed, ctx) {
            Ok(v) => v,
            Err(e) => Verdict::unreadable(&e),
        },
    };
    verdict.inputs = inputs;
    verdict
}

type Typed<'a> = (Format, EvidenceFile<'a>);

fn judge(
    settings: &GateSettings,
    files: &[Typed<'_>],
    ctx: Context<'_>,
) -> Result<Verdict, EvidenceError> {
    let kind = settings.kind();
    let accepts: &[Format] = match settings {
        GateSettings::Junit(_) => &[Format::Junit],
        GateSettings::Sarif(_) => &[Format::Sarif, Format::OpenVex],
        GateSettings::Sbom(_) => &[Format::CycloneDx, Format::Spdx],
        GateSettings::Provenance(_) => &[Format::Provenance],
        GateSettings::Vex(_) => &[Format::OpenVex],
        GateSettings::Perf(_) => &[Format::Metrics],
        GateSettings::Drift(_) => &[Format::Snapshot, Format::JsonPatch],
        GateSettings::Manual(_) => &[],
    };
    for (format, f) in files {
        if !accepts.contains(format) && !matches!(settings, GateSettings::Manual(_)) {
            let wanted: Vec<&str> = accepts.iter().map(|x| x.as_str()).collect();
            return Err(EvidenceError::WrongFormat {
                name: f.name.to_owned(),
                found: format.with_article(),
                kind: kind.as_str(),
                wanted: if wanted.is_empty() {
                    "no evidence files".to_owned()
                } else {
                    wanted.join(" or ")
                },
            });
        }
    }
    if files.is_empty() && !matches!(settings, GateSettings::Manual(_) | GateSettings::Drift(_)) {
        return Ok(Verdict::new(
            GateStatus::Error,
            format!("a `{kind}` gate needs evidence files; none were given"),
        ));
    }
    match settings {
        GateSettings::Junit(s) => junit_verdict(s, files),
        GateSettings::Sarif(s) => sarif_verdict(s, files, ctx),
        GateSettings::Sbom(s) => sbom_verdict(s, files),
        GateSettings::Provenance(s) => provenance_verdict(s, files, ctx),
        GateSettings::Vex(_) => {
            let mut count = 0;
            for (_, f) in files {
                count += vex::parse(f)?.len();
            }
            Ok(Verdict::new(
                GateStatus::Pass,
                format!("{count} VEX statement(s) read"),
            ))
        }
        GateSettings::Perf(s) => perf_verdict(s, files),
        GateSettings::Drift(s) => drift_verdict(s, files),
        GateSettings::Manual(_) => Ok(Verdict::new(
            GateStatus::Error,
            "a manual gate's status is stated by a person: pass --status".to_owned(),
        )),
    }
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn junit_verdict(s: &JunitSettings, files: &[Typed<'_>]) -> Result<Verdict, EvidenceError> {
    let mut report = junit::Report::default();
    for (_, f) in files {
        report.merge(junit::parse(f)?);
    }
    let bad = report.failures + report.errors;
    let too_few = report.tests < s.min_tests;
    let too_many_skipped = s.max_skipped.is_some_and(|m| report.skipped > m);
    let status = if bad > 0 || too_few || too_many_skipped {
        GateStatus::Fail
    } else {
        GateStatus::Pass
    };
    let mut v = Verdict::new(
        status,
        format!(
            "{} tests: {} passed, {} failed, {} errors, {} skipped",
            report.tests,
            report.tests - bad - report.skipped,
            report.failures,
            report.errors,
            report.skipped
        ),
    );
    v.measure("tests", report.tests as f64, Some(s.min_tests as f64), None);
    v.measure("failed", bad as f64, Some(0.0), None);
    v.measure(
        "skipped",
        report.skipped as f64,
        s.max_skipped.map(|m| m as f64),
        None,
    );
    if too_few {
        v.reason(format!(
            "only {} test case(s); the gate requires at least {} (an empty or truncated report cannot pass)",
            report.tests, s.min_tests
        ));
    }
    if too_many_skipped {
        v.reason(format!(
            "{} skipped; at most {} allowed",
            report.skipped,
            s.max_skipped.unwrap_or_default()
        ));
    }
    for case in &report.failed {
        let what = if case.outcome == junit::Outcome::Errored {
            "error"
        } else {
            "failed"
        };
        v.reason(if case.message.is_empty() {
            format!("{what}: {}", case.name)
        } else {
            format!("{what}: {} — {}", case.name, case.message)
        });
    }
    Ok(v)
}

#[allow(clippy::cast_precision_loss)]
fn sarif_verdict(
    s: &SarifSettings,
    files: &[Typed<'_>],
    ctx: Context<'_>,
) -> Result<Verdict, EvidenceError> {
    let mut statements = Vec::new();
    let mut reports = Vec::new();
    for (format, f) in files {
        if *format == Format::OpenVex {
            statements.extend(vex::parse(f)?);
        } else {
            reports.push(sarif::parse(f)?);
        }
    }
    if reports.is_empty() {
        return Ok(Verdict::new(
            GateStatus::Error,
            "a sarif gate needs at least one SARIF report (VEX documents only waive findings)"
                .to_owned(),
        ));
    }
    let product = ctx.artifact.map(Digest::to_hex).unwrap_or_default();
    let mut blocking = Vec::new();
    let mut waived = 0usize;
    let mut total = 0usize;
    let mut tools = Vec::new();
    for report in reports {
        tools.extend(report.tools);
        for f in report.findings {
            if f.level == SarifLevel::None {
                continue;
            }
            total += 1;
            let by_level = s.block_on.level != SarifLevel::None && f.level >= s.block_on.level;
            let by_score = s
                .block_on
                .security_severity
                .zip(f.security_severity)
                .is_some_and(|(t, v)| v >= t);
            if !(by_level || by_score) || s.ignore_rules.contains(&f.rule_id) {
                continue;
            }
            if f.suppressed.is_some() {
                waived += 1;
                continue;
            }
            if vex::waiver(&statements, &f.rule_id, &product).is_some() {
                waived += 1;
                continue;
            }
            blocking.push(f);
        }
    }
    let status = if blocking.is_empty() {
        GateStatus::Pass
    } else {
        GateStatus::Fail
    };
    let mut v = Verdict::new(
        status,
        format!(
            "{} blocking finding(s) of {total} from {}; {waived} suppressed or waived",
            blocking.len(),
            if tools.is_empty() {
                "no tool".to_owned()
            } else {
                tools.join(", ")
            }
        ),
    );
    v.measure("blocking_findings", blocking.len() as f64, Some(0.0), None);
    v.measure("findings", total as f64, None, None);
    for f in &blocking {
        let severity = f
            .security_severity
            .map(|x| match sarif::Severity::of(x) {
                Some(sev) => format!(", security severity {x} ({})", sev.as_str()),
                None => format!(", security severity {x}"),
            })
            .unwrap_or_default();
        v.reason(format!(
            "{} {} at {}{severity}: {}",
            f.level.as_str(),
            f.rule_id,
            if f.location.is_empty() {
                "(no location)"
            } else {
                &f.location
            },
            f.message
        ));
    }
    Ok(v)
}

#[allow(clippy::cast_precision_loss)]
fn sbom_verdict(s: &SbomSettings, files: &[Typed<'_>]) -> Result<Verdict, EvidenceError> {
    let mut components = Vec::new();
    for (format, f) in files {
        components.extend(if *format == Format::Spdx {
            sbom::parse_spdx(f)?
        } else {
            sbom::parse_cyclonedx(f)?
        });
    }
    let policy = match LicensePolicy::new(s) {
        Ok(p) => p,
        Err(e) => return Ok(Verdict::new(GateStatus::Error, e)),
    };
    let (mut denied, mut banned, mut unknown) = (0usize, 0usize, 0usize);
    let mut reasons = Vec::new();
    for c in &components {
        match policy.judge(c) {
            Judgement::Allowed => {}
            Judgement::Denied(why) => {
                denied += 1;
                reasons.push(format!("{}: {why}", c.label()));
            }
            Judgement::Banned(why) => {
                banned += 1;
                reasons.push(format!("{}: {why}", c.label()));
            }
            Judgement::Unknown(why) => {
                if policy.unknown() != UnknownLicense::Allow {
                    unknown += 1;
                    reasons.push(format!("{}: unknown licence: {why}", c.label()));
                }
            }
        }
    }
    let too_few = (components.len() as u64) < s.min_components;
    let status = if denied + banned > 0
        || too_few
        || (unknown > 0 && policy.unknown() == UnknownLicense::Deny)
    {
        GateStatus::Fail
    } else if unknown > 0 {
        GateStatus::Warn
    } else {
        GateStatus::Pass
    };
    let mut v = Verdict::new(
        status,
        format!(
            "{} components: {denied} denied licence(s), {banned} banned, {unknown} unknown licence(s)",
            components.len()
        ),
    );
    v.measure(
        "components",
        components.len() as f64,
        Some(s.min_components as f64),
        None,
    );
    v.measure("denied", denied as f64, Some(0.0), None);
    v.measure("banned", banned as f64, Some(0.0), None);
    v.measure("unknown_licenses", unknown as f64, None, None);
    if too_few {
        v.reason(format!(
            "only {} component(s); the gate requires at least {}",
            components.len(),
            s.min_components
        ));
    }
    for r in reasons {
        v.reason(r);
    }
    Ok(v)
}

fn provenance_verdict(
    s: &ProvenanceSettings,
    files: &[Typed<'_>],
    ctx: Context<'_>,
) -> Result<Verdict, EvidenceError> {
    if s.keys.is_empty() {
        return Ok(Verdict::new(
            GateStatus::Error,
            "the provenance gate lists no trusted builder `keys`; add the builder's ed25519 public key to the policy"
                .to_owned(),
        ));
    }
    // Passes when one envelope passes every check; otherwise lists the
    // problems of all of them.
    let mut problems = Vec::new();
    for (_, f) in files {
        let checked = provenance::check(f, s, ctx.artifact)?;
        if checked.problems.is_empty() {
            let mut v = Verdict::new(
                GateStatus::Pass,
                format!(
                    "signed provenance from builder {} for {}{}",
                    checked.builder,
                    checked.repositories.first().map_or("", String::as_str),
                    checked
                        .commit
                        .map(|c| format!(" at {c}"))
                        .unwrap_or_default()
                ),
            );
            v.reason(format!("verified: {}", f.name));
            return Ok(v);
        }
        problems.extend(
            checked
                .problems
                .into_iter()
                .map(|p| format!("{}: {p}", f.name)),
        );
    }
    let mut v = Verdict::new(
        GateStatus::Fail,
        format!("{} provenance check(s) failed", problems.len()),
    );
    for p in problems {
        v.reason(p);
    }
    Ok(v)
}

fn perf_verdict(s: &PerfSettings, files: &[Typed<'_>]) -> Result<Verdict, EvidenceError> {
    let mut value = None;
    let mut baseline = None;
    let mut names = Vec::new();
    for (_, f) in files {
        let m = perf::parse(f)?;
        value = value.or_else(|| m.value(&s.metric));
        baseline = baseline.or_else(|| m.baseline(&s.metric));
        names.extend(m.names().into_iter().map(str::to_owned));
    }
    let Some(value) = value else {
        return Ok(Verdict::new(
            GateStatus::Error,
            format!(
                "metric `{}` is not in the evidence; it has: {}",
                s.metric,
                names.join(", ")
            ),
        ));
    };
    let mut v = Verdict::new(GateStatus::Pass, String::new());
    v.measure(&s.metric, value, s.max, None);
    let mut over = Vec::new();
    if let Some(max) = s.max
        && value > max
    {
        over.push(format!("{} is {value}; the budget is {max}", s.metric));
    }
    if let Some(limit) = s.max_regression_percent {
        match baseline {
            Some(base) if base > 0.0 => {
                let pct = (value - base) / base * 100.0;
                v.measure("regression_percent", pct, Some(limit), Some("%"));
                if pct > limit {
                    over.push(format!(
                        "{} regressed {pct:.1}% against the baseline {base}; at most {limit}% allowed",
                        s.metric
                    ));
                }
            }
            _ => {
                v.status = GateStatus::Error;
                v.summary = format!(
                    "`max_regression_percent` needs a positive baseline value of `{}` in the evidence (\"baseline\": {{\"{}\": …}})",
                    s.metric, s.metric
                );
                return Ok(v);
            }
        }
    }
    if over.is_empty() {
        v.summary = format!("{} = {value}, within budget", s.metric);
    } else {
        v.status = GateStatus::Fail;
        v.summary = format!("{} over budget", s.metric);
        for o in over {
            v.reason(o);
        }
    }
    Ok(v)
}

/// Drift: the first snapshot is the reference (`compare_with`, or the
/// promotion's `from` environment), the second what the target runs. Any
/// difference outside the ignored pointers fails the gate; no snapshots
/// never pass.
#[allow(clippy::cast_precision_loss)]
fn drift_verdict(s: &DriftSettings, files: &[Typed<'_>]) -> Result<Verdict, EvidenceError> {
    let capture = "capture one in each environment with `tollgate snapshot submit --env E --service S FILE…`, then submit the gate again";
    let mut snapshots = Vec::with_capacity(files.len());
    let mut patches = Vec::new();
    for (format, f) in files {
        if *format == Format::JsonPatch {
            patches.push(f);
            continue;
        }
        let statement = crate::statement::Statement::parse_verified(f.bytes)
            .map_err(|e| EvidenceError::malformed(f.name, "snapshot statement", e))?;
        match statement.predicate {
            crate::statement::Predicate::Snapshot(snapshot) => snapshots.push(snapshot),
            _ => {
                return Err(EvidenceError::malformed(
                    f.name,
                    "snapshot statement",
                    "not a snapshot",
                ));
            }
        }
    }
    let [reference, target] = snapshots.as_slice() else {
        let mut v = Verdict::new(
            if snapshots.len() > 2 {
                GateStatus::Error
            } else {
                GateStatus::Fail
            },
            match snapshots.as_slice() {
                [] => "no environment snapshots to compare".to_owned(),
                [one] => format!(
                    "only a snapshot of {} in {}; the drift gate compares two environments",
                    one.service, one.environment
                ),
                more => format!(
                    "{} snapshots given; a drift gate compares exactly two (the reference, then the target)",
                    more.len()
                ),
            },
        );
        v.reason(capture.to_owned());
        return Ok(v);
    };
    let mismatch = if reference.service != target.service {
        Some(format!(
            "the snapshots are of different services ({} and {})",
            reference.service, target.service
        ))
    } else if reference.environment == target.environment {
        Some(format!(
            "both snapshots are of {}; the drift gate compares two environments",
            reference.environment
        ))
    } else {
        s.compare_with
            .as_ref()
            .filter(|env| **env != reference.environment)
            .map(|env| {
                format!(
                    "the reference snapshot is of {}, but the gate compares with {env}",
                    reference.environment
                )
            })
    };
    if let Some(problem) = mismatch {
        return Ok(Verdict::new(GateStatus::Error, problem));
    }
    let comparison = crate::drift::compare(reference, target, &s.ignore);
    // The stored diff must be the one these snapshots give: a patch that
    // says otherwise would show reviewers a diff nobody judged.
    match patches.as_slice() {
        [] => {}
        [patch] => {
            let stated: json_patch::Patch = serde_json::from_slice(patch.bytes)
                .map_err(|e| EvidenceError::malformed(patch.name, "JSON Patch", e))?;
            if stated != comparison.patch {
                return Ok(Verdict::new(
                    GateStatus::Error,
                    format!(
                        "{}: the stored drift patch is not the diff of the two snapshots; submit the gate again so it is recomputed",
                        patch.name
                    ),
                ));
            }
        }
        more => {
            return Ok(Verdict::new(
                GateStatus::Error,
                format!(
                    "{} JSON Patches given; a drift gate stores exactly one",
                    more.len()
                ),
            ));
        }
    }
    let drifted = comparison.rows.len();
    let status = if drifted == 0 {
        GateStatus::Pass
    } else {
        GateStatus::Fail
    };
    let ignoring = if s.ignore.is_empty() {
        String::new()
    } else {
        format!(", ignoring {}", s.ignore.join(", "))
    };
    let mut v = Verdict::new(
        status,
        if drifted == 0 {
            format!(
                "{} in {} matches {}{ignoring}",
                target.service, target.environment, reference.environment
            )
        } else {
            format!(
                "{drifted} path(s) of {} differ between {} and {}{ignoring}",
                target.service, reference.environment, target.environment
            )
        },
    );
    v.measure("drifted_paths", drifted as f64, Some(0.0), None);
    for row in &comparison.rows {
        v.reason(format!(
            "{} {}: {} → {}",
            row.change.as_str(),
            row.path,
            crate::drift::Row::cell(row.from.as_ref()),
            crate::drift::Row::cell(row.to.as_ref())
        ));
    }
    let key_ids = |snap: &crate::statement::Snapshot| -> std::collections::BTreeSet<String> {
        snap.secret_fingerprints
            .values()
            .filter_map(|f| crate::drift::fingerprint::key_id(f).map(str::to_owned))
            .collect()
    };
    let (a, b) = (key_ids(reference), key_ids(target));
    if !a.is_empty() && !b.is_empty() && a != b {
        v.reason(format!(
            "secret fingerprints were made with different HMAC keys ({} and {}); capture both environments with the same --hmac-key so equal secrets compare equal",
            a.into_iter().collect::<Vec<_>>().join(", "),
            b.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(v)
}
