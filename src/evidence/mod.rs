//! Gate evidence: what CI produces (JUnit XML, SARIF, CycloneDX and SPDX
//! SBOMs, in-toto/SLSA provenance in DSSE, OpenVEX, k6 and plain metrics)
//! read tolerantly and judged against a gate's typed settings.
//!
//! Everything here is pure: [`evaluate`] is a function of the gate settings,
//! the evidence bytes and an optional [`Context`], with no I/O and no clock,
//! so anyone holding the same evidence recomputes the same [`Verdict`].
//! [`EVALUATOR_VERSION`] names the rules; it changes whenever a verdict for
//! the same input could change.

mod detect;
mod gate;
pub mod junit;
pub mod license;
pub mod perf;
pub mod provenance;
pub mod sarif;
pub mod sbom;
pub mod vex;

pub use detect::{Format, detect};
pub use gate::{Context, InputSummary, Verdict, evaluate, evaluate_gate, evaluate_with};

/// The version of the evaluation rules bound into every gate result.
/// Bump it whenever the same (settings, evidence) can give another verdict:
/// 2 computes drift gates from snapshot statements (1 could not); 3 also
/// checks the stored drift patch against them.
pub const EVALUATOR_VERSION: &str = "tollgate-evidence/3";

/// Largest evidence file read, in bytes. Real reports are far smaller; the
/// bound keeps memory use predictable on hostile input.
pub const MAX_EVIDENCE_BYTES: usize = 64 * 1024 * 1024;

/// One evidence file: a name to show in messages and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct EvidenceFile<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// Why evidence could not be read. Every message names the problem and,
/// where there is one, the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    #[error(
        "{name}: the file is {size} bytes; evidence is limited to {MAX_EVIDENCE_BYTES} bytes. Split the report or submit a summary"
    )]
    TooLarge { name: String, size: usize },
    #[error("{name}: the file is empty; CI wrote no report. Check the step that produces it")]
    Empty { name: String },
    #[error(
        "{name}: the file is not UTF-8 text (invalid byte at offset {offset}); evidence must be UTF-8 JSON or XML"
    )]
    NotUtf8 { name: String, offset: usize },
    #[error(
        "{name}: unknown evidence format ({hint}); tollgate reads JUnit XML, SARIF 2.1.0, CycloneDX JSON, SPDX 2.3 JSON, in-toto DSSE envelopes, OpenVEX v0.2.0, k6 summary JSON, plain metrics JSON, and tollgate snapshot statements with their RFC 6902 patch (drift)"
    )]
    Unknown { name: String, hint: String },
    #[error(
        "{name}: this is {found}, but a `{kind}` gate reads {wanted}; pass the matching report"
    )]
    WrongFormat {
        name: String,
        found: &'static str,
        kind: &'static str,
        wanted: String,
    },
    #[error("{name}: not valid {format}: {detail}")]
    Malformed {
        name: String,
        format: &'static str,
        detail: String,
    },
    #[error(
        "{name}: the XML declares entities ({detail}); entity declarations are refused because they can expand without bound. Produce the report without a DOCTYPE"
    )]
    EntityDeclaration { name: String, detail: String },
}

impl EvidenceError {
    pub(crate) fn malformed(
        name: &str,
        format: &'static str,
        detail: impl std::fmt::Display,
    ) -> Self {
        Self::Malformed {
            name: name.to_owned(),
            format,
            detail: detail.to_string(),
        }
    }
}

/// Size and encoding checks shared by every format.
pub(crate) fn text<'a>(file: &EvidenceFile<'a>) -> Result<&'a str, EvidenceError> {
    if file.bytes.len() > MAX_EVIDENCE_BYTES {
        return Err(EvidenceError::TooLarge {
            name: file.name.to_owned(),
            size: file.bytes.len(),
        });
    }
    let text = std::str::from_utf8(file.bytes).map_err(|e| EvidenceError::NotUtf8 {
        name: file.name.to_owned(),
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(EvidenceError::Empty {
            name: file.name.to_owned(),
        });
    }
    Ok(text)
}

/// Parses JSON with serde_json's default recursion limit (128), so deep
/// nesting is an error, never a stack overflow.
pub(crate) fn json<'a, T: serde::Deserialize<'a>>(
    file: &EvidenceFile<'a>,
    format: &'static str,
) -> Result<T, EvidenceError> {
    let text = text(file)?;
    serde_json::from_str(text).map_err(|e| EvidenceError::malformed(file.name, format, e))
}

#[cfg(test)]
mod tests;
