//! How a client trusts a server's TLS certificate: the CA certificates of a
//! PEM file, or exactly one pinned end-entity certificate by the SHA-256 of
//! its DER (the handshake signature is still checked). One place for the
//! store's clients, the store's own calls to witnesses and deploy hooks, and
//! `tollgate join`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest as _, Sha256};

/// How a client authenticates a server's TLS certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Certificates chaining to the CA certificates in this PEM file.
    Ca(PathBuf),
    /// Exactly the end-entity certificate with this SHA-256 (of its DER).
    Pin([u8; 32]),
}

/// The trust setting could not be turned into a TLS configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: cannot use it as TLS trust: {problem}", path = .path.display())]
pub struct TrustError {
    pub path: PathBuf,
    pub problem: String,
}

/// Parses `sha256:<64 hex>` (colons between hex pairs and uppercase are
/// accepted, as certificate tools print them).
pub fn parse_pin(text: &str) -> Result<[u8; 32], String> {
    let Some(hex_part) = text.strip_prefix("sha256:") else {
        return Err(format!("is {text:?}; it must start with `sha256:`"));
    };
    let cleaned: String = hex_part.chars().filter(|c| *c != ':').collect();
    let bytes = hex::decode(cleaned.to_ascii_lowercase())
        .map_err(|_| format!("is {text:?}; expected 64 hex characters after `sha256:`"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("has {} bytes; a SHA-256 fingerprint has 32", b.len()))
}

/// The `pin` text for a certificate fingerprint.
pub fn pin_text(fingerprint: &[u8; 32]) -> String {
    format!("sha256:{}", hex::encode(fingerprint))
}

/// Accepts exactly one end-entity certificate, by the SHA-256 of its DER,
/// and checks handshake signatures with the ring provider's algorithms.
#[derive(Debug)]
struct PinnedCertificate {
    pin: [u8; 32],
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if seen == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's certificate is {} but the configuration pins {}",
                pin_text(&seen),
                pin_text(&self.pin)
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The rustls client configuration for a trust setting (ring provider,
/// TLS 1.2 and 1.3 only).
pub fn client_config(trust: &Trust) -> Result<rustls::ClientConfig, TrustError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let trust_error = |path: &Path, problem: String| TrustError {
        path: path.to_path_buf(),
        problem,
    };
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| trust_error(Path::new("(tls)"), e.to_string()))?;
    let config = match trust {
        Trust::Ca(path) => {
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| trust_error(path, e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| trust_error(path, e.to_string()))?;
            if certs.is_empty() {
                return Err(trust_error(
                    path,
                    "no CERTIFICATE blocks in the PEM file".to_owned(),
                ));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| trust_error(path, e.to_string()))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Pin(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCertificate {
                pin: *pin,
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
    };
    Ok(config)
}
