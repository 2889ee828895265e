//! Which format an evidence file is in, from its content (never its name).

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{EvidenceError, EvidenceFile, text};

/// The evidence formats tollgate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Junit,
    Sarif,
    #[serde(rename = "cyclonedx")]
    CycloneDx,
    Spdx,
    Provenance,
    #[serde(rename = "openvex")]
    OpenVex,
    Metrics,
    /// A tollgate snapshot statement (drift gate evidence).
    Snapshot,
    /// An RFC 6902 JSON Patch: the stored form of a drift gate's diff.
    JsonPatch,
}

impl Format {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Junit => "JUnit XML",
            Self::Sarif => "SARIF",
            Self::CycloneDx => "CycloneDX SBOM",
            Self::Spdx => "SPDX SBOM",
            Self::Provenance => "in-toto DSSE envelope",
            Self::OpenVex => "OpenVEX document",
            Self::Metrics => "metrics JSON",
            Self::Snapshot => "snapshot statement",
            Self::JsonPatch => "JSON Patch",
        }
    }

    /// The name with its article, for sentences.
    pub const fn with_article(self) -> &'static str {
        match self {
            Self::Junit => "a JUnit XML report",
            Self::Sarif => "a SARIF report",
            Self::CycloneDx => "a CycloneDX SBOM",
            Self::Spdx => "an SPDX SBOM",
            Self::Provenance => "an in-toto DSSE envelope",
            Self::OpenVex => "an OpenVEX document",
            Self::Metrics => "a metrics JSON file",
            Self::Snapshot => "a snapshot statement",
            Self::JsonPatch => "a JSON Patch (RFC 6902)",
        }
    }

    pub const fn media_type(self) -> &'static str {
        match self {
            Self::Junit => "application/junit+xml",
            Self::Sarif => "application/sarif+json",
            Self::CycloneDx => "application/vnd.cyclonedx+json",
            Self::Spdx => "application/spdx+json",
            Self::Provenance => "application/vnd.dsse.envelope.v1+json",
            Self::OpenVex => "application/openvex+json",
            Self::Metrics => "application/json",
            Self::Snapshot => "application/vnd.in-toto+json",
            Self::JsonPatch => "application/json-patch+json",
        }
    }
}

/// The top-level keys that tell the JSON formats apart; everything else is
/// skipped without being kept.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(default, borrow, rename = "bomFormat")]
    bom_format: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow, rename = "spdxVersion")]
    spdx_version: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, rename = "payloadType")]
    payload_type: Option<IgnoredAny>,
    #[serde(default, borrow, rename = "@context")]
    context: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    runs: Option<IgnoredAny>,
    #[serde(default)]
    metrics: Option<IgnoredAny>,
    #[serde(default, borrow, rename = "predicateType")]
    predicate_type: Option<std::borrow::Cow<'a, str>>,
}

/// Detects the format of `file`. JSON documents are scanned once more by
/// their own parser; the probe keeps nothing but a few short strings.
pub fn detect(file: &EvidenceFile<'_>) -> Result<Format, EvidenceError> {
    let body = text(file)?;
    let trimmed = body.trim_start();
    let unknown = |hint: &str| EvidenceError::Unknown {
        name: file.name.to_owned(),
        hint: hint.to_owned(),
    };
    if trimmed.starts_with('<') {
        return Ok(Format::Junit);
    }
    if trimmed.starts_with('[') {
        return serde_json::from_str::<json_patch::Patch>(body)
            .map(|_| Format::JsonPatch)
            .map_err(|_| unknown("a JSON array that is not an RFC 6902 JSON Patch"));
    }
    if !trimmed.starts_with('{') {
        return Err(unknown("it is neither a JSON object or array nor XML"));
    }
    let probe: Probe<'_> =
        serde_json::from_str(body).map_err(|e| EvidenceError::malformed(file.name, "JSON", e))?;
    if probe.bom_format.as_deref() == Some("CycloneDX") {
        Ok(Format::CycloneDx)
    } else if probe
        .spdx_version
        .as_deref()
        .is_some_and(|v| v.starts_with("SPDX-2"))
    {
        Ok(Format::Spdx)
    } else if probe.predicate_type.as_deref() == Some(crate::statement::predicate_type::SNAPSHOT) {
        Ok(Format::Snapshot)
    } else if probe.payload_type.is_some() {
        Ok(Format::Provenance)
    } else if probe
        .context
        .as_deref()
        .is_some_and(|c| c.starts_with("https://openvex.dev/ns"))
    {
        Ok(Format::OpenVex)
    } else if probe.runs.is_some() {
        Ok(Format::Sarif)
    } else if probe.metrics.is_some() {
        Ok(Format::Metrics)
    } else if let Some(v) = probe.spdx_version {
        Err(unknown(&format!("spdxVersion \"{v}\" is not SPDX 2.x")))
    } else {
        Err(unknown(
            "a JSON object without bomFormat, spdxVersion, payloadType, @context, runs, metrics or a snapshot predicateType",
        ))
    }
}
