//! tollgate: secure, auditable code promotion between environments.
//!
//! The crate is layered (see `DESIGN.md` §2). Pure core first: [`digest`],
//! [`envelope`], [`keys`], [`statement`], [`policy`], [`state`], [`ledger`].
//! Nothing in those modules performs network I/O; key files are the only
//! file I/O below the command line, kept in [`keys::file`].
#![forbid(unsafe_code)]

pub mod chunked;
pub mod cli;
pub mod client;
pub mod demo;
pub mod digest;
pub mod drift;
pub mod durable;
pub mod encoding;
pub mod envelope;
pub mod evidence;
pub mod https;
pub mod httpsig;
pub mod keys;
pub mod ledger;
pub mod paths;
pub mod policy;
pub mod replay;
pub mod state;
pub mod statement;
pub mod store;
pub mod tls;
pub mod tui;
pub mod wire;
pub mod witness;
