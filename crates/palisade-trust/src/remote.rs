//! The registry edge (feature `registry`): [`SignatureSource`] over `palisade-registry`, the
//! cached [`Verifier`] for scan and admission, and signing/attaching in a registry. Key files
//! are read by the caller ([`PublicKey::from_entries`], [`SigningKey::from_pem`]), not here.

use std::collections::BTreeMap;

use palisade_registry::{PullOptions, RegistryError, Repository};

use crate::TrustError;
use crate::bundle;
use crate::classic::{self, Descriptor};
use crate::keys::PublicKey;
use crate::payload::simple_signing_payload;
use crate::private::SigningKey;
use crate::verify::{
    Referrer, Requirements, SignatureSource, SourceError, Verification, VerificationCache,
    verify_image_with,
};

/// Why a remote operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The registry could not be reached, refused the credentials or the request.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Reading a signature artifact or key failed.
    #[error(transparent)]
    Trust(#[from] TrustError),
}

/// [`SignatureSource`] over a connected repository.
pub struct RepositorySource<'a>(pub &'a Repository);

fn source_err(e: RegistryError) -> SourceError {
    SourceError(e.to_string())
}

impl SignatureSource for RepositorySource<'_> {
    fn manifest_by_tag(&self, tag: &str) -> Result<Option<Vec<u8>>, SourceError> {
        Ok(self
            .0
            .manifest_by_tag(tag)
            .map_err(source_err)?
            .map(|m| m.bytes))
    }
    fn manifest_by_digest(&self, digest: &str) -> Result<Vec<u8>, SourceError> {
        Ok(self.0.manifest_by_digest(digest).map_err(source_err)?.bytes)
    }
    fn blob(&self, digest: &str, max_bytes: u64) -> Result<Vec<u8>, SourceError> {
        self.0.blob(digest, max_bytes).map_err(source_err)
    }
    fn referrers(&self, digest: &str) -> Result<Vec<Referrer>, SourceError> {
        Ok(self
            .0
            .referrers(digest)
            .map_err(source_err)?
            .into_iter()
            .map(|r| Referrer {
                digest: r.digest,
                artifact_type: r.artifact_type,
            })
            .collect())
    }
}

/// Verifies image signatures in registries, caching verdicts by repository, digest and key set.
///
/// Blocking (the registry client owns a small runtime per call): call it from a plain thread or
/// `spawn_blocking`. A reference pinned by digest whose verdict is cached costs no request; a
/// tag costs one manifest request to resolve it.
#[derive(Debug, Default)]
pub struct Verifier {
    options: PullOptions,
    cache: VerificationCache,
}

impl Verifier {
    /// A verifier using these registry options (credentials, insecure registries).
    pub fn new(options: PullOptions) -> Verifier {
        Verifier {
            options,
            cache: VerificationCache::default(),
        }
    }

    /// The verdict for `reference` (tag or digest) against `keys`. `Err` means the registry
    /// could not be asked (unreachable, credentials refused, image not found): put the message
    /// in `RegistryFacts.errors`, not a verdict.
    pub fn verify(&self, reference: &str, keys: &[PublicKey]) -> Result<Verification, RemoteError> {
        self.verify_with(reference, &Requirements::keys(keys))
    }

    /// [`Verifier::verify`] against keys and keyless identities.
    pub fn verify_with(
        &self,
        reference: &str,
        req: &Requirements,
    ) -> Result<Verification, RemoteError> {
        let (name, pinned) = palisade_registry::artifacts::parse_reference(reference)?;
        if let Some(hit) = pinned.and_then(|digest| self.cache.get(&name, &digest, req)) {
            return Ok(hit);
        }
        let repo = Repository::connect(reference, &self.options, false)?;
        let image = repo.resolve()?;
        if let Some(hit) = self.cache.get(&repo.name(), &image.digest, req) {
            return Ok(hit);
        }
        let verification =
            verify_image_with(&RepositorySource(&repo), &image.digest, &image.bytes, req)
                .map_err(TrustError::Source)?;
        self.cache.insert(&repo.name(), req, &verification);
        Ok(verification)
    }

    /// Number of cached verdicts.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }
}

/// What a signing operation wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignOutcome {
    /// `registry/repository`.
    pub repository: String,
    /// The image digest signed.
    pub digest: String,
    /// Where the signature went: the `.sig` tag, or the referrer manifest digest.
    pub location: String,
    /// Fingerprint of the signing key.
    pub key_fingerprint: String,
}

impl SignOutcome {
    /// What was written (repository, image digest, location), signed with `key`.
    fn signed_with(
        (repository, digest, location): (String, String, String),
        key: &SigningKey,
    ) -> Self {
        SignOutcome {
            repository,
            digest,
            location,
            key_fingerprint: key.public_key().fingerprint(),
        }
    }
}

