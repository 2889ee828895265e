//! Capture: configuration files as CI and clusters hold them (JSON, YAML,
//! `.env`, Kubernetes ConfigMap and Secret manifests) read into one shape:
//! a map of configuration values and, separately, secret bytes that only
//! ever leave this module as fingerprints.
//!
//! Pure: a file name (for messages) and its bytes in, a [`Captured`] out.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::{DriftError, MAX_CAPTURE_BYTES, MAX_DEPTH};

/// The formats a capture reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    Json,
    Yaml,
    /// `KEY=value` lines (`.env`, `export KEY=value`, `#` comments).
    Env,
    /// A Kubernetes ConfigMap or Secret manifest (JSON or YAML).
    #[value(name = "k8s")]
    Kubernetes,
}

impl InputFormat {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::Yaml => "YAML",
            Self::Env => ".env",
            Self::Kubernetes => "Kubernetes manifest",
        }
    }
}

/// A secret value; wiped from memory when dropped and never printed.
pub type SecretBytes = Zeroizing<Vec<u8>>;

/// What one file contributed to a snapshot.
#[derive(Default)]
pub struct Captured {
    /// Configuration keys and values (a ConfigMap's `data`, a whole JSON or
    /// YAML document, `.env` lines).
    pub config: Map<String, Value>,
    /// Secret bytes by name (a Kubernetes Secret's decoded `data` and
    /// `stringData`); fingerprinted before anything else sees them.
    pub secrets: BTreeMap<String, SecretBytes>,
}

impl std::fmt::Debug for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: a secret's value must never reach a log or a panic.
        f.debug_struct("Captured")
            .field("config", &self.config)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Reads a configuration file. `format` overrides detection (from the
/// extension, then the content). A Kubernetes Secret's values go to
/// [`Captured::secrets`], never to the configuration.
pub fn parse(
    name: &str,
    bytes: &[u8],
    format: Option<InputFormat>,
) -> Result<Captured, DriftError> {
    let text = text(name, bytes)?;
    let format = format.unwrap_or_else(|| detect(name, text));
    let value = match format {
        InputFormat::Env => {
            return Ok(Captured {
                config: env_lines(name, text, false)?
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v.as_str().to_owned())))
                    .collect(),
                secrets: BTreeMap::new(),
            });
        }
        InputFormat::Json => json(name, text, false)?,
        InputFormat::Yaml => yaml(name, text, false)?,
        InputFormat::Kubernetes => structured(name, text, false)?,
    };
    check_depth(name, &value)?;
    if let Some(kind) = kubernetes_kind(&value) {
        return kubernetes(name, kind, value);
    }
    if format == InputFormat::Kubernetes {
        return Err(DriftError::shape(
            name,
            "not a Kubernetes ConfigMap or Secret (no `apiVersion` with `kind: ConfigMap` or `kind: Secret`)",
            "pass the manifest as `kubectl get configmap NAME -o json` prints it",
        ));
    }
    match value {
        Value::Object(config) => Ok(Captured {
            config,
            secrets: BTreeMap::new(),
        }),
        other => Err(DriftError::shape(
            name,
            format!("the document is {}, not a map of settings", kind_of(&other)),
            "capture a file whose top level is a map (key: value)",
        )),
    }
}

