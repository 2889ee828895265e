//! The store and the CLI for real: `tollgate serve` over HTTPS on SQLite and
//! PostgreSQL, the command line run as a user runs it, crashes, forks and
//! hostile clients. One test binary, so a 2-core machine links it once.
//! PostgreSQL halves skip with one line when it does not answer, unless
//! `TOLLGATE_REQUIRE_POSTGRES=1` (see `common::pg`).

#[path = "../common/mod.rs"]
mod common;

mod cache;
mod cli_offline;
mod cockpit;
mod crash;
mod demo;
mod evidence;
mod first_run;
mod flow;
mod hostile;
mod more;
mod store_pipeline;
mod tui;
mod witness;
