//! cosign's classic registry layout: the signatures of image `sha256:<hex>` live in the same
//! repository under the tag `sha256-<hex>.sig`, as an image manifest whose layers are
//! simple-signing payloads (`application/vnd.dev.cosign.simplesigning.v1+json`), each carrying
//! its base64 signature in the `dev.cosignproject.cosign/signature` annotation. A keyless
//! signature (cosign without `--new-bundle-format`) adds certificate, chain and Rekor bundle
//! annotations ([`check_keyless`]).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::TrustError;
use crate::keys::{PublicKey, sha256_digest};
use crate::payload::{COSIGN_SIGNATURE_TYPE, parse_payload};
use crate::sigstore::{IdentityPolicy, TrustedRoot, Verified, classic_keyless};

/// Media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Annotation holding the base64 signature of a payload layer.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Media type of the signature manifest we write (cosign ≥ 2 writes OCI manifests).
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of the signature manifest's config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Largest payload layer read (cosign payloads are a few hundred bytes).
pub const MAX_PAYLOAD_BYTES: u64 = 1 << 20;
/// Most signatures considered per image.
pub const MAX_SIGNATURES: usize = 256;

/// The tag of the signature manifest of `digest` (`sha256:<hex>` → `sha256-<hex>.sig`).
pub fn signature_tag(digest: &str) -> Result<String, String> {
    let (alg, hex) = digest
        .split_once(':')
        .ok_or_else(|| format!("{digest:?} is not a digest"))?;
    if alg.is_empty() || hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{digest:?} is not a digest"));
    }
    Ok(format!("{alg}-{hex}.sig"))
}

/// A descriptor as the signature manifest holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// Digest.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureManifest {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// One signature of the classic layout, before its payload is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassicSignature {
    /// The payload layer.
    pub layer: Descriptor,
    /// The base64 signature from the annotation (`None` when the annotation is missing).
    pub signature_b64: Option<String>,
}

/// Lists the simple-signing layers of a signature manifest (other layers are ignored).
pub fn signatures_in_manifest(manifest: &[u8]) -> Result<Vec<ClassicSignature>, String> {
    let m: SignatureManifest = serde_json::from_slice(manifest)
        .map_err(|e| format!("signature manifest is not an image manifest: {e}"))?;
    Ok(m.layers
        .into_iter()
        .filter(|l| l.media_type == SIMPLE_SIGNING_MEDIA_TYPE)
        .take(MAX_SIGNATURES)
        .map(|l| ClassicSignature {
            signature_b64: l.annotations.get(SIGNATURE_ANNOTATION).cloned(),
            layer: l,
        })
        .collect())
}

/// The raw signature of a layer whose payload bytes were fetched: the payload must hash to the
/// layer digest and the signature annotation must be base64.
fn layer_signature(signature: &ClassicSignature, payload: &[u8]) -> Result<Vec<u8>, String> {
    let layer = &signature.layer.digest;
    let actual = sha256_digest(payload);
    if !layer.starts_with("sha256:") {
        return Err(format!(
            "payload layer {layer}: unsupported digest algorithm"
        ));
    }
    if actual != *layer {
        return Err(format!(
            "payload layer {layer} does not match its content ({actual})"
        ));
    }
    let b64 = signature
        .signature_b64
        .as_deref()
        .ok_or_else(|| format!("payload layer {layer} has no {SIGNATURE_ANNOTATION} annotation"))?;
    B64.decode(b64.trim())
        .map_err(|e| format!("payload layer {layer}: signature is not base64: {e}"))
}

/// The payload's claims: cosign's signature type, for `image_digest`.
fn check_claims(image_digest: &str, layer: &str, payload: &[u8]) -> Result<(), String> {
    let claims = parse_payload(payload).map_err(|e| format!("payload {layer}: {e}"))?;
    if claims.kind != COSIGN_SIGNATURE_TYPE {
        return Err(format!(
            "payload {layer} has type {:?}, expected {COSIGN_SIGNATURE_TYPE:?}",
            claims.kind
        ));
    }
    if claims.manifest_digest != image_digest {
        return Err(format!(
            "payload digest {} does not match image {image_digest}",
            claims.manifest_digest
        ));
    }
    Ok(())
}

/// Checks one classic signature whose payload bytes were fetched: the payload must hash to the
/// layer digest, the signature must verify with one of `keys` over the exact payload bytes, the
/// payload type must be cosign's and its digest must be `image_digest`. Returns the
/// fingerprint of the key that verified, or the specific reason it failed.
pub fn check_signature(
    image_digest: &str,
    signature: &ClassicSignature,
    payload: &[u8],
    keys: &[PublicKey],
) -> Result<String, String> {
    let layer = &signature.layer.digest;
    let raw = layer_signature(signature, payload)?;
    let key = keys
        .iter()
        .find(|k| k.verify(payload, &raw))
        .ok_or_else(|| {
            let fps: Vec<String> = keys.iter().map(PublicKey::fingerprint).collect();
            format!(
                "signature in {layer} does not verify with key {}",
                fps.join(", key ")
            )
        })?;
    check_claims(image_digest, layer, payload)?;
    Ok(key.fingerprint())
}

