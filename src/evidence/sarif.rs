//! SARIF 2.1.0 static-analysis reports: the few fields a gate needs, with
//! every other field ignored. The effective level of a result follows the
//! spec (§3.27.10): `kind` other than `fail` means `none`; otherwise the
//! result's `level`, else the run's rule configuration override, else the
//! rule's `defaultConfiguration.level`, else `warning`.

use serde::Deserialize;

use super::{EvidenceError, EvidenceFile, json};
use crate::policy::gates::SarifLevel;

const FORMAT: &str = "SARIF 2.1.0";

#[derive(Deserialize)]
struct Log {
    #[serde(default)]
    version: Option<String>,
    runs: Vec<Run>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Run {
    tool: Tool,
    results: Option<Results>,
    invocations: Vec<Invocation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Tool {
    driver: Driver,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Driver {
    name: String,
    version: Option<String>,
    #[serde(rename = "semanticVersion")]
    semantic_version: Option<String>,
    rules: Vec<Rule>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Rule {
    id: String,
    #[serde(rename = "defaultConfiguration")]
    default_configuration: Option<Configuration>,
    properties: Option<RuleProperties>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Configuration {
    level: Option<SarifLevel>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RuleProperties {
    #[serde(rename = "security-severity")]
    security_severity: Option<Score>,
}

/// GitHub writes the score as a string; some tools write a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Score {
    Number(f64),
    Text(String),
}

impl Score {
    fn value(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(t) => t.trim().parse().ok(),
        }
        .filter(|v: &f64| v.is_finite())
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Invocation {
    #[serde(rename = "ruleConfigurationOverrides")]
    rule_configuration_overrides: Vec<Override>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Override {
    descriptor: Reference,
    configuration: Configuration,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Reference {
    id: Option<String>,
    index: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawResult {
    #[serde(rename = "ruleId")]
    rule_id: Option<String>,
    #[serde(rename = "ruleIndex")]
    rule_index: Option<usize>,
    rule: Option<Reference>,
    kind: Option<String>,
    level: Option<SarifLevel>,
    message: Message,
    locations: Vec<Location>,
    suppressions: Vec<Suppression>,
    #[serde(rename = "baselineState")]
    baseline_state: Option<String>,
}

/// A result reduced to what the gate needs as soon as it is read, so a
/// large report is never held twice (raw and resolved).
struct Compact {
    rule_id: Option<String>,
    rule_index: Option<usize>,
    fail: bool,
    level: Option<SarifLevel>,
    message: String,
    location: String,
    suppressed: Option<String>,
}

/// `results[]`, compacted element by element while it is read.
#[derive(Default)]
struct Results(Vec<Compact>);

impl<'de> Deserialize<'de> for Results {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Results;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of SARIF results")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Results, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(raw) = seq.next_element::<RawResult>()? {
                    out.push(compact(raw));
                }
                Ok(Results(out))
            }
        }
        de.deserialize_seq(Visit)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Message {
    text: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Location {
    #[serde(rename = "physicalLocation")]
    physical_location: Option<PhysicalLocation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PhysicalLocation {
    #[serde(rename = "artifactLocation")]
    artifact_location: Option<ArtifactLocation>,
    region: Option<Region>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ArtifactLocation {
    uri: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Region {
    #[serde(rename = "startLine")]
    start_line: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Suppression {
    kind: Option<String>,
    status: Option<String>,
    justification: Option<String>,
}

/// GitHub's reading of a `security-severity` score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Over 9.0 critical, 7.0 or more high, 4.0 or more medium, above 0 low.
    pub fn of(score: f64) -> Option<Severity> {
        if score > 9.0 {
            Some(Self::Critical)
        } else if score >= 7.0 {
            Some(Self::High)
        } else if score >= 4.0 {
            Some(Self::Medium)
        } else if score > 0.0 {
            Some(Self::Low)
        } else {
            None
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// One result, resolved against its rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub tool: String,
    pub rule_id: String,
    pub level: SarifLevel,
    pub security_severity: Option<f64>,
    pub message: String,
    pub location: String,
    /// Why the result does not count (an accepted suppression, or a
    /// baseline state of `absent`); `None` when it does.
    pub suppressed: Option<String>,
}

/// Every result of every run, and the tools that produced them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub tools: Vec<String>,
    pub findings: Vec<Finding>,
}

pub fn parse(file: &EvidenceFile<'_>) -> Result<Report, EvidenceError> {
    let log: Log = json(file, FORMAT)?;
    if let Some(v) = &log.version
        && v != "2.1.0"
    {
        return Err(EvidenceError::malformed(
            file.name,
            FORMAT,
            format!("version is \"{v}\"; tollgate reads SARIF 2.1.0"),
        ));
    }
    let mut report = Report::default();
    for run in log.runs {
        let driver = &run.tool.driver;
        let tool = match driver.semantic_version.as_ref().or(driver.version.as_ref()) {
            Some(v) => format!("{} {v}", driver.name),
            None => driver.name.clone(),
        };
        report.tools.push(tool.clone());
        let overrides: Vec<&Override> = run
            .invocations
            .iter()
            .flat_map(|i| &i.rule_configuration_overrides)
            .collect();
        for result in run.results.unwrap_or_default().0 {
            report
                .findings
                .push(resolve(&tool, driver, &overrides, result));
        }
    }
    Ok(report)
}

fn compact(r: RawResult) -> Compact {
    let location = r
        .locations
        .first()
        .and_then(|l| l.physical_location.as_ref())
        .map(|p| {
            let uri = p
                .artifact_location
                .as_ref()
                .and_then(|a| a.uri.clone())
                .unwrap_or_default();
            match p.region.as_ref().and_then(|x| x.start_line) {
                Some(line) => format!("{uri}:{line}"),
                None => uri,
            }
        })
        .unwrap_or_default();
    // A suppression counts unless it is still under review or was rejected.
    let suppressed = r
        .suppressions
        .iter()
        .find(|s| !matches!(s.status.as_deref(), Some("underReview" | "rejected")))
        .map(|s| {
            let kind = s.kind.as_deref().unwrap_or("external");
            match &s.justification {
                Some(j) => format!("suppressed ({kind}): {j}"),
                None => format!("suppressed ({kind})"),
            }
        })
        .or_else(|| {
            (r.baseline_state.as_deref() == Some("absent"))
                .then(|| "baseline state \"absent\" (fixed since the baseline)".to_owned())
        });
    let message = r
        .message
        .text
        .or(r.message.id)
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    Compact {
        rule_id: r
            .rule_id
            .or_else(|| r.rule.as_ref().and_then(|x| x.id.clone())),
        rule_index: r.rule_index.or(r.rule.as_ref().and_then(|x| x.index)),
        fail: r.kind.as_deref().unwrap_or("fail") == "fail",
        level: r.level,
        message,
        location,
        suppressed,
    }
}

fn resolve(tool: &str, driver: &Driver, overrides: &[&Override], r: Compact) -> Finding {
    let id = r.rule_id;
    let rule_index = r
        .rule_index
        .filter(|i| *i < driver.rules.len())
        .or_else(|| {
            let id = id.as_deref()?;
            // A hierarchical id ("EX1001/sub") names its top-level rule.
            let top = id.split('/').next().unwrap_or(id);
            driver
                .rules
                .iter()
                .position(|x| x.id == id)
                .or_else(|| driver.rules.iter().position(|x| x.id == top))
        });
    let rule = rule_index.map(|i| &driver.rules[i]);
    let rule_id = id
        .or_else(|| rule.map(|x| x.id.clone()))
        .unwrap_or_else(|| "(no rule id)".to_owned());
    let level = if r.fail {
        r.level
            .or_else(|| {
                overrides
                    .iter()
                    .find(|o| {
                        (o.descriptor.index.is_some() && o.descriptor.index == rule_index)
                            || o.descriptor.id.as_deref() == Some(rule_id.as_str())
                    })
                    .and_then(|o| o.configuration.level)
            })
            .or_else(|| {
                rule.and_then(|x| x.default_configuration.as_ref())
                    .and_then(|c| c.level)
            })
            .unwrap_or(SarifLevel::Warning)
    } else {
        SarifLevel::None
    };
    let security_severity = rule
        .and_then(|x| x.properties.as_ref())
        .and_then(|p| p.security_severity.as_ref())
        .and_then(Score::value);
    Finding {
        tool: tool.to_owned(),
        rule_id,
        level,
        security_severity,
        message: r.message,
        location: r.location,
        suppressed: r.suppressed,
    }
}
