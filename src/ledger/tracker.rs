//! The client rule for accepting a new checkpoint from the log (DESIGN
//! §3.2): a bigger tree must prove it extends the trusted one, an equal size
//! must carry the identical root, and anything else is an [`Alarm`].
//!
//! Pure: the caller loads the trusted checkpoint, calls [`check_checkpoint`],
//! and on `Ok` replaces its state atomically; on `Err` it writes
//! [`Alarm::report`] to disk and stops. Evidence is the raw signed bytes, so
//! a third party can check both signatures without trusting us.

use std::fmt::{self, Write as _};

use crate::encoding;

use super::checkpoint::SignedCheckpoint;
use super::hash::Hash;
use super::proof::{ProofError, verify_consistency};

/// Why the new checkpoint was acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Nothing was trusted before; trust on first use.
    First,
    /// Same size and root as the trusted checkpoint.
    Same,
    /// A larger tree, proven consistent with the trusted one.
    Extended,
}

/// What is wrong with the new checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlarmReason {
    /// Two signed checkpoints for the same origin and size with different
    /// roots: the log has forked.
    DifferentRootSameSize,
    /// The log presents a smaller tree than one it already signed.
    Rollback,
    /// The consistency proof does not link the two trees.
    Inconsistent(ProofError),
    /// The two checkpoints name different logs.
    OriginChanged,
}

impl fmt::Display for AlarmReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DifferentRootSameSize => {
                f.write_str("the log signed two different roots for the same tree size")
            }
            Self::Rollback => f.write_str("the log presented a smaller tree than one it signed"),
            Self::Inconsistent(e) => {
                write!(
                    f,
                    "the new tree is not proven to extend the trusted one: {e}"
                )
            }
            Self::OriginChanged => f.write_str("the new checkpoint names a different log"),
        }
    }
}

/// Evidence that the log misbehaved (or that someone is impersonating it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SECURITY ERROR: {reason}")]
pub struct Alarm {
    pub reason: AlarmReason,
    /// The previously trusted signed checkpoint, verbatim.
    pub trusted: Vec<u8>,
    /// The newly received signed checkpoint, verbatim.
    pub candidate: Vec<u8>,
    /// The consistency proof that was offered (possibly empty).
    pub proof: Vec<Hash>,
}

impl Alarm {
    /// A self-contained text report: what was expected, what was seen, both
    /// signed checkpoints and the proof, enough to convince a third party.
    pub fn report(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(out, "SECURITY ERROR");
        let _ = writeln!(out, "reason: {}", self.reason);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "This means the transparency log has been tampered with, forked, or \
             is being impersonated. Do not proceed; keep this report and both \
             checkpoints below as evidence."
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "trusted checkpoint (verified earlier):");
        push_block(&mut out, &self.trusted);
        let _ = writeln!(out, "new checkpoint (verified signature, rejected):");
        push_block(&mut out, &self.candidate);
        let _ = writeln!(out, "consistency proof ({} hashes):", self.proof.len());
        for hash in &self.proof {
            let _ = writeln!(out, "  {}", encoding::encode(hash));
        }
        out
    }
}

/// Indents a signed note; non-UTF-8 bytes (impossible for a verified note,
/// but the report must never fail) fall back to base64.
fn push_block(out: &mut String, bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        for line in text.lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    } else {
        out.push_str("  base64:");
        out.push_str(&encoding::encode(bytes));
        out.push('\n');
    }
    out.push('\n');
}

/// Decides whether `candidate` may replace `trusted`, given the consistency
/// proof from the trusted size to the candidate size.
pub fn check_checkpoint(
    trusted: Option<&SignedCheckpoint>,
    candidate: &SignedCheckpoint,
    proof: &[Hash],
) -> Result<Accepted, Alarm> {
    let Some(trusted) = trusted else {
        return Ok(Accepted::First);
    };
    let alarm = |reason| Alarm {
        reason,
        trusted: trusted.as_bytes().to_vec(),
        candidate: candidate.as_bytes().to_vec(),
        proof: proof.to_vec(),
    };
    let (old, new) = (trusted.checkpoint(), candidate.checkpoint());
    if old.origin != new.origin {
        return Err(alarm(AlarmReason::OriginChanged));
    }
    if new.size < old.size {
        return Err(alarm(AlarmReason::Rollback));
    }
    if new.size == old.size {
        if new.root != old.root {
            return Err(alarm(AlarmReason::DifferentRootSameSize));
        }
        if !proof.is_empty() {
            return Err(alarm(AlarmReason::Inconsistent(
                ProofError::NonEmptyProofForEqualSizes,
            )));
        }
        return Ok(Accepted::Same);
    }
    if old.size == 0 {
        // Every tree extends the empty one; a proof here is a protocol
        // violation (tlog-witness answers 422), not something to ignore.
        if !proof.is_empty() {
            return Err(alarm(AlarmReason::Inconsistent(
                ProofError::WrongProofSize {
                    got: proof.len(),
                    want: 0,
                },
            )));
        }
        return Ok(Accepted::Extended);
    }
    verify_consistency(old.size, new.size, &old.root, &new.root, proof)
        .map_err(|e| alarm(AlarmReason::Inconsistent(e)))?;
    Ok(Accepted::Extended)
}
