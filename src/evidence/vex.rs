//! OpenVEX v0.2.0 documents: statements that a vulnerability does or does
//! not affect a product. A finding is waived only when the newest matching
//! statement says `not_affected` or `fixed`; its justification is shown.

use serde::Deserialize;

use super::{EvidenceError, EvidenceFile, json};

const FORMAT: &str = "OpenVEX v0.2.0";

#[derive(Deserialize)]
struct Document {
    #[serde(rename = "@context")]
    context: String,
    #[serde(default)]
    timestamp: Option<String>,
    statements: Vec<RawStatement>,
}

#[derive(Deserialize)]
struct RawStatement {
    vulnerability: Vulnerability,
    #[serde(default)]
    products: Vec<Product>,
    status: String,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Deserialize)]
struct Vulnerability {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "@id")]
    id: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
struct Product {
    #[serde(rename = "@id")]
    id: String,
}

/// One VEX statement, flattened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Vulnerability name, `@id` and aliases.
    pub ids: Vec<String>,
    pub products: Vec<String>,
    pub status: String,
    /// The justification or impact statement, for display.
    pub reason: String,
    /// RFC 3339 text; statements order by it (then document order).
    pub timestamp: String,
}

pub fn parse(file: &EvidenceFile<'_>) -> Result<Vec<Statement>, EvidenceError> {
    let doc: Document = json(file, FORMAT)?;
    if !doc.context.starts_with("https://openvex.dev/ns/v0.2") {
        return Err(EvidenceError::malformed(
            file.name,
            FORMAT,
            format!(
                "@context is \"{}\"; tollgate reads OpenVEX v0.2.0",
                doc.context
            ),
        ));
    }
    let doc_time = doc.timestamp.unwrap_or_default();
    let mut out = Vec::with_capacity(doc.statements.len());
    for s in doc.statements {
        if !matches!(
            s.status.as_str(),
            "not_affected" | "affected" | "fixed" | "under_investigation"
        ) {
            return Err(EvidenceError::malformed(
                file.name,
                FORMAT,
                format!(
                    "status \"{}\" is not one of not_affected, affected, fixed, under_investigation",
                    s.status
                ),
            ));
        }
        let mut ids: Vec<String> = s.vulnerability.name.into_iter().collect();
        ids.extend(s.vulnerability.id);
        ids.extend(s.vulnerability.aliases);
        let reason = match (s.justification, s.impact_statement) {
            (Some(j), Some(i)) => format!("{j}: {i}"),
            (Some(j), None) => j,
            (None, Some(i)) => i,
            (None, None) => String::new(),
        };
        out.push(Statement {
            ids,
            products: s.products.into_iter().map(|p| p.id).collect(),
            status: s.status,
            reason,
            timestamp: s.timestamp.unwrap_or_else(|| doc_time.clone()),
        });
    }
    Ok(out)
}

/// The waiver for `rule_id` on a product whose identifiers include
/// `product` (a digest hex or purl), if the newest matching statement says
/// `not_affected` or `fixed`.
pub fn waiver<'a>(
    statements: &'a [Statement],
    rule_id: &str,
    product: &str,
) -> Option<&'a Statement> {
    let newest = statements
        .iter()
        .enumerate()
        .filter(|(_, s)| s.ids.iter().any(|i| i == rule_id))
        .filter(|(_, s)| {
            !product.is_empty()
                && s.products.iter().any(|p| {
                    p == product
                        || p.to_ascii_lowercase()
                            .contains(&product.to_ascii_lowercase())
                })
        })
        .max_by(|(ia, a), (ib, b)| a.timestamp.cmp(&b.timestamp).then(ia.cmp(ib)))
        .map(|(_, s)| s)?;
    matches!(newest.status.as_str(), "not_affected" | "fixed").then_some(newest)
}
