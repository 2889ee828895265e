//! Typed settings of each gate kind (`[gates.NAME]` keys other than `kind`,
//! `remediation` and `waivable_by`). Unknown keys are refused, so a typo
//! such as `min_test = 5` is an error instead of a silently ignored
//! threshold. The evidence evaluator (`crate::evidence`) owns what each
//! setting means; this module owns only their shape and defaults.

use serde::Deserialize;

use super::GateKind;
use crate::keys::PublicKey;

/// The settings of one gate, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum GateSettings {
    Junit(JunitSettings),
    Sarif(SarifSettings),
    Sbom(SbomSettings),
    Provenance(ProvenanceSettings),
    Vex(VexSettings),
    Perf(PerfSettings),
    Drift(DriftSettings),
    Manual(ManualSettings),
}

impl GateSettings {
    pub fn kind(&self) -> GateKind {
        match self {
            Self::Junit(_) => GateKind::Junit,
            Self::Sarif(_) => GateKind::Sarif,
            Self::Sbom(_) => GateKind::Sbom,
            Self::Provenance(_) => GateKind::Provenance,
            Self::Vex(_) => GateKind::Vex,
            Self::Perf(_) => GateKind::Perf,
            Self::Drift(_) => GateKind::Drift,
            Self::Manual(_) => GateKind::Manual,
        }
    }

    /// Reads the settings of a gate of `kind` from any serde deserializer
    /// (the policy reader passes a spanned TOML value so errors are located).
    pub fn deserialize_kind<'de, D: serde::Deserializer<'de>>(
        kind: GateKind,
        de: D,
    ) -> Result<Self, D::Error> {
        Ok(match kind {
            GateKind::Junit => Self::Junit(JunitSettings::deserialize(de)?),
            GateKind::Sarif => Self::Sarif(SarifSettings::deserialize(de)?),
            GateKind::Sbom => Self::Sbom(SbomSettings::deserialize(de)?),
            GateKind::Provenance => Self::Provenance(ProvenanceSettings::deserialize(de)?),
            GateKind::Vex => Self::Vex(VexSettings::deserialize(de)?),
            GateKind::Perf => Self::Perf(PerfSettings::deserialize(de)?),
            GateKind::Drift => Self::Drift(DriftSettings::deserialize(de)?),
            GateKind::Manual => Self::Manual(ManualSettings::deserialize(de)?),
        })
    }

    /// Problems serde cannot see: licence ids that are not SPDX, scores
    /// outside 0–10, empty names. Each is a sentence naming the setting.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Self::Sbom(s) => {
                let lists = std::iter::once(("allow", &s.allow)).chain(
                    s.exceptions
                        .iter()
                        .map(|e| ("exceptions[].allow", &e.allow)),
                );
                for (key, list) in lists {
                    for l in list {
                        if let Err(e) = spdx::Licensee::parse(l) {
                            out.push(format!(
                                "`{key}` entry \"{l}\" is not an SPDX licence id ({}); see https://spdx.org/licenses/",
                                e.reason
                            ));
                        }
                    }
                }
                for c in &s.clarify {
                    if let Err(e) = spdx::Expression::parse(&c.expression) {
                        out.push(format!(
                            "`clarify` expression \"{}\" for {} is not an SPDX expression ({})",
                            c.expression, c.purl, e.reason
                        ));
                    }
                }
                let purls = s
                    .exceptions
                    .iter()
                    .map(|e| &e.purl)
                    .chain(s.clarify.iter().map(|c| &c.purl))
                    .chain(s.bans.iter().map(|b| &b.purl));
                for purl in purls {
                    if !purl.starts_with("pkg:") {
                        out.push(format!(
                            "\"{purl}\" is not a package URL; write it as pkg:TYPE/NAME, optionally @VERSION"
                        ));
                    }
                }
            }
            Self::Sarif(s) => {
                if let Some(score) = s.block_on.security_severity
                    && !(0.0..=10.0).contains(&score)
                {
                    out.push(format!(
                        "`block_on.security_severity` is {score}; scores run from 0.0 to 10.0"
                    ));
                }
            }
            Self::Drift(s) => {
                out.extend(
                    s.ignore
                        .iter()
                        .filter_map(|p| crate::drift::normalise::pointer_problem(p)),
                );
            }
            Self::Provenance(s) if s.source.trim().is_empty() => {
                out.push("`source` is empty; name the repository builds must come from".to_owned());
            }
            Self::Perf(s) => {
                if s.metric.trim().is_empty() {
                    out.push("`metric` is empty; name the metric to hold to the budget".to_owned());
                }
                if s.max.is_none() && s.max_regression_percent.is_none() {
                    out.push(
                        "a perf gate needs `max` or `max_regression_percent`, or nothing can fail it"
                            .to_owned(),
                    );
                }
            }
            _ => {}
        }
        out
    }

    /// Reads the settings of a gate of `kind` from its settings table.
    pub fn from_table(kind: GateKind, table: &toml::Table) -> Result<Self, String> {
        Self::deserialize_kind(kind, toml::Value::Table(table.clone())).map_err(|e| e.to_string())
    }
}

