//! Sigstore bundles (v0.3) attached to an image through the OCI referrers API, key-based.
//!
//! A referrer manifest with `artifactType` [`BUNDLE_MEDIA_TYPE`] and `subject` = the image holds
//! one layer: the bundle JSON. Two bundle contents are verified:
//!
//! - `dsseEnvelope` (what cosign 3 writes for images): the signature is over the DSSE
//!   pre-authentication encoding of the payload, which must be an in-toto statement
//!   (`payloadType` `application/vnd.in-toto+json`) with a subject whose `sha256` digest is the
//!   image's.
//! - `messageSignature`: the signed message is the image manifest itself; `messageDigest` must
//!   be the SHA-256 of the image manifest (= the image digest) and the signature must verify
//!   over the manifest bytes.
//!
//! Transparency-log entries and certificates in `verificationMaterial` are not checked: this is
//! key-based verification against the configured public keys.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::classic::Descriptor;
use crate::keys::{PublicKey, hex, sha256_digest};
use crate::private::SigningKey;

/// Media type (and referrer `artifactType`) of a Sigstore bundle v0.3.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// DSSE payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The predicate type cosign 3 uses for image signatures.
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
/// Media type of the empty config of artifact manifests.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// Largest bundle read.
pub const MAX_BUNDLE_BYTES: u64 = 4 << 20;

/// Whether `media_type` names a Sigstore bundle (any version).
pub fn is_bundle_media_type(media_type: &str) -> bool {
    media_type.starts_with("application/vnd.dev.sigstore.bundle")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    message_signature: Option<MessageSignature>,
    #[serde(default)]
    dsse_envelope: Option<Envelope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageSignature {
    #[serde(default)]
    message_digest: Option<MessageDigest>,
    signature: String,
}

#[derive(Deserialize)]
struct MessageDigest {
    algorithm: String,
    digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    #[serde(default)]
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    sig: String,
}

/// The DSSE pre-authentication encoding (`DSSEv1 <len> <type> <len> <body>`).
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

fn no_key_verifies(what: &str, keys: &[PublicKey]) -> String {
    let fps: Vec<String> = keys.iter().map(PublicKey::fingerprint).collect();
    format!("{what} does not verify with key {}", fps.join(", key "))
}

/// Checks a bundle against `image_digest` (and the image manifest bytes, for
/// `messageSignature`). Returns the fingerprint of the key that verified, or the reason.
pub fn check_bundle(
    image_digest: &str,
    image_manifest: &[u8],
    bundle: &[u8],
    keys: &[PublicKey],
) -> Result<String, String> {
    let b: Bundle =
        serde_json::from_slice(bundle).map_err(|e| format!("bundle is not valid JSON: {e}"))?;
    if !b.media_type.is_empty() && !is_bundle_media_type(&b.media_type) {
        return Err(format!("bundle has media type {:?}", b.media_type));
    }
    let hex_digest = image_digest
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("image digest {image_digest} is not sha256"))?;
    if let Some(env) = b.dsse_envelope {
        if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(format!(
                "DSSE payload type {:?}, expected {IN_TOTO_PAYLOAD_TYPE:?}",
                env.payload_type
            ));
        }
        let payload = B64
            .decode(env.payload.trim())
            .map_err(|e| format!("DSSE payload is not base64: {e}"))?;
        let message = pae(&env.payload_type, &payload);
        let key = env
            .signatures
            .iter()
            .filter_map(|s| B64.decode(s.sig.trim()).ok())
            .find_map(|sig| keys.iter().find(|k| k.verify(&message, &sig)))
            .ok_or_else(|| no_key_verifies("DSSE signature", keys))?;
        let statement: Value = serde_json::from_slice(&payload)
            .map_err(|e| format!("in-toto statement is not JSON: {e}"))?;
        let subjects: Vec<String> = statement["subject"]
            .as_array()
            .map(|subjects| {
                subjects
                    .iter()
                    .filter_map(|s| s["digest"]["sha256"].as_str())
                    .map(|h| format!("sha256:{h}"))
                    .collect()
            })
            .unwrap_or_default();
        if subjects
            .iter()
            .any(|s| s.eq_ignore_ascii_case(image_digest))
        {
            return Ok(key.fingerprint());
        }
        return Err(format!(
            "statement subject digest {} does not match image {image_digest}",
            if subjects.is_empty() {
                "(none)".to_string()
            } else {
                subjects.join(", ")
            }
        ));
    }
    if let Some(ms) = b.message_signature {
        let sig = B64
            .decode(ms.signature.trim())
            .map_err(|e| format!("messageSignature is not base64: {e}"))?;
        let key = keys
            .iter()
            .find(|k| k.verify(image_manifest, &sig))
            .ok_or_else(|| no_key_verifies("message signature over the image manifest", keys))?;
        if let Some(md) = ms.message_digest {
            if md.algorithm != "SHA2_256" {
                return Err(format!(
                    "message digest algorithm {:?} is not SHA2_256",
                    md.algorithm
                ));
            }
            let claimed = B64
                .decode(md.digest.trim())
                .map_err(|e| format!("messageDigest is not base64: {e}"))?;
            if hex(&claimed) != hex_digest {
                return Err(format!(
                    "message digest sha256:{} does not match image {image_digest}",
                    hex(&claimed)
                ));
            }
        }
        return Ok(key.fingerprint());
    }
    Err("bundle has neither dsseEnvelope nor messageSignature".into())
}

