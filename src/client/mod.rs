//! The client side of the audit store: configuration, the HTTPS client,
//! sync and verification of what the store hands out.

pub mod actions;
pub mod config;
pub mod http;
pub mod outbox;
pub mod sync;
pub mod verify;
