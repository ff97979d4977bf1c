//! Signed certificate timestamps (RFC 6962 §3.2) embedded in a Fulcio certificate, checked
//! against the CT log keys of the trusted root: the log signed the precertificate (the leaf's
//! TBS without the SCT extension, bound to the issuer's key hash).

use sha2::{Digest, Sha256, Sha384};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use crate::sigstore::der::{Tlv, encode};
use crate::sigstore::root::TrustedRoot;

/// OID of the embedded SCT list extension.
pub const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";

/// The leaf's TBS with the SCT list extension removed (the precertificate TBS).
fn precert_tbs(tbs: &[u8]) -> Result<Vec<u8>, String> {
    let fields = Tlv::parse_all(tbs)?.children()?;
    let mut out = Vec::with_capacity(tbs.len());
    for field in fields {
        if field.tag != 0xA3 {
            out.extend_from_slice(field.raw);
            continue;
        }
        let seq = Tlv::parse_all(field.content)?;
        let mut kept = Vec::new();
        for ext in seq.children()? {
            let oid = ext.children()?.first().ok_or("empty extension")?.oid()?;
            if oid != OID_SCT_LIST {
                kept.extend_from_slice(ext.raw);
            }
        }
        out.extend(encode(0xA3, &encode(0x30, &kept)));
    }
    Ok(encode(0x30, &out))
}

/// Verifies that at least one SCT of `leaf` (issued by `issuer`) is signed by a CT log of
/// `root` trusted at the SCT's time.
pub fn verify(leaf: &[u8], issuer: &[u8], root: &TrustedRoot) -> Result<(), String> {
    let (_, cert) = X509Certificate::from_der(leaf).map_err(|e| format!("certificate: {e}"))?;
    let (_, issuer) =
        X509Certificate::from_der(issuer).map_err(|e| format!("issuer certificate: {e}"))?;
    let scts = cert
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SCT(list) => Some(list),
            _ => None,
        })
        .ok_or("certificate has no signed certificate timestamp")?;
    let tbs = precert_tbs(cert.tbs_certificate.as_ref())?;
    let issuer_key_hash = Sha256::digest(issuer.public_key().raw);
    let mut reason = "no signed certificate timestamp is from a CT log of the trusted root";
    for sct in scts {
        let Some(log) = root.ctlog(sct.id.key_id) else {
            continue;
        };
        let mut msg = vec![sct.version.0, 0];
        msg.extend_from_slice(&sct.timestamp.to_be_bytes());
        msg.extend_from_slice(&[0, 1]);
        msg.extend_from_slice(&issuer_key_hash);
        msg.extend_from_slice(&(tbs.len() as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&tbs);
        msg.extend_from_slice(&(sct.extensions.0.len() as u16).to_be_bytes());
        msg.extend_from_slice(sct.extensions.0);
        let prehash = match sct.signature.hash_alg_id {
            4 => Sha256::digest(&msg).to_vec(),
            5 => Sha384::digest(&msg).to_vec(),
            _ => continue,
        };
        if !log.key.verify_prehashed(&msg, &prehash, sct.signature.data) {
            reason = "signed certificate timestamp does not verify with the CT log key";
            continue;
        }
        let secs = i64::try_from(sct.timestamp / 1000).unwrap_or(i64::MAX);
        if !log.valid.contains(secs) {
            reason = "signed certificate timestamp is outside the CT log key's trusted interval";
            continue;
        }
        return Ok(());
    }
    Err(reason.into())
}
