//! The client side of the audit store: configuration, the HTTPS client,
//! sync and verification of what the store hands out.

pub mod config;
pub mod http;
pub mod receipts;
pub mod sync;
pub mod verify;
