//! SBOMs: CycloneDX JSON (1.2–1.7; any `1.x` spec version is read) and SPDX
//! 2.3 JSON, both mapped onto one [`Component`] model. Only the fields the
//! licence and ban checks need are read; unknown fields are ignored.

use serde::Deserialize;

use super::{EvidenceError, EvidenceFile, json};

/// One package in an SBOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub version: String,
    pub purl: Option<String>,
    /// The licence as an SPDX expression, when the SBOM states one.
    pub license: Option<String>,
    /// Licence text the SBOM gives that is not SPDX (a free-form name).
    pub unknown_license: Option<String>,
}

impl Component {
    /// The purl, or `name@version` when there is none, for messages.
    pub fn label(&self) -> String {
        match &self.purl {
            Some(p) => p.clone(),
            None if self.version.is_empty() => self.name.clone(),
            None => format!("{}@{}", self.name, self.version),
        }
    }
}

#[derive(Deserialize)]
struct CycloneDx {
    #[serde(rename = "specVersion")]
    spec_version: String,
    #[serde(default)]
    components: Vec<CdxComponent>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CdxComponent {
    name: String,
    version: Option<String>,
    purl: Option<String>,
    licenses: Vec<CdxLicenseChoice>,
    components: Vec<CdxComponent>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CdxLicenseChoice {
    expression: Option<String>,
    license: Option<CdxLicense>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CdxLicense {
    id: Option<String>,
    name: Option<String>,
}

pub fn parse_cyclonedx(file: &EvidenceFile<'_>) -> Result<Vec<Component>, EvidenceError> {
    const FORMAT: &str = "CycloneDX JSON";
    let bom: CycloneDx = json(file, FORMAT)?;
    if !bom.spec_version.starts_with("1.") {
        return Err(EvidenceError::malformed(
            file.name,
            FORMAT,
            format!(
                "specVersion is \"{}\"; tollgate reads CycloneDX 1.x",
                bom.spec_version
            ),
        ));
    }
    let mut out = Vec::new();
    // Nested components (an assembly's parts) are flattened; nesting depth
    // is bounded by the JSON parser's recursion limit.
    let mut stack: Vec<CdxComponent> = bom.components;
    stack.reverse();
    while let Some(mut c) = stack.pop() {
        let children = std::mem::take(&mut c.components);
        stack.extend(children.into_iter().rev());
        out.push(cdx_component(c));
    }
    Ok(out)
}

fn cdx_component(c: CdxComponent) -> Component {
    let mut exprs: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for choice in c.licenses {
        if let Some(e) = choice.expression {
            exprs.push(e);
        } else if let Some(l) = choice.license {
            match (l.id, l.name) {
                (Some(id), _) => exprs.push(id),
                (None, Some(name)) => unknown.push(name),
                (None, None) => {}
            }
        }
    }
    // Several entries all apply (decision: AND, the conservative reading).
    let license = match exprs.len() {
        0 => None,
        1 => exprs.pop(),
        _ => Some(
            exprs
                .iter()
                .map(|e| format!("({e})"))
                .collect::<Vec<_>>()
                .join(" AND "),
        ),
    };
    Component {
        name: c.name,
        version: c.version.unwrap_or_default(),
        purl: c.purl,
        license,
        unknown_license: (!unknown.is_empty()).then(|| unknown.join("; ")),
    }
}

#[derive(Deserialize)]
struct Spdx {
    #[serde(rename = "spdxVersion")]
    spdx_version: String,
    #[serde(default)]
    packages: Vec<SpdxPackage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SpdxPackage {
    name: String,
    #[serde(rename = "versionInfo")]
    version_info: Option<String>,
    #[serde(rename = "licenseConcluded")]
    license_concluded: Option<String>,
    #[serde(rename = "licenseDeclared")]
    license_declared: Option<String>,
    #[serde(rename = "externalRefs")]
    external_refs: Vec<SpdxRef>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SpdxRef {
    #[serde(rename = "referenceType")]
    reference_type: String,
    #[serde(rename = "referenceLocator")]
    reference_locator: String,
}

fn stated(value: Option<String>) -> Option<String> {
    value.filter(|v| {
        let v = v.trim();
        !v.is_empty() && v != "NOASSERTION" && v != "NONE"
    })
}

pub fn parse_spdx(file: &EvidenceFile<'_>) -> Result<Vec<Component>, EvidenceError> {
    const FORMAT: &str = "SPDX 2.3 JSON";
    let doc: Spdx = json(file, FORMAT)?;
    if !doc.spdx_version.starts_with("SPDX-2.") {
        return Err(EvidenceError::malformed(
            file.name,
            FORMAT,
            format!(
                "spdxVersion is \"{}\"; tollgate reads SPDX 2.x",
                doc.spdx_version
            ),
        ));
    }
    Ok(doc
        .packages
        .into_iter()
        .map(|p| {
            let purl = p
                .external_refs
                .into_iter()
                .find(|r| r.reference_type == "purl")
                .map(|r| r.reference_locator);
            Component {
                name: p.name,
                version: p.version_info.unwrap_or_default(),
                purl,
                // The concluded licence is the reviewed one; the declared one
                // is what the package says about itself.
                license: stated(p.license_concluded).or_else(|| stated(p.license_declared)),
                unknown_license: None,
            }
        })
        .collect())
}
