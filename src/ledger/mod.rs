//! The transparency log's pure core (DESIGN §3.2): RFC 6962 hashing, an
//! append-only Merkle tree with historical proofs, proof verification, C2SP
//! signed notes and checkpoints, the `tlog-proof` offline bundle, and the
//! client rule that turns a fork or rollback into an [`tracker::Alarm`].
//!
//! Nothing here performs I/O: the store and the client decide where bytes
//! come from and where evidence is written.

pub mod checkpoint;
pub mod cosignature;
pub mod hash;
pub mod note;
pub mod proof;
pub mod tlog_proof;
pub mod tracker;
pub mod tree;

pub use checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
pub use hash::{EMPTY_ROOT, Hash, HashLengthError, hash_from_slice, leaf_hash, node_hash};
pub use note::{Note, NoteError, NoteSignature, NoteVerification};
pub use proof::{ProofError, root_from_inclusion_proof, verify_consistency, verify_inclusion};
pub use tlog_proof::{TlogProof, TlogProofError};
pub use tracker::{Accepted, Alarm, AlarmReason, check_checkpoint};
pub use tree::{MerkleTree, TreeError, root_of};
