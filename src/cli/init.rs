//! `tollgate init [--name N]`: a private key, a starter policy in which N is
//! an operator holding that key, and a client configuration that
//! `tollgate join` completes. Nothing here guesses a store: the policy's
//! digest is pinned by `join`, from what the store serves, so editing the
//! starter policy before the store first starts is safe.

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::{CommandResult, messages};
use crate::client::config;
use crate::keys::{Signer, file};
use crate::policy::EXAMPLE_POLICY;

/// Where `[operators.NAME]` blocks of the starter policy end.
const OPERATORS_END: &str = "\n# CI is an operator too";
const RELEASE_MANAGERS: &str = "release-manager = [\"alice\", \"erin\"]";

pub fn run(config_file: Option<&Path>, name: &str, force: bool) -> CommandResult {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(anyhow!(
            "--name {name:?}: an operator name is letters, digits, `-` and `_`\n  fix: e.g. --name alice"
        )
        .into());
    }
    let key_path = crate::paths::default_key_file()?;
    let config_path = match config_file {
        Some(path) => path.to_path_buf(),
        None => config::default_path().map_err(anyhow::Error::new)?,
    };
    let policy_path = config_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        .join("policy.toml");
    for path in [&config_path, &policy_path] {
        if path.exists() && !force {
            return Err(anyhow!(
                "{}: already exists; nothing was changed\n  fix: pass --force to replace the configuration and the starter policy (your key is kept)",
                path.display()
            )
            .into());
        }
    }
    let signer = if key_path.exists() {
        file::read(&key_path)?
    } else {
        let signer = Signer::generate(name);
        file::write(&key_path, &signer, false)?;
        signer
    };
    let policy_text = starter_policy(name, &signer.public().to_string());
    crate::durable::write_atomic(&policy_path, policy_text.as_bytes())
        .map_err(anyhow::Error::new)?;
    crate::durable::write_atomic(&config_path, config::template(&key_path).as_bytes())
        .map_err(anyhow::Error::new)?;
    println!(
        "{}",
        messages::init_done(name, &key_path, &policy_path, &config_path)
    );
    Ok(())
}

/// The example policy with `name` holding `public`: an example operator of
/// that name gets the key (and keeps their roles); a new name is added as a
/// release manager.
fn starter_policy(name: &str, public: &str) -> String {
    let header = format!("[operators.{name}]\nkey = \"");
    if let Some(at) = EXAMPLE_POLICY.find(&header) {
        let key_start = at + header.len();
        if let Some(len) = EXAMPLE_POLICY[key_start..].find('"') {
            return format!(
                "{}{public}{}",
                &EXAMPLE_POLICY[..key_start],
                &EXAMPLE_POLICY[key_start + len..]
            );
        }
    }
    let block =
        format!("\n# You, added by `tollgate init`.\n[operators.{name}]\nkey = \"{public}\"\n");
    let text = match EXAMPLE_POLICY.find(OPERATORS_END) {
        Some(at) => format!("{}{block}{}", &EXAMPLE_POLICY[..at], &EXAMPLE_POLICY[at..]),
        None => format!("{EXAMPLE_POLICY}{block}"),
    };
    text.replacen(
        RELEASE_MANAGERS,
        &format!("release-manager = [\"alice\", \"erin\", \"{name}\"]"),
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::starter_policy;
    use crate::keys::Signer;
    use crate::policy::Policy;

    #[test]
    fn the_named_operator_holds_the_key_in_a_valid_policy() {
        for name in ["alice", "zoe"] {
            let signer = Signer::generate(name);
            let text = starter_policy(name, &signer.public().to_string());
            let policy = Policy::parse(&text, "policy.toml").unwrap();
            let me = policy.operator_for_key(&signer.public()).unwrap();
            assert_eq!(me.name, name);
            assert!(policy.roles_of(name).contains(&"release-manager"), "{name}");
        }
    }
}
