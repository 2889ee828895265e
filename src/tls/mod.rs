//! TLS material for the audit store: loading a certificate chain and key
//! from PEM files, generating a self-signed certificate once into the data
//! directory, SHA-256 fingerprints for client pinning, and the rustls server
//! configuration (ring provider, TLS 1.2 and 1.3 only, HTTP/1.1). How
//! clients trust a server (pin or CA) is [`trust`].

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::digest::Digest;

mod trust;
pub use trust::{Trust, TrustError, client_config, parse_pin, pin_text};

/// Why TLS material could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: cannot {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("{path}: no PEM certificate found; pass the server certificate chain in PEM form")]
    NoCertificate { path: PathBuf },
    #[error(
        "{path}: the TLS private key can be read by group or others (mode {mode:04o}); run `chmod 600 {path}`"
    )]
    KeyTooOpen { path: PathBuf, mode: u32 },
    #[error("{path}: no PEM private key found (PKCS#8, PKCS#1 or SEC1)")]
    NoKey { path: PathBuf },
    #[error("the certificate and key do not form a usable TLS identity: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// A certificate chain and its private key.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Identity {
    /// Reads a PEM certificate chain and a PEM private key; the key file is
    /// refused when group or others may read it (as operator keys are).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        check_key_permissions(key)?;
        let cert_pem = fs::read(cert).map_err(|source| TlsError::Io {
            path: cert.into(),
            action: "read",
            source,
        })?;
        let key_pem = fs::read(key).map_err(|source| TlsError::Io {
            path: key.into(),
            action: "read",
            source,
        })?;
        let chain: Vec<_> = CertificateDer::pem_slice_iter(&cert_pem)
            .filter_map(Result::ok)
            .collect();
        if chain.is_empty() {
            return Err(TlsError::NoCertificate { path: cert.into() });
        }
        let key = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|_| TlsError::NoKey { path: key.into() })?;
        Ok(Self { chain, key })
    }

    /// The SHA-256 fingerprint of the end-entity certificate (what clients pin).
    pub fn fingerprint(&self) -> Digest {
        self.chain
            .first()
            .map_or_else(Digest::default, |c| Digest::of(c.as_ref()))
    }

    /// A rustls server configuration: TLS 1.2+, ring provider, HTTP/1.1.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

#[cfg(unix)]
fn check_key_permissions(path: &Path) -> Result<(), TlsError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = fs::metadata(path)
        .map_err(|source| TlsError::Io {
            path: path.into(),
            action: "read",
            source,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(TlsError::KeyTooOpen {
            path: path.into(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_key_permissions(_path: &Path) -> Result<(), TlsError> {
    Ok(())
}

/// Where `--self-signed` keeps its certificate and key.
pub fn self_signed_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("tls");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// Loads the self-signed identity from the data directory, generating it the
/// first time (for `localhost`, `127.0.0.1` and `::1` plus `extra_names`).
/// Returns the identity and whether it was created now.
pub fn self_signed(data_dir: &Path, extra_names: &[String]) -> Result<(Identity, bool), TlsError> {
    let (cert_path, key_path) = self_signed_paths(data_dir);
    if cert_path.exists() && key_path.exists() {
        return Ok((Identity::from_pem_files(&cert_path, &key_path)?, false));
    }
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    names.extend(extra_names.iter().cloned());
    let generated = rcgen::generate_simple_self_signed(names)?;
    let dir = cert_path.parent().unwrap_or(data_dir);
    fs::create_dir_all(dir).map_err(|source| TlsError::Io {
        path: dir.into(),
        action: "create",
        source,
    })?;
    write_private(&key_path, generated.signing_key.serialize_pem().as_bytes())?;
    write_private(&cert_path, generated.cert.pem().as_bytes())?;
    Ok((Identity::from_pem_files(&cert_path, &key_path)?, true))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    let io = |action| {
        move |source| TlsError::Io {
            path: path.into(),
            action,
            source,
        }
    };
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io("create"))?;
    file.write_all(bytes).map_err(io("write"))?;
    file.sync_all().map_err(io("sync"))?;
    fs::rename(&tmp, path).map_err(io("rename"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_generated_once_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = self_signed(dir.path(), &[]).unwrap();
        assert!(created);
        let (again, created) = self_signed(dir.path(), &[]).unwrap();
        assert!(!created);
        assert_eq!(first.fingerprint(), again.fingerprint());
        assert!(first.server_config().is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_tls_key_others_can_read_is_refused_and_the_generated_one_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        self_signed(dir.path(), &[]).unwrap();
        let (cert, key) = self_signed_paths(dir.path());
        let mode = fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
        let err = Identity::from_pem_files(&cert, &key).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("chmod 600 {}", key.display())),
            "{text}"
        );
        assert!(text.contains("0640"), "{text}");
        assert!(self_signed(dir.path(), &[]).is_err());
    }

    #[test]
    fn missing_or_empty_pem_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        fs::write(&cert, "not pem").unwrap();
        let err = Identity::from_pem_files(&cert, &dir.path().join("nope.pem")).unwrap_err();
        assert!(err.to_string().contains("nope.pem"), "{err}");
    }
}
