//! SLSA Provenance v1 in an in-toto Statement v1 inside a DSSE envelope,
//! checked four ways: a signature by a trusted builder key (the DSSE
//! verification of `crate::envelope`), a subject digest equal to the
//! promoted artifact, a builder id on the allow-list, and the source
//! repository and ref the policy names.

use serde::Deserialize;
use serde_json::Value;

use super::{EvidenceError, EvidenceFile, text};
use crate::digest::Digest;
use crate::envelope::{Envelope, EnvelopeError};
use crate::keys::PublicKey;
use crate::policy::gates::ProvenanceSettings;

const FORMAT: &str = "in-toto DSSE envelope";
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

#[derive(Deserialize)]
struct Statement {
    #[serde(rename = "_type")]
    kind: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    #[serde(default)]
    predicate: Option<Predicate>,
}

#[derive(Deserialize)]
struct Subject {
    #[serde(default)]
    digest: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Predicate {
    #[serde(rename = "buildDefinition")]
    build_definition: BuildDefinition,
    #[serde(rename = "runDetails")]
    run_details: RunDetails,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BuildDefinition {
    #[serde(rename = "externalParameters")]
    external_parameters: Value,
    #[serde(rename = "resolvedDependencies")]
    resolved_dependencies: Vec<ResourceDescriptor>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResourceDescriptor {
    uri: String,
    digest: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RunDetails {
    builder: Builder,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Builder {
    id: String,
}

/// What the provenance says and which checks it passed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub builder: String,
    pub repositories: Vec<String>,
    pub refs: Vec<String>,
    pub commit: Option<String>,
    /// Whether a DSSE signature verified under a trusted builder key.
    pub signature_verified: bool,
    /// Each failed check, in words a person can act on.
    pub problems: Vec<String>,
}

/// `git+https://host/repo.git@refs/heads/main` → `https://host/repo`.
fn normalise_repo(uri: &str) -> String {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    let uri = match uri.find("://") {
        Some(scheme) => match uri[scheme + 3..].find('@') {
            Some(at) => &uri[..scheme + 3 + at],
            None => uri,
        },
        None => uri,
    };
    let uri = uri.trim_end_matches('/');
    uri.strip_suffix(".git").unwrap_or(uri).to_ascii_lowercase()
}

fn strings_at<'v>(value: &'v Value, keys: &[&str]) -> Vec<&'v str> {
    let mut out = Vec::new();
    for key in keys {
        if let Some(s) = value.get(*key).and_then(Value::as_str) {
            out.push(s);
        }
        if let Some(s) = value
            .get("workflow")
            .and_then(|w| w.get(*key))
            .and_then(Value::as_str)
        {
            out.push(s);
        }
    }
    out
}

/// Verifies and checks one envelope. Only parse failures are errors; every
/// failed check is a problem in the result.
pub fn check(
    file: &EvidenceFile<'_>,
    settings: &ProvenanceSettings,
    artifact: Option<&Digest>,
) -> Result<Checked, EvidenceError> {
    let body = text(file)?;
    let envelope = Envelope::from_json(body.as_bytes())
        .map_err(|e| EvidenceError::malformed(file.name, FORMAT, e))?;
    let keys: Vec<&ed25519_dalek::VerifyingKey> =
        settings.keys.iter().map(PublicKey::verifying_key).collect();
    let mut checked = Checked::default();
    let payload = match envelope.verify(&keys) {
        Ok(v) => v.payload,
        Err(EnvelopeError::NoValidSignature) => {
            checked.problems.push(format!(
                "no signature verifies with the {} trusted builder key(s) in the gate's `keys`",
                keys.len()
            ));
            return Ok(checked);
        }
        Err(e) => {
            checked.problems.push(e.to_string());
            return Ok(checked);
        }
    };
    checked.signature_verified = true;
    let statement: Statement = serde_json::from_slice(payload)
        .map_err(|e| EvidenceError::malformed(file.name, "in-toto Statement v1", e))?;
    if statement.kind != STATEMENT_V1 {
        checked.problems.push(format!(
            "statement _type is \"{}\"; expected \"{STATEMENT_V1}\"",
            statement.kind
        ));
    }
    if statement.predicate_type != SLSA_V1 {
        checked.problems.push(format!(
            "predicateType is \"{}\"; expected \"{SLSA_V1}\"",
            statement.predicate_type
        ));
    }
    match artifact {
        None => checked.problems.push(
            "the promoted artifact's digest is unknown, so the subject cannot be matched (pass --artifact sha256:HEX)"
                .to_owned(),
        ),
        Some(digest) => {
            let hex = digest.to_hex();
            if !statement
                .subject
                .iter()
                .any(|s| s.digest.get("sha256").is_some_and(|d| d.eq_ignore_ascii_case(&hex)))
            {
                checked.problems.push(format!(
                    "no subject has sha256 {hex}, the promoted artifact; this provenance is about another build"
                ));
            }
        }
    }
    let predicate = statement.predicate.unwrap_or_default();
    checked.builder = predicate.run_details.builder.id;
    if !settings.builders.is_empty() && !settings.builders.contains(&checked.builder) {
        checked.problems.push(format!(
            "builder \"{}\" is not in the gate's `builders` allow-list",
            checked.builder
        ));
    }
    let params = &predicate.build_definition.external_parameters;
    let mut repos: Vec<String> = strings_at(params, &["repository", "source", "repo"])
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut refs: Vec<String> = strings_at(params, &["ref"])
        .into_iter()
        .map(str::to_owned)
        .collect();
    for dep in &predicate.build_definition.resolved_dependencies {
        if let Some(commit) = dep.digest.get("gitCommit") {
            repos.push(dep.uri.clone());
            if let Some((_, r)) = dep.uri.rsplit_once('@')
                && r.starts_with("refs/")
            {
                refs.push(r.to_owned());
            }
            checked.commit.get_or_insert_with(|| commit.clone());
        }
    }
    refs.sort();
    refs.dedup();
    let wanted = normalise_repo(&settings.source);
    if !repos.iter().any(|r| normalise_repo(r) == wanted) {
        checked.problems.push(format!(
            "the build's source ({}) is not the gate's source {}",
            if repos.is_empty() {
                "not stated".to_owned()
            } else {
                repos.join(", ")
            },
            settings.source
        ));
    }
    if !settings.refs.is_empty() && !refs.iter().any(|r| settings.refs.contains(r)) {
        checked.problems.push(format!(
            "the build's ref ({}) is not one of the gate's refs {}",
            if refs.is_empty() {
                "not stated".to_owned()
            } else {
                refs.join(", ")
            },
            settings.refs.join(", ")
        ));
    }
    checked.repositories = repos;
    checked.refs = refs;
    Ok(checked)
}
