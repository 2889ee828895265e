//! The client configuration, `config.toml` in the config directory (or the
//! file given with `--config`):
//!
//! ```toml
//! store = "https://127.0.0.1:8443"
//! pin = "sha256:<hex of the server certificate DER>"   # or: ca = "ca.pem"
//! key = "/home/alice/.local/share/tollgate/keys/operator.key"  # optional
//! log_vkey = "audit.example.com/tollgate+1a2b3c4d+AV…"
//! policy_digest = "sha256:…"   # the genesis policy pinned at enrolment
//! witnesses = ["witness.example/w1+…+…", …]   # optional: witness vkeys
//! witness_quorum = 2           # cosignatures required [default: all witnesses]
//! ```
//!
//! Relative `ca` and `key` paths are read relative to the config file.
//! `TOLLGATE_KEY` names a key file over `key`: CI (or a second person on the
//! same machine) signs with its own key from the same configuration. Every
//! error names the file, the field, the problem and the fix.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::digest::Digest;
use crate::keys::vkey::NoteVerifierKey;
use crate::ledger::cosignature::CosignerKey;
pub use crate::tls::{Trust, parse_pin, pin_text};

/// The file name inside the config directory.
pub const FILE_NAME: &str = "config.toml";

/// A validated client configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The file it was read from.
    pub path: PathBuf,
    /// The store's base URL, `https://host[:port]` (no trailing slash).
    pub store: String,
    pub trust: Trust,
    /// The private key file that signs requests and statements.
    pub key: PathBuf,
    /// The log's checkpoint verifier key.
    pub log_vkey: NoteVerifierKey,
    /// The digest of the first (genesis) policy, pinned at enrolment.
    pub policy_digest: Digest,
    /// Witnesses whose cosignatures a checkpoint must carry (none: no
    /// witness check).
    pub witnesses: Vec<CosignerKey>,
    /// How many of `witnesses` must have cosigned a checkpoint.
    pub witness_quorum: usize,
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no store is configured yet ({path} does not exist)\n  \
         try tollgate: `tollgate demo`; set it up: `tollgate init --name YOU`, or `tollgate join URL --pin sha256:…` for your team's store"
    )]
    Missing { path: PathBuf },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: `{field}` {problem}; {fix}")]
    Field {
        path: PathBuf,
        field: &'static str,
        problem: String,
        fix: String,
    },
    #[error("{0}")]
    NoHome(#[from] crate::paths::NoHomeError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: Option<String>,
    ca: Option<String>,
    pin: Option<String>,
    key: Option<String>,
    log_vkey: Option<String>,
    policy_digest: Option<String>,
    witnesses: Option<Vec<String>>,
    witness_quorum: Option<i64>,
}

/// The default configuration file: `<config dir>/config.toml`.
pub fn default_path() -> Result<PathBuf, ConfigError> {
    Ok(crate::paths::config_dir()?.join(FILE_NAME))
}

/// The environment variable that names the key file over the configuration's
/// `key` (as it does over the default for `--key`).
pub const KEY_ENV: &str = "TOLLGATE_KEY";

/// Reads the configuration from `path`, or from the default location; a
/// non-empty `TOLLGATE_KEY` replaces its `key`, except in a process whose
/// files live under one root (`tollgate demo`'s personas: a key exported
/// for real work must never sign demo entries, nor the reverse).
pub fn load(path: Option<&Path>) -> Result<ClientConfig, ConfigError> {
    let path = match path {
        Some(path) => path.to_path_buf(),
        None => default_path()?,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::Missing { path });
        }
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let mut config = parse(&text, &path)?;
    if let Some(key) = std::env::var_os(KEY_ENV)
        .filter(|v| !v.is_empty())
        .filter(|_| !crate::paths::has_root())
    {
        config.key = PathBuf::from(key);
    }
    Ok(config)
}

