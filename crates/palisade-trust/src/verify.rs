//! The verdict for one image: every classic signature and every bundle referrer is checked
//! against the keys; the image is `Verified` when one of them verifies, `Invalid` (with one
//! specific reason per signature) when signatures exist but none verifies, `Unsigned` when
//! there are none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use palisade_model::SignatureStatus;
use serde::Serialize;

use crate::bundle::{self, BUNDLE_MEDIA_TYPE, MAX_BUNDLE_BYTES};
use crate::classic::{self, MAX_PAYLOAD_BYTES, MAX_SIGNATURES};
use crate::keys::PublicKey;
use crate::sigstore::{self, IdentityPolicy, TrustedRoot};

/// The registry could not be reached or answered with an error (other than "not found").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// A referrer of an image (an entry of the referrers API response or tag-schema index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// Manifest digest of the referrer.
    pub digest: String,
    /// Its `artifactType`, if declared.
    pub artifact_type: Option<String>,
}

/// What verification needs from the image's repository. Implemented over the registry client
/// (`remote` module) and by in-memory stores in tests.
pub trait SignatureSource {
    /// The manifest under `tag`; `Ok(None)` when the tag does not exist.
    fn manifest_by_tag(&self, tag: &str) -> Result<Option<Vec<u8>>, SourceError>;
    /// The manifest with `digest` (verified against it).
    fn manifest_by_digest(&self, digest: &str) -> Result<Vec<u8>, SourceError>;
    /// The blob with `digest`, at most `max_bytes` long.
    fn blob(&self, digest: &str, max_bytes: u64) -> Result<Vec<u8>, SourceError>;
    /// The referrers of `digest` (referrers API, or the `sha256-<hex>` tag schema fallback).
    fn referrers(&self, digest: &str) -> Result<Vec<Referrer>, SourceError>;
}

/// Which layout a signature came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// cosign's `sha256-<hex>.sig` tag.
    Classic,
    /// A Sigstore bundle attached as a referrer.
    Bundle,
}

/// The outcome for one signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    /// Layout.
    pub layout: Layout,
    /// Where it was found: `<tag> layer <digest>` or `referrer <digest>`.
    pub location: String,
    /// Fingerprint of the key that verified it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
    /// Why it did not verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The verdict for one image with details for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The digest the signatures were checked against.
    pub digest: String,
    /// The verdict.
    pub status: SignatureStatus,
    /// Every signature looked at.
    pub checks: Vec<SignatureCheck>,
    /// Fingerprints of the keys tried.
    pub keys: Vec<String>,
}

/// What an image's signatures are checked against: public keys and/or keyless identities
/// (Sigstore bundles with a Fulcio certificate, verified against `root`). One signature that
/// verifies against any of them is enough.
#[derive(Debug, Clone)]
pub struct Requirements {
    /// Public keys.
    pub keys: Vec<PublicKey>,
    /// Keyless identities (certificate identity and OIDC issuer).
    pub keyless: Vec<IdentityPolicy>,
    /// The Sigstore trusted root for keyless bundles.
    pub root: Arc<TrustedRoot>,
}

impl Requirements {
    /// Key-based requirements only.
    pub fn keys(keys: &[PublicKey]) -> Requirements {
        Requirements {
            keys: keys.to_vec(),
            keyless: Vec::new(),
            root: TrustedRoot::production(),
        }
    }

    /// Key fingerprints, then keyless policies (`keyless <identity> <issuer>`).
    pub fn describe(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(PublicKey::fingerprint)
            .chain(
                self.keyless
                    .iter()
                    .map(|p| format!("keyless {} {}", p.identity, p.issuer)),
            )
            .collect()
    }

    /// What the cache keys on: [`Requirements::describe`], sorted.
    pub fn cache_key(&self) -> Vec<String> {
        let mut out = self.describe();
        out.sort();
        out.dedup();
        out
    }
}

