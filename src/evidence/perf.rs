//! Performance metrics: a k6 end-of-test summary (`handleSummary` JSON,
//! `metrics.<name>.values.<stat>`, or the legacy `--summary-export` shape
//! `metrics.<name>.<stat>`) or a plain file `{"metrics": {"name": number},
//! "baseline": {"name": number}}`. k6's own threshold flags are not
//! trusted; the gate re-evaluates its budget from the values.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{EvidenceError, EvidenceFile, json};

const FORMAT: &str = "metrics JSON";

#[derive(Deserialize)]
struct Document {
    metrics: BTreeMap<String, Value>,
    #[serde(default)]
    baseline: BTreeMap<String, Value>,
}

/// Metrics read from one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    metrics: BTreeMap<String, Value>,
    baseline: BTreeMap<String, Value>,
}

pub fn parse(file: &EvidenceFile<'_>) -> Result<Metrics, EvidenceError> {
    let doc: Document = json(file, FORMAT)?;
    Ok(Metrics {
        metrics: doc.metrics,
        baseline: doc.baseline,
    })
}

fn lookup(map: &BTreeMap<String, Value>, metric: &str) -> Option<f64> {
    if let Some(v) = map.get(metric).and_then(Value::as_f64) {
        return Some(v).filter(|v| v.is_finite());
    }
    let (name, stat) = metric.split_once('.')?;
    let entry = map.get(name)?;
    entry
        .get("values")
        .and_then(|v| v.get(stat))
        .or_else(|| entry.get(stat))
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
}

impl Metrics {
    pub fn value(&self, metric: &str) -> Option<f64> {
        lookup(&self.metrics, metric)
    }

    pub fn baseline(&self, metric: &str) -> Option<f64> {
        lookup(&self.baseline, metric)
    }

    /// Metric names, for "not found" messages.
    pub fn names(&self) -> Vec<&str> {
        self.metrics.keys().map(String::as_str).take(20).collect()
    }
}
