//! Fulcio certificates: the leaf's key, validity, usage (digitalSignature key usage and the
//! code-signing extended key usage) and identity (SAN URI or email, OIDC issuer extension), and
//! its chain to a certificate authority of the trusted root, every certificate of which must be
//! a CA (basicConstraints cA=true, keyCertSign key usage).

use sha2::{Digest, Sha256, Sha384};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use crate::keys::PublicKey;
use crate::sigstore::root::Authority;

/// OID of Fulcio's OIDC issuer extension, v1 (raw string value; deprecated).
pub const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// OID of Fulcio's OIDC issuer extension, v2 (DER UTF8String).
pub const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// OID of the code-signing extended key usage a signing certificate must carry.
pub const OID_EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";

/// What verification needs from a signing certificate.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// DER.
    pub der: Vec<u8>,
    /// Its public key.
    pub key: PublicKey,
    /// Not before (Unix seconds).
    pub not_before: i64,
    /// Not after (Unix seconds).
    pub not_after: i64,
    /// SAN URIs.
    pub uris: Vec<String>,
    /// SAN email addresses.
    pub emails: Vec<String>,
    /// The OIDC issuer (extension .1.8, else .1.1).
    pub issuer: Option<String>,
    /// Whether the key usage extension allows digitalSignature.
    pub digital_signature: bool,
    /// Whether the extended key usage extension names code signing.
    pub code_signing: bool,
}

impl Leaf {
    /// The identities (SAN URIs and emails).
    pub fn identities(&self) -> impl Iterator<Item = &str> {
        self.uris.iter().chain(&self.emails).map(String::as_str)
    }

    /// Checks that the certificate may sign code: digitalSignature key usage and the
    /// code-signing extended key usage, as Fulcio issues them.
    pub fn check_usage(&self) -> Result<(), String> {
        if !self.digital_signature {
            return Err("signing certificate has no digitalSignature key usage".into());
        }
        if !self.code_signing {
            return Err(format!(
                "signing certificate has no code-signing extended key usage ({OID_EKU_CODE_SIGNING})"
            ));
        }
        Ok(())
    }
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err("certificate has trailing bytes".into()),
        Err(e) => Err(format!("certificate is not valid DER X.509: {e}")),
    }
}

/// Parses a signing certificate.
pub fn parse_leaf(der: &[u8]) -> Result<Leaf, String> {
    let cert = parse(der)?;
    let key = PublicKey::from_spki_der(cert.public_key().raw, "signing certificate")
        .map_err(|e| e.to_string())?;
    let mut uris = Vec::new();
    let mut emails = Vec::new();
    let mut issuer_v1 = None;
    let mut issuer_v2 = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    match name {
                        GeneralName::URI(u) => uris.push((*u).to_string()),
                        GeneralName::RFC822Name(e) => emails.push((*e).to_string()),
                        _ => {}
                    }
                }
            }
            _ => {
                let oid = ext.oid.to_id_string();
                if oid == OID_ISSUER_V2 {
                    issuer_v2 = x509_parser::der_parser::parse_der(ext.value)
                        .ok()
                        .and_then(|(_, o)| o.as_str().ok().map(str::to_string));
                } else if oid == OID_ISSUER_V1 {
                    issuer_v1 = std::str::from_utf8(ext.value).ok().map(str::to_string);
                }
            }
        }
    }
    let digital_signature = cert
        .key_usage()
        .map_err(|e| format!("signing certificate key usage: {e}"))?
        .is_some_and(|ku| ku.value.digital_signature());
    let code_signing = cert
        .extended_key_usage()
        .map_err(|e| format!("signing certificate extended key usage: {e}"))?
        .is_some_and(|eku| eku.value.code_signing);
    Ok(Leaf {
        der: der.to_vec(),
        key,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        uris,
        emails,
        issuer: issuer_v2.or(issuer_v1),
        digital_signature,
        code_signing,
    })
}

/// Whether `der` is a self-signed CA certificate (a root).
pub fn is_root(der: &[u8]) -> bool {
    parse(der).is_ok_and(|c| c.is_ca() && c.subject() == c.issuer())
}

/// Whether `child` carries a valid signature by `issuer`'s key.
pub fn signed_by(child: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    let Ok(key) = PublicKey::from_spki_der(issuer.public_key().raw, "issuer") else {
        return false;
    };
    let tbs = child.tbs_certificate.as_ref();
    let sig = &child.signature_value.data;
    match child.signature_algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.10045.4.3.2" => key.verify_prehashed(tbs, &Sha256::digest(tbs), sig),
        "1.2.840.10045.4.3.3" => key.verify_prehashed(tbs, &Sha384::digest(tbs), sig),
        "1.2.840.113549.1.1.11" | "1.3.101.112" => key.verify(tbs, sig),
        _ => false,
    }
}

fn valid_at(cert: &X509Certificate<'_>, time: i64) -> bool {
    cert.validity().not_before.timestamp() <= time && time <= cert.validity().not_after.timestamp()
}

/// Whether `cert` may issue certificates: basicConstraints cA=true and, in its key usage,
/// keyCertSign.
fn may_issue(cert: &X509Certificate<'_>) -> bool {
    cert.is_ca()
        && cert
            .key_usage()
            .ok()
            .flatten()
            .is_some_and(|ku| ku.value.key_cert_sign())
}

/// Verifies that `leaf` chains to one of `authorities` that is trusted at `time`, with every
/// certificate of the chain valid at `time`. Returns the authority.
pub fn verify_chain<'a>(
    leaf: &[u8],
    authorities: &'a [Authority],
    time: i64,
) -> Result<&'a Authority, String> {
    let leaf = parse(leaf)?;
    let mut reasons = Vec::new();
    for ca in authorities {
        let chain = ca
            .chain
            .iter()
            .map(|c| parse(c))
            .collect::<Result<Vec<_>, _>>()?;
        if !signed_by(&leaf, &chain[0]) {
            continue;
        }
        if !ca.valid.contains(time) {
            reasons.push(format!(
                "certificate authority {} is not trusted at the signing time",
                ca.uri
            ));
            continue;
        }
        let links_ok = chain.windows(2).all(|w| signed_by(&w[0], &w[1]));
        if !links_ok {
            reasons.push(format!(
                "certificate authority {} has a broken chain",
                ca.uri
            ));
            continue;
        }
        if !chain.iter().all(may_issue) {
            reasons.push(format!(
                "a certificate of authority {} is not a CA (basicConstraints cA and keyCertSign key usage)",
                ca.uri
            ));
            continue;
        }
        if !chain.iter().all(|c| valid_at(c, time)) {
            reasons.push(format!(
                "a certificate of authority {} is not valid at the signing time",
                ca.uri
            ));
            continue;
        }
        return Ok(ca);
    }
    Err(reasons.pop().unwrap_or_else(|| {
        "signing certificate was not issued by a certificate authority of the trusted root".into()
    }))
}
