//! `tollgate demo`'s library half: the personas and their policy
//! ([`personas`]), the seeded story as signed entries ([`scenario`]), and
//! screenshots of the real renderer's buffer ([`svg`]). The command itself
//! (workspace, in-process store and witnesses, the cockpit) is
//! `cli::demo`.

pub mod personas;
pub mod scenario;
pub mod shots;
pub mod svg;
