//! Client TLS from files: certificate chain, private key and CA bundle in PEM, turned into the
//! rustls server configuration the runtime runs the handshake with.
//!
//! [`server_config`] serves both the command line (`--tls`, `--tlscert`, `--tlskey`,
//! `--tlsverify`, `--tlscacert`) and the configuration file's `tls {}` block. Error messages
//! follow the reference's wording, so scripts that match on them keep working.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

/// The files and switches of a client TLS setup.
#[derive(Debug, Clone, Copy)]
pub struct TlsFiles<'a> {
    /// The server's certificate chain (PEM), leaf first.
    pub cert_file: &'a Path,
    /// The server's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_file: &'a Path,
    /// CAs that sign client certificates (PEM); the system's trust store when `None`.
    pub ca_file: Option<&'a Path>,
    /// Require and verify a client certificate.
    pub verify: bool,
    /// Accept TLS 1.3 only (`min_version: "1.3"`); otherwise 1.2 and 1.3.
    pub tls13_only: bool,
}

/// Why a TLS setup could not be loaded. `Display` gives the reference's wording.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate or key file is missing, unreadable, not PEM, or the two do not match.
    #[error("error parsing X509 certificate/key pair: {0}")]
    KeyPair(String),
    /// The CA file could not be read.
    #[error("open {path}: {reason}")]
    CaFile {
        /// The file as given.
        path: String,
        /// Why it could not be read.
        reason: String,
    },
    /// The CA file holds no usable certificate.
    #[error("failed to parse root ca certificate")]
    CaParse,
    /// No trust anchors to verify client certificates with (no CA file, and no system store).
    #[error("no trusted CA certificates to verify client certificates with: {0}")]
    NoRoots(String),
    /// rustls refused the combination.
    #[error("TLS configuration error: {0}")]
    Config(String),
}

/// An `io::Error` worded as Go words it (`no such file or directory`).
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let text = e.to_string();
            let text = match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            text.to_lowercase()
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("open {}: {}", path.display(), io_reason(&e)))
}

/// The certificates of a PEM file (other sections are skipped).
fn certificates(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// Loads the server certificate chain and key.
fn key_pair(
    cert_file: &Path,
    key_file: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let cert_pem = read(cert_file).map_err(TlsError::KeyPair)?;
    let key_pem = read(key_file).map_err(TlsError::KeyPair)?;
    let certs = certificates(&cert_pem);
    if certs.is_empty() {
        let detail = if PrivateKeyDer::from_pem_slice(&cert_pem).is_ok() {
            "tls: failed to find certificate PEM data in certificate input, but did find a \
             private key; PEM inputs may have been switched"
        } else {
            "tls: failed to find any PEM data in certificate input"
        };
        return Err(TlsError::KeyPair(detail.to_string()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
        let detail = if certificates(&key_pem).is_empty() {
            "tls: failed to find any PEM data in key input"
        } else {
            "tls: found a certificate rather than a key in the PEM for the private key"
        };
        TlsError::KeyPair(detail.to_string())
    })?;
    Ok((certs, key))
}

/// The CAs client certificates must chain to.
fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| TlsError::CaFile {
                path: path.display().to_string(),
                reason: io_reason(&e),
            })?;
            let (added, _) = store.add_parsable_certificates(certificates(&pem));
            if added == 0 {
                return Err(TlsError::CaParse);
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(native.certs);
            if store.is_empty() {
                let why = native.errors.first().map_or_else(
                    || "the system store is empty".to_string(),
                    |e| e.to_string(),
                );
                return Err(TlsError::NoRoots(why));
            }
        }
    }
    Ok(store)
}

/// TLS 1.3 only (`min_version: "1.3"`).
const TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
/// The reference's default: TLS 1.2 and 1.3.
const TLS12_AND_13: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Builds the rustls server configuration for client connections: TLS 1.2 and 1.3 (the
/// reference's minimum is 1.2), ring cryptography, and a client certificate required and
/// verified against `ca_file` when `verify` is on.
pub fn server_config(files: TlsFiles<'_>) -> Result<Arc<ServerConfig>, TlsError> {
    let (certs, key) = key_pair(files.cert_file, files.key_file)?;
    let provider: Arc<CryptoProvider> = Arc::new(ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(if files.tls13_only {
            TLS13_ONLY
        } else {
            TLS12_AND_13
        })
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = if files.verify {
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots(files.ca_file)?), provider)
                .build()
                .map_err(|e| TlsError::Config(e.to_string()))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        if files.ca_file.is_some() {
            // Read it anyway so a wrong path is reported, as the reference does.
            roots(files.ca_file)?;
        }
        builder.with_no_client_auth()
    };
    let config = builder.with_single_cert(certs, key).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            TlsError::KeyPair("tls: private key does not match public key".to_string())
        }
        other => TlsError::KeyPair(other.to_string()),
    })?;
    Ok(Arc::new(config))
}

/// Builds the rustls client configuration routes dial with: the peer's certificate verified
/// against `ca_file` (the system's store without one), and ours presented (the reference
/// verifies route certificates both ways).
pub fn client_config(files: TlsFiles<'_>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let (certs, key) = key_pair(files.cert_file, files.key_file)?;
    let provider: Arc<CryptoProvider> = Arc::new(ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(if files.tls13_only {
            TLS13_ONLY
        } else {
            TLS12_AND_13
        })
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots(files.ca_file)?)
        .with_client_auth_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    struct Dir(PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dir(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("cli-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn files<'a>(cert: &'a Path, key: &'a Path) -> TlsFiles<'a> {
        TlsFiles {
            cert_file: cert,
            key_file: key,
            ca_file: None,
            verify: false,
            tls13_only: false,
        }
    }

    #[test]
    fn missing_files_are_named_as_the_reference_does() {
        let d = dir("missing");
        let nope = d.0.join("nope.pem");
        let err = server_config(files(&nope, &nope)).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "error parsing X509 certificate/key pair: open {}: no such file or directory",
                nope.display()
            )
        );
    }

    #[test]
    fn garbage_and_switched_inputs_are_refused() {
        let d = dir("garbage");
        let junk = d.0.join("junk.pem");
        std::fs::write(&junk, b"\x00\xffnot pem at all\n-----BEGIN").unwrap();
        let err = server_config(files(&junk, &junk)).unwrap_err().to_string();
        assert!(
            err.contains("failed to find any PEM data in certificate input"),
            "{err}"
        );
        let key = d.0.join("key.pem");
        std::fs::write(
            &key,
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB3p9Z0vWn3cY5pXv1rYg4yB3X5n3l0Yq1m2o8a7c6d5\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let err = server_config(files(&key, &key)).unwrap_err().to_string();
        assert!(err.contains("PEM inputs may have been switched"), "{err}");
    }

    #[test]
    fn unreadable_ca_is_reported() {
        let d = dir("ca");
        let nope = d.0.join("ca.pem");
        let err = roots(Some(&nope)).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("open {}: no such file or directory", nope.display())
        );
        let junk = d.0.join("junk.pem");
        std::fs::write(&junk, b"nothing here").unwrap();
        assert!(matches!(roots(Some(&junk)), Err(TlsError::CaParse)));
    }
}
