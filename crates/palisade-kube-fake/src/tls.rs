//! TLS: a test CA and a serving certificate for `localhost` and `127.0.0.1` (made by
//! palisade-admission's generator, the one in the workspace), served with rustls over HTTP/1.1.

use std::io;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// The CA (PEM) clients trust, and the server configuration using a certificate it signed.
pub fn server_config() -> io::Result<(String, Arc<rustls::ServerConfig>)> {
    let certs = palisade_admission::certs::generate_today(
        &["localhost".to_string(), "127.0.0.1".to_string()],
        2,
    )
    .map_err(io::Error::other)?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(certs.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(io::Error::other)?;
    let key = PrivateKeyDer::from_pem_slice(certs.key_pem.as_bytes()).map_err(io::Error::other)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((certs.ca_pem, Arc::new(config)))
}