/// Parses configuration text; `path` names the file in errors and anchors
/// relative paths.
pub fn parse(text: &str, path: &Path) -> Result<ClientConfig, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    let field = |field: &'static str, problem: String, fix: &str| ConfigError::Field {
        path: path.to_path_buf(),
        field,
        problem,
        fix: fix.to_owned(),
    };
    let required = |field_name: &'static str, value: Option<String>, fix: &str| {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| field(field_name, "is missing".to_owned(), fix))
    };
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    let resolve = |p: &str| {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };

    let store = required(
        "store",
        raw.store,
        "run `tollgate join https://HOST:PORT --pin sha256:…` with the URL and pin the store's operator gives you",
    )?;
    let store = store.trim_end_matches('/').to_owned();
    let Some(rest) = store.strip_prefix("https://") else {
        return Err(field(
            "store",
            format!("is {store:?}, which is not an https:// URL"),
            "the store only speaks HTTPS; use https://HOST:PORT",
        ));
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ', '@']) {
        return Err(field(
            "store",
            format!("is {store:?}; expected https://HOST[:PORT] with no path"),
            "remove the path, e.g. store = \"https://store.example.com:8443\"",
        ));
    }
    if placeholder(&store) {
        return Err(field(
            "store",
            "still holds the placeholder".to_owned(),
            "set it to the URL the store printed when it started",
        ));
    }

    let trust = match (raw.ca, raw.pin) {
        (Some(_), Some(_)) => {
            return Err(field(
                "ca",
                "and `pin` are both set".to_owned(),
                "keep exactly one: `ca` for a CA-issued certificate, `pin` for a self-signed one",
            ));
        }
        (None, None) => {
            return Err(field(
                "pin",
                "is missing (and so is `ca`)".to_owned(),
                "run `tollgate join URL --pin sha256:…`, or set pin = \"sha256:…\" to the fingerprint the store printed, or ca = \"FILE.pem\"",
            ));
        }
        (Some(ca), None) => Trust::Ca(resolve(&ca)),
        (None, Some(pin)) => Trust::Pin(parse_pin(&pin).map_err(|problem| {
            field(
                "pin",
                problem,
                "copy the `sha256:<64 hex>` fingerprint `tollgate serve` printed",
            )
        })?),
    };

    let key = match raw.key {
        Some(key) => resolve(&key),
        None => crate::paths::default_key_file()?,
    };

    let vkey_text = required(
        "log_vkey",
        raw.log_vkey,
        "run `tollgate join URL --pin sha256:…`, which fills it in, or copy the `<origin>+<id>+<key>` the store printed",
    )?;
    let log_vkey = vkey_text.parse::<NoteVerifierKey>().map_err(|e| {
        field(
            "log_vkey",
            format!("is not usable: {e}"),
            "copy the log's verifier key exactly as the store printed it",
        )
    })?;

    let digest_text = required(
        "policy_digest",
        raw.policy_digest,
        "run `tollgate join URL --pin sha256:…`, which fills it in, or set it to the digest of the store's first policy",
    )?;
    let policy_digest = digest_text.parse::<Digest>().map_err(|e| {
        field(
            "policy_digest",
            format!("is not usable: {e}"),
            "copy the digest `tollgate policy check FILE` prints for the first policy",
        )
    })?;

    let mut witnesses: Vec<CosignerKey> = Vec::new();
    for text in raw.witnesses.unwrap_or_default() {
        let witness = text.parse::<CosignerKey>().map_err(|e| {
            field(
                "witnesses",
                format!("holds {text:?}, which is not usable: {e}"),
                "copy each witness key exactly as `tollgate witness` printed it",
            )
        })?;
        if witnesses.contains(&witness) {
            return Err(field(
                "witnesses",
                format!("lists {text:?} twice"),
                "list each witness once; a witness counts once toward witness_quorum",
            ));
        }
        witnesses.push(witness);
    }
    let witness_quorum = match raw.witness_quorum {
        None => witnesses.len(),
        Some(_) if witnesses.is_empty() => {
            return Err(field(
                "witness_quorum",
                "is set but `witnesses` is empty".to_owned(),
                "list the witness keys in `witnesses`, or remove witness_quorum",
            ));
        }
        Some(n) => match usize::try_from(n) {
            Ok(n) if (1..=witnesses.len()).contains(&n) => n,
            _ => {
                return Err(field(
                    "witness_quorum",
                    format!("is {n} but {} witnesses are listed", witnesses.len()),
                    "set it between 1 and the number of `witnesses`",
                ));
            }
        },
    };

    Ok(ClientConfig {
        path: path.to_path_buf(),
        store,
        trust,
        key,
        log_vkey,
        policy_digest,
        witnesses,
        witness_quorum,
    })
}