/// The first signer of the requirements that verifies a signature: the keys first (with
/// `by_key`, also when there are no requirements at all, for its reason), then each keyless
/// identity (with `keyless`). Returns who verified it, or every reason.
fn first_verified(
    req: &Requirements,
    by_key: impl FnOnce(&[PublicKey]) -> Result<String, String>,
    keyless: impl Fn(&IdentityPolicy) -> Result<sigstore::Verified, String>,
) -> Result<String, String> {
    let mut reasons = Vec::new();
    if !req.keys.is_empty() || req.keyless.is_empty() {
        match by_key(&req.keys) {
            Ok(fp) => return Ok(fp),
            Err(e) => reasons.push(e),
        }
    }
    for policy in &req.keyless {
        match keyless(policy) {
            Ok(v) => {
                return Ok(format!(
                    "keyless {} (issuer {})",
                    v.signer,
                    v.issuer.unwrap_or_default()
                ));
            }
            Err(e) => reasons.push(format!("keyless: {e}")),
        }
    }
    Err(reasons.join("; "))
}

/// Checks one bundle against the requirements.
fn check_bundle(
    req: &Requirements,
    image_digest: &str,
    image_manifest: &[u8],
    bytes: &[u8],
) -> Result<String, String> {
    first_verified(
        req,
        |keys| bundle::check_bundle(image_digest, image_manifest, bytes, keys),
        |policy| {
            sigstore::verify_bundle(
                bytes,
                sigstore::Artifact::Bytes(image_manifest),
                &sigstore::Signer::Identity(policy.clone()),
                &req.root,
            )
        },
    )
}

/// Checks one classic-layout signature (key-based, or keyless with certificate and Rekor
/// bundle annotations) against the requirements.
fn check_classic(
    req: &Requirements,
    image_digest: &str,
    signature: &classic::ClassicSignature,
    payload: &[u8],
) -> Result<String, String> {
    first_verified(
        req,
        |keys| classic::check_signature(image_digest, signature, payload, keys),
        |policy| classic::check_keyless(image_digest, signature, payload, policy, &req.root),
    )
}

/// Verifies the signatures of the image with `image_digest` (whose manifest bytes are
/// `image_manifest`) in both layouts. Errors only when the registry fails; a missing or bad
/// signature is part of the verdict.
pub fn verify_image(
    source: &dyn SignatureSource,
    image_digest: &str,
    image_manifest: &[u8],
    keys: &[PublicKey],
) -> Result<Verification, SourceError> {
    verify_image_with(
        source,
        image_digest,
        image_manifest,
        &Requirements::keys(keys),
    )
}

/// [`verify_image`] against keys and keyless identities, in both layouts: a classic-layout
/// layer verifies with a key, or keylessly when it carries cosign's certificate and Rekor
/// bundle annotations; a bundle referrer with a key or keylessly.
pub fn verify_image_with(
    source: &dyn SignatureSource,
    image_digest: &str,
    image_manifest: &[u8],
    req: &Requirements,
) -> Result<Verification, SourceError> {
    let mut checks = Vec::new();
    // Classic layout.
    let tag = classic::signature_tag(image_digest).map_err(SourceError)?;
    if let Some(manifest) = source.manifest_by_tag(&tag)? {
        match classic::signatures_in_manifest(&manifest) {
            Ok(signatures) => {
                for sig in signatures {
                    let location = format!("{tag} layer {}", sig.layer.digest);
                    let outcome = if sig.layer.size > MAX_PAYLOAD_BYTES {
                        Err(format!(
                            "payload layer {} is {} bytes, larger than {MAX_PAYLOAD_BYTES}",
                            sig.layer.digest, sig.layer.size
                        ))
                    } else {
                        let payload = source.blob(&sig.layer.digest, MAX_PAYLOAD_BYTES)?;
                        check_classic(req, image_digest, &sig, &payload)
                    };
                    checks.push(check(Layout::Classic, location, outcome));
                }
            }
            Err(reason) => checks.push(check(Layout::Classic, tag.clone(), Err(reason))),
        }
    }
    // Bundles through referrers.
    for referrer in source
        .referrers(image_digest)?
        .into_iter()
        .filter(|r| {
            r.artifact_type
                .as_deref()
                .is_some_and(bundle::is_bundle_media_type)
        })
        .take(MAX_SIGNATURES)
    {
        let location = format!("referrer {}", referrer.digest);
        let manifest = source.manifest_by_digest(&referrer.digest)?;
        let outcome = match bundle_layer(&manifest) {
            Ok((digest, size)) if size <= MAX_BUNDLE_BYTES => {
                let bytes = source.blob(&digest, MAX_BUNDLE_BYTES)?;
                if crate::keys::sha256_digest(&bytes) != digest {
                    Err(format!("bundle blob {digest} does not match its content"))
                } else {
                    check_bundle(req, image_digest, image_manifest, &bytes)
                }
            }
            Ok((digest, size)) => Err(format!(
                "bundle {digest} is {size} bytes, larger than {MAX_BUNDLE_BYTES}"
            )),
            Err(e) => Err(e),
        };
        checks.push(check(Layout::Bundle, location, outcome));
    }
    let status = if let Some(fp) = checks.iter().find_map(|c| c.verified_by.clone()) {
        SignatureStatus::Verified {
            key_fingerprint: fp,
        }
    } else if checks.is_empty() {
        SignatureStatus::Unsigned
    } else {
        SignatureStatus::Invalid {
            reasons: checks.iter().filter_map(|c| c.reason.clone()).collect(),
        }
    };
    Ok(Verification {
        digest: image_digest.to_string(),
        status,
        checks,
        keys: req.describe(),
    })
}