fn key_hint(key: &PublicKey) -> String {
    B64.encode(Sha256::digest(key.spki_der()))
}

/// A bundle signing the image `image_digest` the way cosign 3 does: a DSSE envelope over an
/// in-toto statement with predicate type [`COSIGN_SIGN_PREDICATE`].
pub fn sign_dsse_bundle(image_digest: &str, key: &SigningKey) -> Result<Vec<u8>, String> {
    let hex_digest = image_digest
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("image digest {image_digest} is not sha256"))?;
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"digest": {"sha256": hex_digest}, "annotations": {}}],
        "predicateType": COSIGN_SIGN_PREDICATE,
    });
    let payload = serde_json::to_vec(&statement).map_err(|e| e.to_string())?;
    let sig = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &payload));
    let bundle = json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key_hint(key.public_key())}},
        "dsseEnvelope": {
            "payload": B64.encode(&payload),
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{"sig": B64.encode(sig)}],
        },
    });
    serde_json::to_vec(&bundle).map_err(|e| e.to_string())
}

/// A bundle with a `messageSignature` over the image manifest bytes.
pub fn sign_message_bundle(image_manifest: &[u8], key: &SigningKey) -> Result<Vec<u8>, String> {
    let sig = key.sign(image_manifest);
    let bundle = json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key_hint(key.public_key())}},
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(Sha256::digest(image_manifest))},
            "signature": B64.encode(sig),
        },
    });
    serde_json::to_vec(&bundle).map_err(|e| e.to_string())
}

/// The empty JSON object used as artifact config (`{}`).
pub const EMPTY_CONFIG: &[u8] = b"{}";

/// The referrer manifest that attaches `bundle` to the image described by `subject`.
pub fn referrer_manifest(subject: &Descriptor, bundle: &[u8]) -> Vec<u8> {
    let m = json!({
        "schemaVersion": 2,
        "mediaType": crate::classic::OCI_MANIFEST,
        "artifactType": BUNDLE_MEDIA_TYPE,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": sha256_digest(EMPTY_CONFIG), "size": EMPTY_CONFIG.len()},
        "layers": [{"mediaType": BUNDLE_MEDIA_TYPE, "digest": sha256_digest(bundle), "size": bundle.len()}],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size},
    });
    serde_json::to_vec(&m).unwrap_or_default()
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexEntry {
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    schema_version: u32,
    media_type: String,
    manifests: Vec<IndexEntry>,
}

/// Adds a referrer (manifest bytes `referrer`) to the referrers-tag-schema index `existing`
/// (the manifest under tag `sha256-<hex>`, if any), as the OCI distribution spec asks clients
/// to do on registries without the referrers API.
pub fn add_to_referrers_index(existing: Option<&[u8]>, referrer: &[u8]) -> Result<Vec<u8>, String> {
    let mut index = match existing {
        Some(bytes) => serde_json::from_slice::<Index>(bytes)
            .map_err(|e| format!("referrers index is not an image index: {e}"))?,
        None => Index {
            schema_version: 2,
            media_type: "application/vnd.oci.image.index.v1+json".into(),
            manifests: Vec::new(),
        },
    };
    let digest = sha256_digest(referrer);
    if !index.manifests.iter().any(|m| m.digest == digest) {
        let artifact_type = serde_json::from_slice::<Value>(referrer)
            .ok()
            .and_then(|v| v["artifactType"].as_str().map(str::to_string));
        index.manifests.push(IndexEntry {
            media_type: crate::classic::OCI_MANIFEST.into(),
            digest,
            size: referrer.len() as u64,
            artifact_type,
            annotations: BTreeMap::new(),
        });
    }
    serde_json::to_vec(&index).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // DSSE protocol spec: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn referrers_index_appends_once() {
        let r = br#"{"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#;
        let one = add_to_referrers_index(None, r).unwrap();
        let two = add_to_referrers_index(Some(&one), r).unwrap();
        let v: Value = serde_json::from_slice(&two).unwrap();
        assert_eq!(v["manifests"].as_array().unwrap().len(), 1);
        assert_eq!(v["manifests"][0]["artifactType"], BUNDLE_MEDIA_TYPE);
    }
}
