//! The client side of the audit store: configuration, the HTTPS client,
//! sync and verification of what the store hands out, the receipts of what
//! this client submitted, the outbox, and the action layer.

pub mod actions;
pub mod cache;
pub mod config;
pub mod http;
pub mod outbox;
pub mod receipts;
pub mod sync;