fn check(layout: Layout, location: String, outcome: Result<String, String>) -> SignatureCheck {
    match outcome {
        Ok(fp) => SignatureCheck {
            layout,
            location,
            verified_by: Some(fp),
            reason: None,
        },
        Err(reason) => SignatureCheck {
            layout,
            location,
            verified_by: None,
            reason: Some(reason),
        },
    }
}

/// The bundle layer (digest, size) of a referrer manifest.
fn bundle_layer(manifest: &[u8]) -> Result<(String, u64), String> {
    let v: serde_json::Value = serde_json::from_slice(manifest)
        .map_err(|e| format!("referrer manifest is not JSON: {e}"))?;
    v["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| {
            l["mediaType"]
                .as_str()
                .is_some_and(bundle::is_bundle_media_type)
        })
        .and_then(|l| Some((l["digest"].as_str()?.to_string(), l["size"].as_u64()?)))
        .ok_or_else(|| format!("referrer manifest has no {BUNDLE_MEDIA_TYPE} layer"))
}

/// A human sentence for a verdict ("no signature for sha256:…" for unsigned images).
pub fn describe(v: &Verification) -> String {
    match &v.status {
        SignatureStatus::Verified { key_fingerprint } => {
            format!(
                "signature for {} verified with key {key_fingerprint}",
                v.digest
            )
        }
        SignatureStatus::Unsigned => format!("no signature for {}", v.digest),
        SignatureStatus::Invalid { reasons } => reasons.join("; "),
    }
}

/// (repository, digest, sorted key fingerprints and keyless policies).
type CacheKey = (String, String, Vec<String>);

/// Verdicts cached by repository, digest and key set; digests are immutable, so a cached verdict
/// stays valid for as long as the keys are the same.
#[derive(Debug, Default)]
pub struct VerificationCache {
    entries: Mutex<HashMap<CacheKey, Verification>>,
}

impl VerificationCache {
    /// Most entries kept; the cache is cleared when it is full.
    pub const CAPACITY: usize = 4096;

    fn key(repository: &str, digest: &str, req: &Requirements) -> CacheKey {
        (repository.to_string(), digest.to_string(), req.cache_key())
    }

    /// The cached verdict, if any.
    pub fn get(&self, repository: &str, digest: &str, req: &Requirements) -> Option<Verification> {
        let entries = self.entries.lock().ok()?;
        entries.get(&Self::key(repository, digest, req)).cloned()
    }

    /// Remembers a verdict.
    pub fn insert(&self, repository: &str, req: &Requirements, verification: &Verification) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
            entries.insert(
                Self::key(repository, &verification.digest, req),
                verification.clone(),
            );
        }
    }

    /// Number of cached verdicts.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