/// Reads a file that holds only secrets: `.env`, a flat JSON or YAML map of
/// strings, or a Kubernetes Secret. Error messages give positions, never
/// content.
pub fn parse_secrets(
    name: &str,
    bytes: &[u8],
    format: Option<InputFormat>,
) -> Result<BTreeMap<String, SecretBytes>, DriftError> {
    let text = text(name, bytes)?;
    let format = format.unwrap_or_else(|| detect(name, text));
    let value = match format {
        InputFormat::Env => {
            return Ok(env_lines(name, text, true)?
                .into_iter()
                .map(|(k, v)| (k, Zeroizing::new(v.as_bytes().to_vec())))
                .collect());
        }
        InputFormat::Json => json(name, text, true)?,
        InputFormat::Yaml => yaml(name, text, true)?,
        InputFormat::Kubernetes => structured(name, text, true)?,
    };
    check_depth(name, &value)?;
    if let Some(kind) = kubernetes_kind(&value) {
        let captured = kubernetes(name, kind, value)?;
        if !captured.config.is_empty() {
            return Err(DriftError::shape(
                name,
                "a ConfigMap was given as --secrets",
                "pass ConfigMaps as FILE arguments and Secrets with --secrets",
            ));
        }
        return Ok(captured.secrets);
    }
    let Value::Object(map) = value else {
        return Err(DriftError::shape(
            name,
            "the secrets file is not a map of names to values",
            "write one `NAME: value` per secret",
        ));
    };
    let mut out = BTreeMap::new();
    for (key, value) in map {
        let bytes = match value {
            Value::String(s) => s.into_bytes(),
            Value::Number(n) => n.to_string().into_bytes(),
            Value::Bool(b) => b.to_string().into_bytes(),
            _ => {
                return Err(DriftError::shape(
                    name,
                    format!("secret `{key}` is not a string"),
                    "secrets files are flat: one `NAME: value` per secret",
                ));
            }
        };
        out.insert(key, Zeroizing::new(bytes));
    }
    Ok(out)
}

/// Detects the format from the file name, then from the content.
pub fn detect(name: &str, text: &str) -> InputFormat {
    let path = std::path::Path::new(name);
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("json") => return InputFormat::Json,
        Some("yaml" | "yml") => return InputFormat::Yaml,
        Some("env") => return InputFormat::Env,
        _ => {}
    }
    if path
        .file_name()
        .and_then(|f| f.to_str())
        .is_some_and(|f| f.starts_with(".env"))
    {
        return InputFormat::Env;
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return InputFormat::Json;
    }
    let first = trimmed
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let key = first.strip_prefix("export ").unwrap_or(first);
    if key.split_once('=').is_some_and(|(k, _)| is_env_name(k)) {
        InputFormat::Env
    } else {
        InputFormat::Yaml
    }
}

