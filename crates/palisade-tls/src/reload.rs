//! The serving certificate: loaded from PEM files, swapped in place when the files change
//! (new handshakes see the new certificate; open connections keep theirs).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// A certificate/key problem, naming the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(pub String);

/// Modification time and length of a file: a change of either means "reload".
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// The current serving certificate and where it comes from.
pub struct CertStore {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    stamps: Mutex<(Stamp, Stamp)>,
}

impl fmt::Debug for CertStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertStore")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

impl CertStore {
    /// Loads the certificate chain and key; errors name the file.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<CertStore, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let stamps = (stamp(cert_path), stamp(key_path));
        let key = load_pair(cert_path, key_path, &provider)?;
        Ok(CertStore {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            provider,
            current: RwLock::new(Arc::new(key)),
            stamps: Mutex::new(stamps),
        })
    }

    /// Reloads when either file changed since the last load. `Ok(true)`: a new certificate is
    /// in use; `Ok(false)`: nothing changed; `Err`: the files changed but do not load (the
    /// previous certificate stays in use; the next call tries again).
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let now = (stamp(&self.cert_path), stamp(&self.key_path));
        {
            let seen = self.stamps.lock().unwrap_or_else(|p| p.into_inner());
            if *seen == now {
                return Ok(false);
            }
        }
        self.reload()?;
        *self.stamps.lock().unwrap_or_else(|p| p.into_inner()) = now;
        Ok(true)
    }

    /// Loads the files now (SIGHUP).
    pub fn reload(&self) -> Result<(), TlsError> {
        let key = load_pair(&self.cert_path, &self.key_path, &self.provider)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
        Ok(())
    }

    /// A rustls server configuration that asks this store for the certificate on every
    /// handshake; ALPN offers HTTP/2 and HTTP/1.1. With `client_ca`, a client certificate is
    /// asked for and, when one is presented, it must chain to that CA (connections without one
    /// are still accepted: the HTTP layer decides which paths need it, so kubelet probes of
    /// `/healthz` keep working).
    pub fn server_config(
        self: &Arc<Self>,
        client_ca: Option<&Path>,
    ) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let builder = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(format!("TLS configuration: {e}")))?;
        let builder = match client_ca {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let verifier = client_verifier(path, &self.provider)?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        )
    }
}

/// Verifies client certificates against the CA certificates in `path` (PEM), accepting
/// connections that present none.
fn client_verifier(
    path: &Path,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| TlsError(format!("client CA {}: {e}", path.display())))?;
    for cert in certs {
        let cert = cert.map_err(|e| TlsError(format!("client CA {}: {e}", path.display())))?;
        roots
            .add(cert)
            .map_err(|e| TlsError(format!("client CA {}: {e}", path.display())))?;
    }
    if roots.is_empty() {
        return Err(TlsError(format!(
            "client CA {}: no PEM CERTIFICATE block found",
            path.display()
        )));
    }
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsError(format!("client CA {}: {e}", path.display())))
}

fn load_pair(
    cert_path: &Path,
    key_path: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| TlsError(format!("TLS certificate {}: {e}", cert_path.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError(format!("TLS certificate {}: {e}", cert_path.display())))?;
    if chain.is_empty() {
        return Err(TlsError(format!(
            "TLS certificate {}: no PEM CERTIFICATE block found",
            cert_path.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| TlsError(format!("TLS key {}: {e}", key_path.display())))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        TlsError(format!(
            "TLS certificate {} and key {} do not form a usable pair: {e}",
            cert_path.display(),
            key_path.display()
        ))
    })
}
