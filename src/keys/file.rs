//! Private key files: written with mode 0600, refused when group or others
//! can read them, never overwritten by accident.
//!
//! The format is a small TOML document so a person can see whose key it is:
//! `name`, `public` (`ed25519:…`) and `secret` (base64 of the 32-byte seed).
//! On load, the public key is re-derived from the seed and must match.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{PublicKey, Signer};
use crate::encoding;

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error(
        "{path}: a key file already exists there; pass --force to replace it (the old key is lost) or --key PATH to write elsewhere"
    )]
    Exists { path: PathBuf },
    #[error("{path}: cannot {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error(
        "{path}: the key file can be read by group or others (mode {mode:04o}); run `chmod 600 {path}`"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("{path}: not a tollgate key file: {problem}")]
    Malformed { path: PathBuf, problem: String },
    #[error(
        "{path}: the `public` key does not belong to the `secret` seed; the file was edited or damaged"
    )]
    Mismatch { path: PathBuf },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    name: String,
    public: String,
    secret: String,
}

const HEADER: &str = "# tollgate private key. Keep it secret: tollgate refuses to read it\n# if group or others can (chmod 600).\n";

fn io<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(std::io::Error) -> KeyFileError + 'a {
    move |source| KeyFileError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Writes `signer` to `path` with mode 0600, atomically (temp file, fsync,
/// rename). Refuses to replace an existing file unless `overwrite`.
pub fn write(path: &Path, signer: &Signer, overwrite: bool) -> Result<(), KeyFileError> {
    if path.exists() && !overwrite {
        return Err(KeyFileError::Exists {
            path: path.to_path_buf(),
        });
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let secret = Zeroizing::new(encoding::encode(signer.signing_key().as_bytes()));
    let body = KeyFile {
        name: signer.name().to_owned(),
        public: signer.public().to_string(),
        secret: secret.to_string(),
    };
    let text = Zeroizing::new(format!(
        "{HEADER}{}",
        toml::to_string(&body).map_err(|e| KeyFileError::Malformed {
            path: path.to_path_buf(),
            problem: e.to_string()
        })?
    ));
    let tmp = path.with_extension("key.tmp");
    let _ = fs::remove_file(&tmp);
    let mut file = private_options().open(&tmp).map_err(io(&tmp, "create"))?;
    file.write_all(text.as_bytes()).map_err(io(&tmp, "write"))?;
    file.sync_all().map_err(io(&tmp, "sync"))?;
    drop(file);
    fs::rename(&tmp, path).map_err(io(path, "rename into place"))?;
    Ok(())
}

/// Reads a key file, refusing it when its permissions are too open.
pub fn read(path: &Path) -> Result<Signer, KeyFileError> {
    check_permissions(path)?;
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io(path, "read"))?);
    let malformed = |problem: String| KeyFileError::Malformed {
        path: path.to_path_buf(),
        problem,
    };
    let body: KeyFile = toml::from_str(&text).map_err(|e| malformed(e.to_string()))?;
    let seed = Zeroizing::new(
        encoding::decode_standard(&body.secret)
            .map_err(|_| malformed("`secret` is not canonical base64".into()))?,
    );
    let seed: &[u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| malformed(format!("`secret` is {} bytes; expected 32", seed.len())))?;
    let signer = Signer::from_signing_key(&body.name, SigningKey::from_bytes(seed))
        .map_err(|e| malformed(e.to_string()))?;
    let public: PublicKey = body
        .public
        .parse()
        .map_err(|e: super::KeyError| malformed(e.to_string()))?;
    if public != signer.public() {
        return Err(KeyFileError::Mismatch {
            path: path.to_path_buf(),
        });
    }
    Ok(signer)
}

#[cfg(unix)]
fn private_options() -> fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true).mode(0o600);
    options
}

#[cfg(not(unix))]
fn private_options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    options
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), KeyFileError> {
    use std::os::unix::fs::DirBuilderExt as _;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir, "create directory"))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), KeyFileError> {
    fs::create_dir_all(dir).map_err(io(dir, "create directory"))
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = fs::metadata(path)
        .map_err(io(path, "read"))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), KeyFileError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_keys_are_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/alice.key");
        let signer = Signer::generate("alice");
        write(&path, &signer, false).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let back = read(&path).unwrap();
        assert_eq!(back.public(), signer.public());
        assert_eq!(back.name(), "alice");
        assert!(matches!(
            write(&path, &signer, false),
            Err(KeyFileError::Exists { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn group_or_world_readable_keys_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        write(&path, &Signer::generate("bob"), false).unwrap();
        for mode in [0o640, 0o604, 0o644] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let err = read(&path).unwrap_err();
            assert!(err.to_string().contains("chmod 600"), "{err}");
        }
    }

    #[test]
    fn a_public_key_that_does_not_match_the_seed_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        write(&path, &Signer::generate("bob"), false).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let other = Signer::generate("x").public().to_string();
        let public_line = text.lines().find(|l| l.starts_with("public")).unwrap();
        let edited = text.replace(public_line, &format!("public = \"{other}\""));
        fs::remove_file(&path).unwrap();
        private_options()
            .open(&path)
            .unwrap()
            .write_all(edited.as_bytes())
            .unwrap();
        assert!(matches!(read(&path), Err(KeyFileError::Mismatch { .. })));
    }
}
