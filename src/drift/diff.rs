//! The structured diff of two snapshots: `treediff` rows (path, from, to,
//! change kind) for the table, an RFC 6902 `json-patch` for storage, and a
//! `similar` unified diff of the canonical (sorted-key) pretty JSON for the
//! text view.

use serde::Serialize;
use serde_json::Value;
use treediff::tools::{ChangeType, Recorder};
use treediff::value::Key;

use super::normalise::{self, escape};
use crate::statement::Snapshot;

/// How a path differs between the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Change {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Changed => "changed",
        }
    }
}

/// One difference: a JSON pointer into the snapshot tree and both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub path: String,
    pub from: Option<Value>,
    pub to: Option<Value>,
    pub change: Change,
}

impl Row {
    /// A side as shown in a table cell: strings bare, fingerprints
    /// shortened to their key id and 12 hex digits, absence as `—`.
    pub fn cell(value: Option<&Value>) -> String {
        match value {
            None => "—".to_owned(),
            Some(Value::String(s)) => match s.strip_prefix("hmac-sha256:") {
                Some(rest) => match rest.split_once(':') {
                    Some((id, hex)) => format!("hmac:{id}:{}…", &hex[..hex.len().min(12)]),
                    None => s.clone(),
                },
                None => s.clone(),
            },
            Some(other) => other.to_string(),
        }
    }
}

/// Two snapshots compared: the rows, the patch that turns `from` into `to`,
/// and both normalised trees for the text view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub service: String,
    pub from_env: String,
    pub to_env: String,
    pub ignored: Vec<String>,
    pub rows: Vec<Row>,
    /// RFC 6902 operations from `from` to `to` (the stored form).
    pub patch: json_patch::Patch,
    #[serde(skip)]
    pub from_tree: Value,
    #[serde(skip)]
    pub to_tree: Value,
}

impl Comparison {
    /// The unified text view.
    pub fn unified(&self) -> String {
        unified(&self.from_env, &self.to_env, &self.from_tree, &self.to_tree)
    }
}

/// Compares `from` with `to` after dropping the `ignore` pointers on both
/// sides.
pub fn compare(from: &Snapshot, to: &Snapshot, ignore: &[String]) -> Comparison {
    let mut from_tree = normalise::tree(from);
    let mut to_tree = normalise::tree(to);
    normalise::ignore(&mut from_tree, ignore);
    normalise::ignore(&mut to_tree, ignore);
    Comparison {
        service: to.service.clone(),
        from_env: from.environment.clone(),
        to_env: to.environment.clone(),
        ignored: ignore.to_vec(),
        rows: rows(&from_tree, &to_tree),
        patch: json_patch::diff(&from_tree, &to_tree),
        from_tree,
        to_tree,
    }
}

/// The differing leaves of two trees, in path order.
pub fn rows(from: &Value, to: &Value) -> Vec<Row> {
    let mut recorder = Recorder::default();
    treediff::diff(from, to, &mut recorder);
    let mut out: Vec<Row> = recorder
        .calls
        .into_iter()
        .filter_map(|call| match call {
            ChangeType::Unchanged(..) => None,
            ChangeType::Added(path, v) => Some(Row {
                path: pointer(&path),
                from: None,
                to: Some(v.clone()),
                change: Change::Added,
            }),
            ChangeType::Removed(path, v) => Some(Row {
                path: pointer(&path),
                from: Some(v.clone()),
                to: None,
                change: Change::Removed,
            }),
            ChangeType::Modified(path, a, b) => Some(Row {
                path: pointer(&path),
                from: Some(a.clone()),
                to: Some(b.clone()),
                change: Change::Changed,
            }),
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn pointer(path: &[Key]) -> String {
    let mut out = String::new();
    for k in path {
        out.push('/');
        out.push_str(&escape(&k.to_string()));
    }
    out
}

/// A unified diff of the two trees as sorted-key pretty JSON.
pub fn unified(from_label: &str, to_label: &str, from: &Value, to: &Value) -> String {
    let a = pretty(from);
    let b = pretty(to);
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header(from_label, to_label)
        .to_string()
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
