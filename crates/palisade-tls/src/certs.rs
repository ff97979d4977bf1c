//! A self-signed CA and a serving certificate it signed (rcgen): for `palisade admission
//! manifests --generate-certs DIR`, for `palisade central serve` without `--tls-cert`, and for
//! tests.

use palisade_model::time::{Clock, Date, SystemClock};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A CA certificate plus a serving certificate and key it signed, all PEM.
#[derive(Debug, Clone)]
pub struct GeneratedCerts {
    /// The CA certificate (the webhook's `caBundle`).
    pub ca_pem: String,
    /// The serving certificate.
    pub cert_pem: String,
    /// The serving certificate's private key (PKCS#8).
    pub key_pem: String,
}

/// Why certificates could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("generating certificates: {0}")]
pub struct CertError(pub String);

/// Generates a CA named `ca_name` (valid ten years) and a serving certificate for `dns_names`
/// (valid `days` days, at most ten years), both starting on `today` (`YYYY-MM-DD`, UTC). A name
/// that parses as an IP address becomes an IP address subject alternative name.
pub fn generate(
    ca_name: &str,
    dns_names: &[String],
    today: &str,
    days: u32,
) -> Result<GeneratedCerts, CertError> {
    let err = |e: rcgen::Error| CertError(e.to_string());
    let today = Date::parse(today).map_err(|e| CertError(e.to_string()))?;
    if dns_names.is_empty() {
        return Err(CertError("at least one DNS name is needed".into()));
    }
    let days = days.clamp(1, 3650);
    let not_before = today.midnight_utc().to_time();
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = not_before;
    ca.not_after = not_before + std::time::Duration::from_secs(3650 * 86_400);
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().map_err(err)?;
    let mut leaf = CertificateParams::new(dns_names.to_vec()).map_err(err)?;
    leaf.distinguished_name
        .push(DnType::CommonName, dns_names[0].clone());
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.not_before = not_before;
    leaf.not_after = not_before + std::time::Duration::from_secs(u64::from(days) * 86_400);
    let cert = leaf.signed_by(&key, &issuer).map_err(err)?;
    Ok(GeneratedCerts {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// [`generate`] starting today (UTC, from the system clock).
pub fn generate_today(
    ca_name: &str,
    dns_names: &[String],
    days: u32,
) -> Result<GeneratedCerts, CertError> {
    generate(ca_name, dns_names, &SystemClock.today().to_string(), days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_are_pem_and_dates_are_checked() {
        let c = generate("test CA", &["web.ns.svc".into()], "2026-11-29", 365).unwrap();
        assert!(c.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(c.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(c.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_ne!(c.ca_pem, c.cert_pem);
        assert!(generate("test CA", &["a".into()], "29.11.2026", 1).is_err());
        assert!(generate("test CA", &[], "2026-11-29", 1).is_err());
        // A day that does not exist is refused, not clamped.
        let e = generate("test CA", &["a".into()], "2026-02-30", 1).unwrap_err();
        assert!(e.0.contains("invalid date \"2026-02-30\""), "{e}");
        let c = generate("test CA", &["leap.ns.svc".into()], "2028-02-29", 1).unwrap();
        assert!(c.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(generate_today("test CA", &["x.y.svc".into()], 30).is_ok());
    }
}