const fn one() -> u64 {
    1
}

/// `kind = "junit"`: every test case must pass, and there must be at least
/// `min_tests` of them, so an empty report cannot pass.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JunitSettings {
    #[serde(default = "one")]
    pub min_tests: u64,
    /// Most skipped cases tolerated; unlimited when absent.
    #[serde(default)]
    pub max_skipped: Option<u64>,
}

/// A SARIF result level (§3.27.10), ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SarifLevel {
    None,
    Note,
    Warning,
    Error,
}

impl SarifLevel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Note => "note",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// What blocks a SARIF gate: any unsuppressed result at or above `level`,
/// or with a GitHub `security-severity` score at or above
/// `security_severity`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockOn {
    #[serde(default = "BlockOn::default_level")]
    pub level: SarifLevel,
    #[serde(default)]
    pub security_severity: Option<f64>,
}

impl BlockOn {
    const fn default_level() -> SarifLevel {
        SarifLevel::Error
    }
}

impl Default for BlockOn {
    fn default() -> Self {
        Self {
            level: Self::default_level(),
            security_severity: None,
        }
    }
}

/// `kind = "sarif"`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SarifSettings {
    #[serde(default)]
    pub block_on: BlockOn,
    /// Results of these rule ids never block (they are still listed).
    #[serde(default)]
    pub ignore_rules: Vec<String>,
}

/// What to do with a component whose licence is missing or not SPDX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownLicense {
    #[default]
    Deny,
    Warn,
    Allow,
}

/// Extra licences allowed for one package (cargo-deny's `exceptions`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseException {
    /// The package URL; without `@version` it matches every version.
    pub purl: String,
    pub allow: Vec<String>,
}

/// The licence of a package stated by the policy instead of the SBOM
/// (cargo-deny's `clarify`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseClarification {
    pub purl: String,
    pub expression: String,
}

/// A package that may not ship, whatever its licence.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ban {
    /// Package URL; without `@version` it bans every version.
    pub purl: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `kind = "sbom"`: licences (everything not allowed is denied, as in
/// cargo-deny since 0.16) and banned packages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SbomSettings {
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub exceptions: Vec<LicenseException>,
    #[serde(default)]
    pub clarify: Vec<LicenseClarification>,
    #[serde(default)]
    pub unknown: UnknownLicense,
    #[serde(default)]
    pub bans: Vec<Ban>,
    #[serde(default = "one")]
    pub min_components: u64,
}

/// `kind = "provenance"`: a signed in-toto Statement v1 with SLSA
/// Provenance v1 about the promoted artifact, from an allowed builder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenanceSettings {
    /// Source repository the build must come from (`git+` prefix optional).
    pub source: String,
    /// Refs the build may be from; any ref when empty.
    #[serde(default)]
    pub refs: Vec<String>,
    /// Allowed `runDetails.builder.id` values; any builder when empty.
    #[serde(default)]
    pub builders: Vec<String>,
    /// Keys trusted to sign provenance (`ed25519:…`).
    #[serde(default)]
    pub keys: Vec<PublicKey>,
}

/// `kind = "vex"`: an OpenVEX document must parse; its statements waive
/// SARIF findings of other gates.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VexSettings {}

/// `kind = "perf"`: a metric from a k6 summary or a plain metrics file,
/// held to an absolute budget and/or a regression limit against a baseline
/// carried in the evidence.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerfSettings {
    /// `name` in a plain metrics file, or `metric.stat` in a k6 summary
    /// (`http_req_duration.p(95)`).
    pub metric: String,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub max_regression_percent: Option<f64>,
}

/// `kind = "drift"`: the target environment must equal `compare_with` (by
/// default the promotion's `from` environment) except for the `ignore`
/// paths, JSON pointers into the snapshot (`/config/…`, `/flags/…`,
/// `/dependencies/…`, `/images/…`, `/secrets/…`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftSettings {
    #[serde(default)]
    pub compare_with: Option<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// `kind = "manual"`: a person states the status; no settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualSettings {}