/// Checks one classic keyless signature (cosign without `--new-bundle-format`: certificate,
/// chain and Rekor bundle annotations on the layer, see [`classic_keyless`]) whose payload
/// bytes were fetched, for `policy` against `root`; then the payload's claims as
/// [`check_signature`] does.
pub fn check_keyless(
    image_digest: &str,
    signature: &ClassicSignature,
    payload: &[u8],
    policy: &IdentityPolicy,
    root: &TrustedRoot,
) -> Result<Verified, String> {
    let layer = &signature.layer.digest;
    let raw = layer_signature(signature, payload)?;
    let keyless = classic_keyless::parse(&signature.layer.annotations)
        .map_err(|e| format!("payload layer {layer}: {e}"))?
        .ok_or_else(|| {
            format!(
                "payload layer {layer} has no {} annotation: not a keyless signature",
                classic_keyless::CERTIFICATE_ANNOTATION
            )
        })?;
    let verified = classic_keyless::verify(payload, &raw, &keyless, policy, root)?;
    check_claims(image_digest, layer, payload)?;
    Ok(verified)
}

/// The blobs and manifest to push for a classic signature.
#[derive(Debug, Clone)]
pub struct ClassicArtifacts {
    /// The payload blob (also the new layer).
    pub payload: Vec<u8>,
    /// The config blob.
    pub config: Vec<u8>,
    /// The signature manifest to push under [`signature_tag`].
    pub manifest: Vec<u8>,
    /// Its media type.
    pub media_type: &'static str,
}

#[derive(Serialize)]
struct SignatureConfig<'a> {
    architecture: &'a str,
    created: &'a str,
    history: [History<'a>; 1],
    os: &'a str,
    rootfs: RootFs,
    config: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct History<'a> {
    created: &'a str,
}

#[derive(Serialize)]
struct RootFs {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: Vec<String>,
}

/// Builds the signature manifest with the signed `payload` appended to `existing` (the current
/// manifest under the `.sig` tag, if any), as cosign does: earlier signatures are kept, and a
/// signature identical to one already present is not added twice.
pub fn append_signature(
    existing: Option<&[u8]>,
    payload: &[u8],
    signature: &[u8],
) -> Result<ClassicArtifacts, TrustError> {
    append_layer(existing, payload, signature_annotations(signature))
}

/// The annotations of a key-based payload layer: its base64 `signature`.
pub fn signature_annotations(signature: &[u8]) -> BTreeMap<String, String> {
    BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), B64.encode(signature))])
}

/// [`append_signature`] for a payload layer with these annotations (the signature's, and for
/// a keyless signature the certificate, chain and Rekor bundle).
pub fn append_layer(
    existing: Option<&[u8]>,
    payload: &[u8],
    annotations: BTreeMap<String, String>,
) -> Result<ClassicArtifacts, TrustError> {
    let mut layers = match existing {
        Some(bytes) => {
            let m: SignatureManifest = serde_json::from_slice(bytes).map_err(|e| {
                TrustError::Artifact(format!(
                    "existing signature manifest is not an image manifest: {e}"
                ))
            })?;
            m.layers
        }
        None => Vec::new(),
    };
    let new_layer = Descriptor {
        media_type: SIMPLE_SIGNING_MEDIA_TYPE.into(),
        digest: sha256_digest(payload),
        size: payload.len() as u64,
        annotations,
    };
    if !layers.contains(&new_layer) {
        layers.push(new_layer);
    }
    let epoch = "0001-01-01T00:00:00Z";
    let config = SignatureConfig {
        architecture: "",
        created: epoch,
        history: [History { created: epoch }],
        os: "",
        rootfs: RootFs {
            kind: "layers",
            diff_ids: layers.iter().map(|l| l.digest.clone()).collect(),
        },
        config: Default::default(),
    };
    let config = serde_json::to_vec(&config).map_err(|e| TrustError::Artifact(e.to_string()))?;
    let manifest = SignatureManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.into()),
        config: Descriptor {
            media_type: OCI_CONFIG.into(),
            digest: sha256_digest(&config),
            size: config.len() as u64,
            annotations: BTreeMap::new(),
        },
        layers,
        annotations: BTreeMap::new(),
    };
    let manifest =
        serde_json::to_vec(&manifest).map_err(|e| TrustError::Artifact(e.to_string()))?;
    Ok(ClassicArtifacts {
        payload: payload.to_vec(),
        config,
        manifest,
        media_type: OCI_MANIFEST,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_follows_cosign_triangulation() {
        assert_eq!(
            signature_tag(
                "sha256:87ef60f558bad79beea6425a3b28989f01dd417164150ab3baab98dcbf04def8"
            )
            .unwrap(),
            "sha256-87ef60f558bad79beea6425a3b28989f01dd417164150ab3baab98dcbf04def8.sig"
        );
        assert!(signature_tag("latest").is_err());
        assert!(signature_tag("sha256:zz").is_err());
    }

    #[test]
    fn appending_keeps_existing_signatures_and_is_idempotent() {
        let first = append_signature(None, b"payload-1", b"sig-1").unwrap();
        let second = append_signature(Some(&first.manifest), b"payload-2", b"sig-2").unwrap();
        let sigs = signatures_in_manifest(&second.manifest).unwrap();
        assert_eq!(sigs.len(), 2);
        assert_eq!(sigs[0].layer.digest, sha256_digest(b"payload-1"));
        assert_eq!(
            sigs[1].signature_b64.as_deref(),
            Some(B64.encode(b"sig-2").as_str())
        );
        let again = append_signature(Some(&second.manifest), b"payload-2", b"sig-2").unwrap();
        assert_eq!(signatures_in_manifest(&again.manifest).unwrap().len(), 2);
        // The config lists every layer as a diff_id, as go-containerregistry's append does.
        let config: serde_json::Value = serde_json::from_slice(&second.config).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
    }
}
