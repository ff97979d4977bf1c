//! RFC 3161 timestamps over the bundle's signature, from a timestamp authority of the trusted
//! root.
//!
//! A timestamp response (`TimeStampResp`: status and a CMS `SignedData` around a `TSTInfo`)
//! is accepted when its message imprint is the hash of the signature, the signed attributes'
//! message digest is the hash of the `TSTInfo`, the signature over the signed attributes
//! verifies with the signing certificate of a timestamp authority of the trusted root (certificates
//! embedded in the response are not trusted), and the time lies inside both the authority's
//! trusted interval and the validity of every certificate of its chain.

use palisade_model::time::Timestamp;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::keys::PublicKey;
use crate::sigstore::der::Tlv;
use crate::sigstore::root::TrustedRoot;

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";

fn digest(oid: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    match oid {
        "2.16.840.1.101.3.4.2.1" | "1.2.840.10045.4.3.2" => Ok(Sha256::digest(data).to_vec()),
        "2.16.840.1.101.3.4.2.2" | "1.2.840.10045.4.3.3" => Ok(Sha384::digest(data).to_vec()),
        "2.16.840.1.101.3.4.2.3" | "1.2.840.10045.4.3.4" => Ok(Sha512::digest(data).to_vec()),
        other => Err(format!("timestamp uses unsupported hash algorithm {other}")),
    }
}

fn first_oid(alg: &Tlv<'_>) -> Result<String, String> {
    alg.children()?
        .first()
        .ok_or("empty algorithm identifier")?
        .oid()
}

fn child<'a>(children: &[Tlv<'a>], i: usize, what: &str) -> Result<Tlv<'a>, String> {
    children
        .get(i)
        .copied()
        .ok_or_else(|| format!("timestamp {what} is missing"))
}

/// The parts of a timestamp that are checked.
struct Parsed<'a> {
    tst_info: &'a [u8],
    imprint_alg: String,
    imprint: Vec<u8>,
    gen_time: i64,
    digest_alg: String,
    signed_attrs: Vec<u8>,
    attrs_digest: Vec<u8>,
    signature_alg: String,
    signature: Vec<u8>,
}

fn gen_time(tlv: &Tlv<'_>) -> Result<i64, String> {
    if tlv.tag != 0x18 {
        return Err("timestamp genTime is not a GeneralizedTime".into());
    }
    let text = std::str::from_utf8(tlv.content).map_err(|_| "timestamp genTime is not text")?;
    let core = text.trim_end_matches('Z');
    let (whole, frac) = core.split_once('.').unwrap_or((core, ""));
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) || !text.ends_with('Z') {
        return Err(format!("timestamp genTime {text:?} is malformed"));
    }
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}{}Z",
        &whole[..4],
        &whole[4..6],
        &whole[6..8],
        &whole[8..10],
        &whole[10..12],
        &whole[12..14],
        if frac.is_empty() {
            String::new()
        } else {
            format!(".{frac}")
        }
    );
    Timestamp::parse_rfc3339(&rfc)
        .map(Timestamp::unix_secs)
        .map_err(|e| format!("timestamp genTime: {e}"))
}

