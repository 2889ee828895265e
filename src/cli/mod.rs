//! The command line (DESIGN.md §6). Thin: parse arguments with clap, call
//! into the library, print, and map outcomes onto the exit-code contract:
//! 0 success, 1 refused or blocked, 2 usage or input error, 3 store
//! unreachable.

mod key;
mod messages;
mod policy;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes scripts and CI depend on.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const REFUSED: u8 = 1;
    pub const INPUT: u8 = 2;
    pub const UNREACHABLE: u8 = 3;
}

/// An outcome of a command that is not plain success.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A policy or verification verdict: exit 1.
    #[error("{0}")]
    Refused(String),
    /// Bad input or usage: exit 2.
    #[error(transparent)]
    Input(#[from] anyhow::Error),
}

impl CommandError {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Refused(_) => exit::REFUSED,
            Self::Input(_) => exit::INPUT,
        }
    }
}

pub type CommandResult = Result<(), CommandError>;

#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    about = "Secure, auditable code promotion between environments",
    long_about = "tollgate: signed approvals, gates and rollbacks for promoting releases \
                  between environments, recorded in a tamper-evident audit log.\n\n\
                  Exit codes: 0 success, 1 refused or blocked, 2 usage or input error, \
                  3 store unreachable."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create and inspect your signing key.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Check policy documents.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Verify a signed statement (a DSSE envelope) against a policy, offline.
    Verify(verify::VerifyArgs),
}

/// Where the private key lives: `--key`, else `TOLLGATE_KEY`, else the data directory.
#[derive(Debug, clap::Args)]
struct KeyPath {
    /// Private key file [default: <data dir>/keys/operator.key]
    #[arg(long, env = "TOLLGATE_KEY", value_name = "FILE")]
    key: Option<PathBuf>,
}

impl KeyPath {
    fn resolve(&self) -> anyhow::Result<PathBuf> {
        match &self.key {
            Some(path) => Ok(path.clone()),
            None => Ok(crate::paths::default_key_file()?),
        }
    }
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Key(command) => key::run(command),
        Command::Policy(command) => policy::run(&command),
        Command::Verify(args) => verify::run(&args),
    };
    match result {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(error) => {
            match &error {
                CommandError::Refused(reason) => eprintln!("{}", messages::refused(reason)),
                CommandError::Input(e) => eprintln!("{}", messages::error(e)),
            }
            ExitCode::from(error.exit_code())
        }
    }
}