fn placeholder(text: &str) -> bool {
    text.contains("FILL") || text.contains('<')
}

/// A starter configuration with placeholders for `tollgate init`.
pub fn template(key: &Path) -> String {
    format!(
        "# tollgate client configuration.\n\
         # `tollgate join https://HOST:PORT --pin sha256:…` fills in `store`, `pin`,\n\
         # `log_vkey` and `policy_digest` after showing them to you. The store's\n\
         # operator gives you the URL and the pin (`tollgate serve` prints both).\n\n\
         # Your private key (signs requests and statements).\n\
         key = {key:?}\n\n\
         # Optional: witnesses that must have cosigned every checkpoint you accept\n\
         # (their vkeys, as `tollgate witness` prints them), and how many of them.\n\
         # witnesses = [\"witness.example/w1+…+…\", \"witness.example/w2+…+…\"]\n\
         # witness_quorum = 2\n",
        key = key.display().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Signer;

    fn vkey() -> String {
        let signer = Signer::generate("audit.example.com/tollgate");
        NoteVerifierKey::of_signer(&signer).unwrap().to_string()
    }

    fn good(trust: &str) -> String {
        format!(
            "store = \"https://127.0.0.1:8443/\"\n{trust}\nkey = \"me.key\"\nlog_vkey = \"{}\"\npolicy_digest = \"{}\"\n",
            vkey(),
            Digest::of(b"policy")
        )
    }

    fn err(text: &str) -> String {
        parse(text, Path::new("/etc/tg/config.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_complete_config_parses() {
        let pin = format!("pin = \"sha256:{}\"", "ab".repeat(32));
        let config = parse(&good(&pin), Path::new("/etc/tg/config.toml")).unwrap();
        assert_eq!(config.store, "https://127.0.0.1:8443");
        assert_eq!(config.trust, Trust::Pin([0xab; 32]));
        assert_eq!(config.key, Path::new("/etc/tg/me.key"));
        assert_eq!(config.policy_digest, Digest::of(b"policy"));
        let config = parse(&good("ca = \"ca.pem\""), Path::new("/etc/tg/config.toml")).unwrap();
        assert_eq!(config.trust, Trust::Ca(PathBuf::from("/etc/tg/ca.pem")));
    }

    #[test]
    fn errors_name_file_field_problem_and_fix() {
        let e = err(&good("ca = \"a.pem\"\npin = \"sha256:00\""));
        assert!(
            e.starts_with("/etc/tg/config.toml: `ca` and `pin` are both set; keep exactly one"),
            "{e}"
        );
        let e = err(&good(""));
        assert!(e.contains("`pin` is missing (and so is `ca`)"), "{e}");
        let e = err(&good("pin = \"sha256:abcd\""));
        assert!(
            e.contains("`pin` has 2 bytes; a SHA-256 fingerprint has 32"),
            "{e}"
        );
        let e = err(&good("pin = \"md5:abcd\""));
        assert!(e.contains("it must start with `sha256:`"), "{e}");
        let e =
            err(&good("pin = \"sha256:FILL-ME\"").replace("https://127.0.0.1:8443/", "http://x"));
        assert!(
            e.contains("`store` is \"http://x\", which is not an https:// URL"),
            "{e}"
        );
        let e = err(&good("ca = \"c.pem\"").replace("127.0.0.1:8443/", "x/api"));
        assert!(
            e.contains("expected https://HOST[:PORT] with no path"),
            "{e}"
        );
        let e = err(&good("ca = \"c.pem\"").replace("log_vkey = \"", "log_vkey = \"x"));
        assert!(e.contains("`log_vkey` is not usable"), "{e}");
        let e =
            err(&good("ca = \"c.pem\"").replace("policy_digest = \"sha256:", "policy_digest = \""));
        assert!(e.contains("`policy_digest` is not usable"), "{e}");
        let e = err("store = \"https://a\"\nca = \"c.pem\"\nlog_vkey = \"\"\n");
        assert!(
            e.contains("`log_vkey` is missing; run `tollgate join"),
            "{e}"
        );
        let e = err("store = \"https://a\"\nunknown = 1\n");
        assert!(e.contains("not valid TOML") && e.contains("unknown"), "{e}");
    }

    #[test]
    fn the_template_says_join_fills_it() {
        let text = template(Path::new("/k/operator.key"));
        let e = err(&text);
        assert!(
            e.contains("`store` is missing") && e.contains("tollgate join"),
            "{e}"
        );
        // No configuration: two lines, the demo or setting up.
        let missing = load(Some(Path::new("/nonexistent/tollgate/config.toml")))
            .unwrap_err()
            .to_string();
        assert_eq!(missing.lines().count(), 2, "{missing}");
        assert!(
            missing.contains("`tollgate demo`") && missing.contains("`tollgate init --name YOU`"),
            "{missing}"
        );
    }

    #[test]
    fn witnesses_and_quorum_are_checked_with_located_errors() {
        let w = |name: &str| {
            crate::ledger::cosignature::CosignerKey::of_signer(&Signer::generate(name))
                .unwrap()
                .to_string()
        };
        let (w1, w2) = (w("w1"), w("w2"));
        let base = good("ca = \"c.pem\"");
        let path = Path::new("/etc/tg/config.toml");
        let config = parse(&format!("{base}witnesses = [\"{w1}\", \"{w2}\"]\n"), path).unwrap();
        assert_eq!((config.witnesses.len(), config.witness_quorum), (2, 2));
        let config = parse(
            &format!("{base}witnesses = [\"{w1}\", \"{w2}\"]\nwitness_quorum = 1\n"),
            path,
        )
        .unwrap();
        assert_eq!(config.witness_quorum, 1);
        assert_eq!(parse(&base, path).unwrap().witness_quorum, 0);
        let e = err(&format!(
            "{base}witnesses = [\"{w1}\"]\nwitness_quorum = 2\n"
        ));
        assert!(
            e.contains("`witness_quorum` is 2 but 1 witnesses are listed; set it between 1"),
            "{e}"
        );
        let e = err(&format!(
            "{base}witnesses = [\"{w1}\"]\nwitness_quorum = 0\n"
        ));
        assert!(e.contains("`witness_quorum` is 0"), "{e}");
        let e = err(&format!("{base}witness_quorum = 1\n"));
        assert!(
            e.contains("`witness_quorum` is set but `witnesses` is empty"),
            "{e}"
        );
        let e = err(&format!("{base}witnesses = [\"{w1}\", \"{w1}\"]\n"));
        assert!(
            e.contains("`witnesses` lists") && e.contains("twice"),
            "{e}"
        );
        let log_vkey = vkey();
        let e = err(&format!("{base}witnesses = [\"{log_vkey}\"]\n"));
        assert!(
            e.contains("`witnesses` holds") && e.contains("type 0x01"),
            "{e}"
        );
    }

    #[test]
    fn pins_accept_colon_separated_uppercase() {
        let colons = (0..32).map(|_| "AB").collect::<Vec<_>>().join(":");
        assert_eq!(parse_pin(&format!("sha256:{colons}")).unwrap(), [0xab; 32]);
        assert_eq!(pin_text(&[0xab; 32]), format!("sha256:{}", "ab".repeat(32)));
    }
}
