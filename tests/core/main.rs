//! The pure core against vectors, properties and rules: Merkle trees and
//! proofs, signed notes and tlog-proofs, DSSE and ed25519 edge cases, policy
//! checking, the state fold, byte-flip tampering and RFC 9421 interop. One
//! test binary, so a 2-core machine links it once.

#[path = "../common/mod.rs"]
mod common;

mod actions;
mod httpsig_interop;
mod incremental;
mod ledger_notes;
mod ledger_properties;
mod ledger_tlog;
mod ledger_vectors;
mod policy_check;
mod rejudge;
mod signature_vectors;
mod state_rules;
mod tamper;
