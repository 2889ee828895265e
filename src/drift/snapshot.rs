//! Building a [`Snapshot`] predicate from captured parts: configuration
//! merged from several files, feature flags, dependency versions from an
//! SBOM, image digests and secrets, which are fingerprinted here and
//! dropped.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::capture::{Captured, SecretBytes};
use super::{DriftError, HmacKey, normalise};
use crate::digest::Digest;
use crate::statement::Snapshot;

/// Everything a snapshot is made of, before secrets are fingerprinted.
#[derive(Debug, Default)]
pub struct Parts {
    pub config: Map<String, Value>,
    pub flags: Map<String, Value>,
    pub dependencies: BTreeMap<String, String>,
    pub images: BTreeMap<String, Digest>,
    secrets: BTreeMap<String, SecretBytes>,
    /// Which file set each key, for conflict messages.
    origin: BTreeMap<String, String>,
}

/// Who and when, besides the parts.
#[derive(Debug, Clone)]
pub struct Identity {
    pub environment: String,
    pub service: String,
    pub artifact: Digest,
    pub captured_at: OffsetDateTime,
}

impl Parts {
    /// Adds one captured configuration file. A key set by two files is an
    /// error naming both.
    pub fn add_config(&mut self, name: &str, captured: Captured) -> Result<(), DriftError> {
        for (key, value) in captured.config {
            self.claim(name, "config", &key)?;
            self.config.insert(key, value);
        }
        self.add_secrets(name, captured.secrets)
    }

    /// Adds feature flags (a map of flag names to values).
    pub fn add_flags(&mut self, name: &str, captured: Captured) -> Result<(), DriftError> {
        if !captured.secrets.is_empty() {
            return Err(DriftError::shape(
                name,
                "a Secret was given as a flags file",
                "pass Secrets with --secrets",
            ));
        }
        for (key, value) in captured.config {
            self.claim(name, "flags", &key)?;
            self.flags.insert(key, value);
        }
        Ok(())
    }

    /// Adds secrets; only their fingerprints reach the snapshot.
    pub fn add_secrets(
        &mut self,
        name: &str,
        secrets: BTreeMap<String, SecretBytes>,
    ) -> Result<(), DriftError> {
        for (key, value) in secrets {
            self.claim(name, "secrets", &key)?;
            self.secrets.insert(key, value);
        }
        Ok(())
    }

    /// Adds dependency versions keyed by package URL without its version
    /// (or the name when there is no purl): `(name, purl, version)` per
    /// component. Two versions of one package are both kept, sorted.
    pub fn add_dependencies<'a>(
        &mut self,
        components: impl IntoIterator<Item = (&'a str, Option<&'a str>, &'a str)>,
    ) {
        let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, purl, version) in components {
            let key = purl.map_or_else(|| name.to_owned(), purl_without_version);
            let list = versions.entry(key).or_default();
            if !list.iter().any(|v| v == version) {
                list.push(version.to_owned());
            }
        }
        for (key, mut list) in versions {
            list.sort();
            self.dependencies.insert(key, list.join(", "));
        }
    }

    fn claim(&mut self, name: &str, section: &str, key: &str) -> Result<(), DriftError> {
        let slot = format!("{section}/{key}");
        if let Some(first) = self.origin.insert(slot, name.to_owned()) {
            return Err(DriftError::shape(
                name,
                format!("{section} key `{key}` is also set by {first}"),
                "capture each key from one file",
            ));
        }
        Ok(())
    }

    /// The snapshot predicate: configuration and flags normalised (keyed
    /// arrays become maps), secrets replaced by fingerprints under `key`.
    pub fn into_snapshot(
        self,
        who: Identity,
        key: Option<&HmacKey>,
    ) -> Result<Snapshot, DriftError> {
        let secret_fingerprints = match (key, self.secrets.is_empty()) {
            (_, true) => BTreeMap::new(),
            (Some(key), false) => self
                .secrets
                .iter()
                .map(|(name, value)| (name.clone(), key.fingerprint(value)))
                .collect(),
            (None, false) => {
                return Err(DriftError::Key {
                    name: "(none given)".to_owned(),
                    problem: format!(
                        "{} secret(s) to fingerprint ({}); pass --hmac-key FILE with the collectors' shared key",
                        self.secrets.len(),
                        self.secrets.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        };
        Ok(Snapshot {
            environment: who.environment,
            service: who.service,
            captured_at: who.captured_at,
            artifact: who.artifact,
            config: normalise::map(self.config).into_iter().collect(),
            flags: normalise::map(self.flags).into_iter().collect(),
            dependencies: self.dependencies,
            images: self.images,
            secret_fingerprints,
        })
    }
}

/// `pkg:cargo/serde@1.0.1?x=y#sub` → `pkg:cargo/serde`.
pub fn purl_without_version(purl: &str) -> String {
    let end = purl.find(['?', '#']).unwrap_or(purl.len());
    let base = &purl[..end];
    // The version follows the last `@` after the type (a namespace may be
    // `@scope`, which comes before the last `/`).
    let name_start = base.rfind('/').map_or(0, |i| i + 1);
    match base[name_start..].find('@') {
        Some(at) => base[..name_start + at].to_owned(),
        None => base.to_owned(),
    }
}
