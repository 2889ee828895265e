//! Drift: what an environment runs besides the artifact, captured as a
//! [`Snapshot`](crate::statement::Snapshot) and compared between
//! environments.
//!
//! The pipeline follows the research notes (evidence-formats.md §4–6):
//! **capture** configuration from JSON, YAML, `.env` and Kubernetes
//! ConfigMap/Secret JSON ([`capture`]); **fingerprint** secrets with a keyed
//! HMAC-SHA256 so no value is ever kept ([`fingerprint`]); **normalise**
//! keyed arrays into maps and drop the paths the policy ignores (JSON
//! pointers, [`normalise`]); then **diff** ([`diff`]): `treediff` rows for the
//! table, an RFC 6902 `json-patch` for storage and a `similar` unified text
//! view.
//!
//! Everything here is pure: bytes in, values out. Reading files, keys and
//! the verified log is the CLI's job.

pub mod capture;
pub mod diff;
pub mod fingerprint;
pub mod lookup;
pub mod normalise;
pub mod snapshot;

pub use capture::{Captured, InputFormat};
pub use diff::{Change, Comparison, Row, compare};
pub use fingerprint::HmacKey;
pub use lookup::{Bound, bound_snapshots, latest};
pub use snapshot::{Identity, Parts};

/// Largest file a capture reads, in bytes. A snapshot must fit one signed
/// log entry (64 KiB), so real inputs are far smaller; the bound keeps
/// memory use predictable on hostile input.
pub const MAX_CAPTURE_BYTES: usize = 1024 * 1024;

/// Deepest nesting a captured document may have. Configuration is shallow;
/// the bound keeps every recursive step (normalise, diff) small.
pub const MAX_DEPTH: usize = 32;

/// Why an input could not be captured. Every message names the input, the
/// problem and the fix, and never quotes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriftError {
    #[error(
        "{name}: the file is {size} bytes; a snapshot input is limited to {MAX_CAPTURE_BYTES} bytes. Capture only the service's own configuration"
    )]
    TooLarge { name: String, size: usize },
    #[error(
        "{name}: the file is not UTF-8 text (invalid byte at offset {offset}); save it as UTF-8"
    )]
    NotUtf8 { name: String, offset: usize },
    #[error("{name}: the file is empty; point at the file the deployment reads")]
    Empty { name: String },
    #[error(
        "{name}: not valid {format}: {detail}. Fix the file, or pass --format if it was misdetected"
    )]
    Malformed {
        name: String,
        format: &'static str,
        detail: String,
    },
    #[error(
        "{name}: nested deeper than {MAX_DEPTH} levels; configuration this deep is refused. Capture a flatter file"
    )]
    TooDeep { name: String },
    #[error("{name}: {problem}; {fix}")]
    Shape {
        name: String,
        problem: String,
        fix: String,
    },
    #[error("the HMAC key {name}: {problem}")]
    Key { name: String, problem: String },
}

impl DriftError {
    fn shape(name: &str, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::Shape {
            name: name.to_owned(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

#[cfg(test)]
mod tests;
