//! `tollgate policy check FILE`.

use std::path::PathBuf;

use super::{CommandResult, messages};
use crate::policy;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy document. Exit 0 when valid; otherwise exit 2 and
    /// print every problem as `file:line:column: message`, one per line.
    Check {
        /// The policy document (TOML).
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: &PolicyCommand) -> CommandResult {
    match command {
        PolicyCommand::Check { file, json } => match policy::check_file(file) {
            Ok(policy) => {
                if *json {
                    let value = serde_json::json!({
                        "file": file,
                        "valid": true,
                        "version": policy.version,
                        "origin": policy.origin,
                        "digest": policy.digest().to_string(),
                        "environments": policy.environment_order(),
                    });
                    println!("{value:#}");
                } else {
                    println!(
                        "{}",
                        messages::policy_valid(&file.display().to_string(), &policy)
                    );
                }
                Ok(())
            }
            Err(errors) => {
                if *json {
                    let list: Vec<_> = errors
                        .iter()
                        .map(|e| {
                            serde_json::json!({
                                "file": e.file, "line": e.line, "column": e.column, "message": e.message,
                            })
                        })
                        .collect();
                    println!(
                        "{:#}",
                        serde_json::json!({ "file": file, "valid": false, "errors": list })
                    );
                } else {
                    for error in &errors {
                        eprintln!("{error}");
                    }
                }
                Err(anyhow::anyhow!(messages::policy_invalid(errors.len())).into())
            }
        },
    }
}
