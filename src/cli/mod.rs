//! The command line (DESIGN.md §6). Thin: parse arguments with clap, call
//! into the library, print, and map outcomes onto the exit-code contract:
//! 0 success, 1 refused or blocked, 2 usage or input error, 3 store
//! unreachable.

mod demo;
mod gate;
mod init;
mod join;
mod key;
mod messages;
mod outbox;
mod policy;
mod serve;
mod snapshot;
mod store;
mod verify;
mod witness;

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
    /// The store could not be reached: exit 3.
    #[error("{0}")]
    Unreachable(String),
}

impl From<crate::keys::file::KeyFileError> for CommandError {
    fn from(error: crate::keys::file::KeyFileError) -> Self {
        Self::Input(anyhow::Error::new(error))
    }
}

impl From<crate::paths::NoHomeError> for CommandError {
    fn from(error: crate::paths::NoHomeError) -> Self {
        Self::Input(anyhow::Error::new(error))
    }
}

impl CommandError {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Refused(_) => exit::REFUSED,
            Self::Input(_) => exit::INPUT,
            Self::Unreachable(_) => exit::UNREACHABLE,
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
    /// Client configuration file [default: <config dir>/config.toml]
    #[arg(long, global = true, env = "TOLLGATE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open the cockpit (also what `tollgate` alone does).
    Ui(UiArgs),
    /// A self-contained demo: a store, witnesses, personas and a seeded
    /// story, then the cockpit. Start here.
    Demo(demo::DemoArgs),
    /// Create and inspect your signing key.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Check policy documents.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Verify a signed statement (a DSSE envelope) against a policy, offline.
    Verify(verify::VerifyArgs),
    /// Run the audit store over HTTPS (SQLite by default, or PostgreSQL).
    Serve(serve::ServeArgs),
    /// Run a C2SP tlog-witness over HTTPS that cosigns the given logs' checkpoints.
    Witness(witness::WitnessArgs),
    /// Create a key, a starter policy naming you, and a client configuration
    /// that `tollgate join` completes.
    Init {
        /// Your operator name in the starter policy (and of a new key).
        #[arg(long, default_value = "you")]
        name: String,
        /// Replace an existing key and configuration.
        #[arg(long)]
        force: bool,
    },
    /// Enrol with a store: check its checkpoint and genesis policy, then
    /// write store, pin, log_vkey and policy_digest into the configuration.
    Join(join::JoinArgs),
    /// Request promotions.
    #[command(subcommand)]
    Promote(store::PromoteCommand),
    /// Evaluate evidence against a gate, or submit gate results.
    #[command(subcommand)]
    Gate(gate::GateCommand),
    /// Capture and submit environment snapshots, and diff them.
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// Report a deployment of a promotion or a rollback.
    Deployed(store::DeployedArgs),
    /// Approve a promotion (signed, bound to what your verified log shows).
    Approve(store::DecideArgs),
    /// Reject a promotion.
    Reject(store::DecideArgs),
    /// Withdraw one of your decisions (admins may withdraw any).
    Revoke(store::RevokeArgs),
    /// Waive a gate for a promotion, for a limited time.
    Waive(store::WaiveArgs),
    /// Roll a service back in an environment.
    Rollback(store::RollbackArgs),
    /// Readiness and blockers, from your own verified fold of the log.
    Status(store::StatusArgs),
    /// Verify the log, show its checkpoint, or print an inclusion proof.
    #[command(subcommand)]
    Log(store::LogCommand),
    /// List signed statements waiting for the store, delivered, or refused.
    Outbox(outbox::OutboxArgs),
    /// Deliver queued statements, then fetch and verify the log.
    Sync(outbox::SyncArgs),
}

/// Options of the cockpit.
#[derive(Debug, Default, clap::Args)]
struct UiArgs {
    /// Hide and block every action that signs something.
    #[arg(long)]
    read_only: bool,
    /// No colours (NO_COLOR does the same); bold, reverse and glyphs stay.
    #[arg(long)]
    no_color: bool,
    /// A built-in theme: dark, light, high-contrast, mono.
    #[arg(long, value_name = "NAME")]
    theme: Option<String>,
    /// A built-in keymap: default, emacs.
    #[arg(long, value_name = "NAME")]
    keymap: Option<String>,
}

fn ui(config: Option<&std::path::Path>, args: UiArgs, notice: Option<String>) -> CommandResult {
    let options = crate::tui::Options {
        read_only: args.read_only,
        no_color: args.no_color,
        theme: args.theme,
        keymap: args.keymap,
        notice,
    };
    crate::tui::run(config, &options).map_err(|e| CommandError::Input(anyhow::Error::new(e)))
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

/// Leaves `value` to the operating system, which reclaims it when the
/// process exits a moment later, instead of freeing it piece by piece: the
/// verified log and state a read command of a 100k-entry log ends with are
/// hundreds of thousands of allocations, some 35 ms to free. Only for what a
/// command holds at its very end (nothing in it needs a destructor to run:
/// files are closed and output flushed before).
fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let config = cli.config.as_deref();
    let result = match cli.command.unwrap_or(Command::Ui(UiArgs::default())) {
        Command::Ui(args) => ui(config, args, None),
        Command::Demo(args) => demo::run(args),
        Command::Key(command) => key::run(command),
        Command::Policy(command) => policy::run(&command, config),
        Command::Verify(args) => verify::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Witness(args) => witness::run(&args),
        Command::Init { name, force } => init::run(config, &name, force),
        Command::Join(args) => join::run(config, &args),
        Command::Promote(command) => store::promote(config, command),
        Command::Gate(command) => gate::run(config, command),
        Command::Snapshot(command) => snapshot::run(config, command),
        Command::Deployed(args) => store::deployed(config, &args),
        Command::Approve(args) => store::approve_or_reject(config, &args, true),
        Command::Reject(args) => store::approve_or_reject(config, &args, false),
        Command::Revoke(args) => store::revoke(config, &args),
        Command::Waive(args) => store::waive(config, &args),
        Command::Rollback(args) => store::rollback(config, &args),
        Command::Status(args) => store::status(config, &args),
        Command::Log(command) => store::log(config, &command),
        Command::Outbox(args) => outbox::list(&args),
        Command::Sync(args) => outbox::sync(config, &args),
    };
    match result {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(error) => {
            match &error {
                CommandError::Refused(reason) => eprintln!("{}", messages::refused(reason)),
                CommandError::Input(e) => eprintln!("{}", messages::error(e)),
                CommandError::Unreachable(e) => eprintln!("{}", messages::unreachable(e)),
            }
            ExitCode::from(error.exit_code())
        }
    }
}
