//! The client side of the audit store: verifying what the store hands out.
//! (The HTTPS client, sync, local cache and outbox build on [`verify`].)

pub mod verify;