/// Signs `reference` in cosign's classic layout: pushes the simple-signing payload, the config
/// and the signature manifest under `sha256-<hex>.sig`, appending to existing signatures.
pub fn sign_classic(
    reference: &str,
    key: &SigningKey,
    options: &PullOptions,
    annotations: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<SignOutcome, RemoteError> {
    let written = append_classic_with(reference, options, |repo, digest| {
        let payload = simple_signing_payload(repo, digest, annotations);
        let signature = key.sign(&payload);
        Ok((payload, classic::signature_annotations(&signature)))
    })?;
    Ok(SignOutcome::signed_with(written, key))
}

/// Appends the payload layer that `make` builds from the repository name and the image digest
/// (payload bytes and layer annotations: a keyless signature made elsewhere, for instance) to
/// the image's `sha256-<hex>.sig` manifest, as [`sign_classic`] does. Returns the repository,
/// the image digest and the tag.
pub fn append_classic_with(
    reference: &str,
    options: &PullOptions,
    make: impl FnOnce(&str, &str) -> Result<(Vec<u8>, BTreeMap<String, String>), String>,
) -> Result<(String, String, String), RemoteError> {
    let repo = Repository::connect(reference, options, true)?;
    let image = repo.resolve()?;
    let (payload, annotations) = make(&repo.name(), &image.digest).map_err(TrustError::Artifact)?;
    let tag = classic::signature_tag(&image.digest).map_err(TrustError::Artifact)?;
    let existing = repo.manifest_by_tag(&tag)?;
    let artifacts = classic::append_layer(
        existing.as_ref().map(|m| m.bytes.as_slice()),
        &payload,
        annotations,
    )?;
    repo.push_blob(&artifacts.payload)?;
    repo.push_blob(&artifacts.config)?;
    repo.push_manifest(&tag, &artifacts.manifest, artifacts.media_type)?;
    Ok((repo.name(), image.digest, tag))
}

/// Which bundle content to attach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// DSSE envelope with an in-toto statement (cosign 3's image signatures).
    Dsse,
    /// `messageSignature` over the image manifest.
    MessageSignature,
}

/// Signs `reference` with a Sigstore bundle attached as a referrer: pushes the bundle blob, the
/// empty config and a manifest whose `subject` is the image, then records it in the
/// `sha256-<hex>` referrers tag-schema index (for registries without the referrers API).
pub fn attach_bundle(
    reference: &str,
    key: &SigningKey,
    options: &PullOptions,
    kind: BundleKind,
) -> Result<SignOutcome, RemoteError> {
    let written = attach_bundle_with(reference, options, |digest, manifest| match kind {
        BundleKind::Dsse => bundle::sign_dsse_bundle(digest, key),
        BundleKind::MessageSignature => bundle::sign_message_bundle(manifest, key),
    })?;
    Ok(SignOutcome::signed_with(written, key))
}

/// Attaches the bundle that `make` builds from the image's digest and manifest bytes (a
/// keyless bundle made elsewhere, for instance) as a referrer, with the tag-schema index as
/// [`attach_bundle`] does. Returns the repository, the image digest and the referrer location.
pub fn attach_bundle_with(
    reference: &str,
    options: &PullOptions,
    make: impl FnOnce(&str, &[u8]) -> Result<Vec<u8>, String>,
) -> Result<(String, String, String), RemoteError> {
    let repo = Repository::connect(reference, options, true)?;
    let image = repo.resolve()?;
    let bundle = make(&image.digest, &image.bytes).map_err(TrustError::Artifact)?;
    let subject = Descriptor {
        media_type: if image.media_type.is_empty() {
            classic::OCI_MANIFEST.to_string()
        } else {
            image.media_type.clone()
        },
        digest: image.digest.clone(),
        size: image.bytes.len() as u64,
        annotations: Default::default(),
    };
    let manifest = bundle::referrer_manifest(&subject, &bundle);
    repo.push_blob(&bundle)?;
    repo.push_blob(bundle::EMPTY_CONFIG)?;
    let digest = crate::keys::sha256_digest(&manifest);
    repo.push_manifest(&digest, &manifest, classic::OCI_MANIFEST)?;
    let index_tag = image.digest.replacen(':', "-", 1);
    let existing = repo.manifest_by_tag(&index_tag)?;
    let index =
        bundle::add_to_referrers_index(existing.as_ref().map(|m| m.bytes.as_slice()), &manifest)
            .map_err(TrustError::Artifact)?;
    repo.push_manifest(
        &index_tag,
        &index,
        "application/vnd.oci.image.index.v1+json",
    )?;
    Ok((repo.name(), image.digest, format!("referrer {digest}")))
}
