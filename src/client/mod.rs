//! The client side of the audit store: configuration, the HTTPS client,
//! sync and verification of what the store hands out, the receipts of what
//! this client submitted, the outbox, the action layer, and the re-judging
//! of gate results from their evidence.

pub mod actions;
pub mod cache;
pub mod config;
pub mod evidence;
pub mod http;
pub mod outbox;
pub mod receipts;
pub mod sync;