fn text<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, DriftError> {
    if bytes.len() > MAX_CAPTURE_BYTES {
        return Err(DriftError::TooLarge {
            name: name.to_owned(),
            size: bytes.len(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| DriftError::NotUtf8 {
        name: name.to_owned(),
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(DriftError::Empty {
            name: name.to_owned(),
        });
    }
    Ok(text)
}

fn malformed(name: &str, format: InputFormat, detail: String) -> DriftError {
    DriftError::Malformed {
        name: name.to_owned(),
        format: format.as_str(),
        detail,
    }
}

/// JSON with serde_json's recursion limit (128): deep nesting is an error,
/// never a stack overflow. Syntax errors carry positions, not content.
fn json(name: &str, text: &str, secret: bool) -> Result<Value, DriftError> {
    serde_json::from_str(text).map_err(|e| {
        let detail = if secret {
            format!("syntax error at line {}, column {}", e.line(), e.column())
        } else {
            e.to_string()
        };
        malformed(name, InputFormat::Json, detail)
    })
}

/// YAML through serde-saphyr with its budgets (depth, nodes, aliases) and
/// without source snippets, so a message never quotes the file.
fn yaml(name: &str, text: &str, secret: bool) -> Result<Value, DriftError> {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH + 2;
    options.budget = Some(budget);
    serde_saphyr::from_str_with_options::<Value>(text, options).map_err(|e| {
        let detail = match (secret, e.location()) {
            (true, Some(at)) => {
                format!("syntax error at line {}, column {}", at.line(), at.column())
            }
            (true, None) => "syntax error".to_owned(),
            (false, _) => e
                .to_string()
                .lines()
                .next()
                .unwrap_or("syntax error")
                .to_owned(),
        };
        malformed(name, InputFormat::Yaml, detail)
    })
}

/// A manifest may be JSON or YAML.
fn structured(name: &str, text: &str, secret: bool) -> Result<Value, DriftError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        json(name, text, secret)
    } else {
        yaml(name, text, secret)
    }
}

fn check_depth(name: &str, value: &Value) -> Result<(), DriftError> {
    fn depth(v: &Value, at: usize) -> bool {
        if at > MAX_DEPTH {
            return false;
        }
        match v {
            Value::Object(m) => m.values().all(|x| depth(x, at + 1)),
            Value::Array(a) => a.iter().all(|x| depth(x, at + 1)),
            _ => true,
        }
    }
    if depth(value, 0) {
        Ok(())
    } else {
        Err(DriftError::TooDeep {
            name: name.to_owned(),
        })
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    ConfigMap,
    Secret,
}

fn kubernetes_kind(value: &Value) -> Option<Kind> {
    let object = value.as_object()?;
    object.get("apiVersion")?.as_str()?;
    match object.get("kind")?.as_str()? {
        "ConfigMap" => Some(Kind::ConfigMap),
        "Secret" => Some(Kind::Secret),
        _ => None,
    }
}

/// A ConfigMap's `data` and `binaryData` (as text) become configuration;
/// a Secret's `data` (base64, decoded) and `stringData` become secrets.
fn kubernetes(name: &str, kind: Kind, value: Value) -> Result<Captured, DriftError> {
    let Value::Object(mut object) = value else {
        return Ok(Captured::default());
    };
    let mut section = |key: &str| -> Result<Map<String, Value>, DriftError> {
        match object.remove(key) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m),
            Some(other) => Err(DriftError::shape(
                name,
                format!("`{key}` is {}, not a map", kind_of(&other)),
                "a manifest's data is a map of names to strings",
            )),
        }
    };
    let data = section("data")?;
    let string_data = section("stringData")?;
    let binary = section("binaryData")?;
    let mut out = Captured::default();
    match kind {
        Kind::ConfigMap => {
            out.config = data;
            for (key, value) in binary {
                out.config.insert(key, value);
            }
        }
        Kind::Secret => {
            for (key, value) in data {
                let Value::String(encoded) = value else {
                    return Err(DriftError::shape(
                        name,
                        format!("Secret data `{key}` is not a base64 string"),
                        "Secret `data` values are base64 strings",
                    ));
                };
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|_| {
                        DriftError::shape(
                            name,
                            format!("Secret data `{key}` is not valid base64"),
                            "write `data` values base64-encoded, or use `stringData` for plain text",
                        )
                    })?;
                out.secrets.insert(key, Zeroizing::new(decoded));
            }
            for (key, value) in string_data {
                let Value::String(plain) = value else {
                    return Err(DriftError::shape(
                        name,
                        format!("Secret stringData `{key}` is not a string"),
                        "`stringData` values are strings",
                    ));
                };
                out.secrets.insert(key, Zeroizing::new(plain.into_bytes()));
            }
        }
    }
    Ok(out)
}

fn is_env_name(key: &str) -> bool {
    let key = key.trim();
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && !key.as_bytes()[0].is_ascii_digit()
}

/// `KEY=value` lines. Blank lines and `#` comments are skipped, `export` is
/// allowed, and single or double quotes around a value are removed. A line
/// that is none of these is an error naming its number (never its text).
fn env_lines(
    name: &str,
    text: &str,
    secret: bool,
) -> Result<BTreeMap<String, Zeroizing<String>>, DriftError> {
    let mut out = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, raw)) = line.split_once('=') else {
            return Err(malformed(
                name,
                InputFormat::Env,
                format!("line {} is not `KEY=value`", number + 1),
            ));
        };
        let key = key.trim();
        if !is_env_name(key) {
            return Err(malformed(
                name,
                InputFormat::Env,
                format!(
                    "line {}: the name is not letters, digits and `_`{}",
                    number + 1,
                    if secret {
                        String::new()
                    } else {
                        format!(" (`{key}`)")
                    }
                ),
            ));
        }
        let raw = raw.trim();
        let value = match raw.as_bytes() {
            [b'"', .., b'"'] | [b'\'', .., b'\''] if raw.len() >= 2 => &raw[1..raw.len() - 1],
            _ => raw.split_once(" #").map_or(raw, |(v, _)| v.trim_end()),
        };
        if out
            .insert(key.to_owned(), Zeroizing::new(value.to_owned()))
            .is_some()
        {
            return Err(malformed(
                name,
                InputFormat::Env,
                format!("line {}: `{key}` is set twice", number + 1),
            ));
        }
    }
    Ok(out)
}