fn parse(der: &[u8]) -> Result<Parsed<'_>, String> {
    let resp = Tlv::parse_all(der)?.children()?;
    let status = child(&resp, 0, "status")?.children()?;
    let code = child(&status, 0, "status code")?;
    if code.tag != 0x02 || !(code.content == [0] || code.content == [1]) {
        return Err("timestamp response status is not granted".into());
    }
    let content_info = child(&resp, 1, "token")?.children()?;
    if child(&content_info, 0, "content type")?.oid()? != OID_SIGNED_DATA {
        return Err("timestamp token is not CMS SignedData".into());
    }
    let signed_data = child(
        &child(&content_info, 1, "content")?.children()?,
        0,
        "SignedData",
    )?
    .children()?;
    let encap = child(&signed_data, 2, "encapsulated content")?.children()?;
    if child(&encap, 0, "content type")?.oid()? != OID_TST_INFO {
        return Err("timestamp token does not hold a TSTInfo".into());
    }
    let octets = child(&child(&encap, 1, "TSTInfo")?.children()?, 0, "TSTInfo")?;
    let tst_info = octets.content;
    let tst = Tlv::parse_all(tst_info)?.children()?;
    let imprint = child(&tst, 2, "message imprint")?.children()?;
    let imprint_alg = first_oid(&child(&imprint, 0, "imprint algorithm")?)?;
    let imprint_hash = child(&imprint, 1, "imprint hash")?.content.to_vec();
    let gen_time = gen_time(&child(&tst, 4, "genTime")?)?;
    let signer_infos = signed_data
        .last()
        .filter(|t| t.tag == 0x31)
        .ok_or("timestamp has no signer infos")?
        .children()?;
    let [signer] = signer_infos.as_slice() else {
        return Err("timestamp must have exactly one signer".into());
    };
    let si = signer.children()?;
    let digest_alg = first_oid(&child(&si, 2, "digest algorithm")?)?;
    let attrs = child(&si, 3, "signed attributes")?;
    if attrs.tag != 0xA0 {
        return Err("timestamp has no signed attributes".into());
    }
    let mut attrs_digest = None;
    for attr in attrs.children()? {
        let parts = attr.children()?;
        if child(&parts, 0, "attribute type")?.oid()? == OID_MESSAGE_DIGEST {
            let values = child(&parts, 1, "attribute value")?.children()?;
            attrs_digest = Some(child(&values, 0, "message digest")?.content.to_vec());
        }
    }
    let mut signed_attrs = attrs.raw.to_vec();
    signed_attrs[0] = 0x31;
    Ok(Parsed {
        tst_info,
        imprint_alg,
        imprint: imprint_hash,
        gen_time,
        digest_alg,
        signed_attrs,
        attrs_digest: attrs_digest.ok_or("timestamp signed attributes have no message digest")?,
        signature_alg: first_oid(&child(&si, 4, "signature algorithm")?)?,
        signature: child(&si, 5, "signature")?.content.to_vec(),
    })
}

fn verify_one(der: &[u8], signature: &[u8], root: &TrustedRoot) -> Result<i64, String> {
    let p = parse(der)?;
    if digest(&p.imprint_alg, signature)? != p.imprint {
        return Err("timestamp message imprint is not the hash of the bundle's signature".into());
    }
    if digest(&p.digest_alg, p.tst_info)? != p.attrs_digest {
        return Err("timestamp signed attributes do not match its TSTInfo".into());
    }
    let sig_hash_alg = if p.signature_alg.starts_with("1.2.840.10045.4.3.") {
        &p.signature_alg
    } else {
        &p.digest_alg
    };
    let attrs_hash = digest(sig_hash_alg, &p.signed_attrs)?;
    let mut reasons = Vec::new();
    for tsa in &root.timestamp_authorities {
        let Ok((_, leaf)) = X509Certificate::from_der(&tsa.chain[0]) else {
            continue;
        };
        let Ok(key) = PublicKey::from_spki_der(leaf.public_key().raw, "timestamp authority") else {
            continue;
        };
        if !key.verify_prehashed(&p.signed_attrs, &attrs_hash, &p.signature) {
            continue;
        }
        if !tsa.valid.contains(p.gen_time) {
            reasons.push(format!(
                "timestamp time {} is outside the trusted interval of timestamp authority {}",
                p.gen_time, tsa.uri
            ));
            continue;
        }
        let certs_valid = tsa.chain.iter().all(|c| {
            X509Certificate::from_der(c).is_ok_and(|(_, c)| {
                c.validity().not_before.timestamp() <= p.gen_time
                    && p.gen_time <= c.validity().not_after.timestamp()
            })
        });
        if !certs_valid {
            reasons.push(format!(
                "timestamp time {} is outside the validity of timestamp authority {}'s certificates",
                p.gen_time, tsa.uri
            ));
            continue;
        }
        return Ok(p.gen_time);
    }
    Err(reasons.pop().unwrap_or_else(|| {
        "timestamp is not signed by a timestamp authority of the trusted root".into()
    }))
}

/// Verifies every timestamp over `signature` and returns their times (Unix seconds).
pub fn verify_all(
    timestamps: &[Vec<u8>],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<Vec<i64>, String> {
    timestamps
        .iter()
        .map(|t| verify_one(t, signature, root))
        .collect()
}
