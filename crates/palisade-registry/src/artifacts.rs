//! Raw access to one repository for signature tooling: manifests by tag or digest (a missing
//! tag is `None`, not an error), bounded and digest-checked blob reads, referrers (OCI referrers
//! API with the `sha256-<hex>` tag-schema fallback), and pushes of blobs and manifests.
//!
//! Unlike [`crate::RemoteImage`], nothing here selects a platform: [`Repository::resolve`]
//! returns the manifest or index the reference names, whose digest is the one cosign signs.

use std::sync::Arc;

use futures_util::StreamExt;
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use palisade_oci::blob::MAX_MANIFEST_BYTES;
use palisade_oci::manifest as oci;

use crate::{PullOptions, RegistryError};

/// Media types accepted when fetching manifests (images, indexes, docker v2).
pub const MANIFEST_MEDIA_TYPES: &[&str] = &[
    oci::OCI_INDEX,
    oci::OCI_MANIFEST,
    oci::DOCKER_MANIFEST_LIST,
    oci::DOCKER_MANIFEST,
];

/// A manifest as stored: bytes, digest and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawManifest {
    /// The exact bytes served.
    pub bytes: Vec<u8>,
    /// `sha256:…` of the bytes.
    pub digest: String,
    /// `mediaType` from the document (empty when absent).
    pub media_type: String,
}

/// An entry of a referrers listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrerDescriptor {
    /// Manifest digest of the referrer.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// Its artifact type.
    pub artifact_type: Option<String>,
}

/// One repository of a registry, with credentials resolved.
pub struct Repository {
    runtime: tokio::runtime::Runtime,
    client: Arc<Client>,
    reference: Reference,
    auth: RegistryAuth,
}

fn sha256(bytes: &[u8]) -> String {
    palisade_oci::Digest::sha256_of(bytes).to_string()
}

fn is_not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown | OciErrorCode::NotFound
            )
        }),
        _ => false,
    }
}

impl Repository {
    /// Connects to the repository of `reference` (tag or digest) and authenticates for `pull`
    /// (and `push` when `push` is set). Wrong credentials are reported here, naming the
    /// registry, rather than as a later 401.
    pub fn connect(
        reference: &str,
        options: &PullOptions,
        push: bool,
    ) -> Result<Repository, RegistryError> {
        let (reference, client, auth, runtime) = crate::connect(reference, options)?;
        let repo = Repository {
            runtime,
            client: Arc::new(client),
            reference,
            auth,
        };
        repo.authenticate(RegistryOperation::Pull)?;
        if push {
            repo.authenticate(RegistryOperation::Push)?;
        }
        Ok(repo)
    }

    fn authenticate(&self, op: RegistryOperation) -> Result<(), RegistryError> {
        crate::authenticate(&self.runtime, &self.client, &self.reference, &self.auth, op)
    }

    /// `registry/repository` (e.g. `127.0.0.1:5000/team/app`), as cosign names the identity.
    pub fn name(&self) -> String {
        format!(
            "{}/{}",
            self.reference.registry(),
            self.reference.repository()
        )
    }

    /// The reference as given (tag or digest).
    pub fn reference(&self) -> String {
        self.reference.whole()
    }

    /// The tag or digest the reference was given with: `Some(digest)` when pinned.
    pub fn pinned_digest(&self) -> Option<String> {
        self.reference.digest().map(str::to_string)
    }

    fn at(&self, tag_or_digest: &str) -> Reference {
        if tag_or_digest.contains(':') {
            Reference::with_digest(
                self.reference.registry().to_string(),
                self.reference.repository().to_string(),
                tag_or_digest.to_string(),
            )
        } else {
            Reference::with_tag(
                self.reference.registry().to_string(),
                self.reference.repository().to_string(),
                tag_or_digest.to_string(),
            )
        }
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> RegistryError {
        RegistryError::Distribution {
            reference: format!("{} {what}", self.name()),
            message: e.to_string(),
        }
    }

    fn fetch(&self, at: Reference, what: &str) -> Result<Option<RawManifest>, RegistryError> {
        match self.runtime.block_on(self.client.pull_manifest_raw(
            &at,
            &self.auth,
            MANIFEST_MEDIA_TYPES,
        )) {
            Ok((bytes, _)) => {
                if bytes.len() as u64 > MAX_MANIFEST_BYTES {
                    return Err(self.err(what, "manifest larger than 4 MiB"));
                }
                let digest = sha256(&bytes);
                if let Some(pinned) = at.digest().filter(|p| *p != digest) {
                    return Err(self.err(
                        what,
                        format!(
                            "manifest content {digest} does not match the requested digest {pinned}"
                        ),
                    ));
                }
                let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v["mediaType"].as_str().map(str::to_string))
                    .unwrap_or_default();
                Ok(Some(RawManifest {
                    bytes: bytes.to_vec(),
                    digest,
                    media_type,
                }))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.err(what, e)),
        }
    }

    /// The manifest (or index) the reference names — its digest is what signatures cover.
    pub fn resolve(&self) -> Result<RawManifest, RegistryError> {
        let what = self.reference.whole();
        self.fetch(self.reference.clone(), "manifest")?
            .ok_or_else(|| self.err("manifest", format!("{what} not found")))
    }

    /// The manifest under `tag`; `None` when the tag does not exist.
    pub fn manifest_by_tag(&self, tag: &str) -> Result<Option<RawManifest>, RegistryError> {
        self.fetch(self.at(tag), &format!("tag {tag}"))
    }

    /// The manifest with `digest` (checked against it).
    pub fn manifest_by_digest(&self, digest: &str) -> Result<RawManifest, RegistryError> {
        self.fetch(self.at(digest), &format!("manifest {digest}"))?
            .ok_or_else(|| self.err(&format!("manifest {digest}"), "not found"))
    }

    /// The blob `digest`, refused when longer than `max_bytes`, checked against its digest.
    pub fn blob(&self, digest: &str, max_bytes: u64) -> Result<Vec<u8>, RegistryError> {
        let what = format!("blob {digest}");
        let desc = OciDescriptor {
            digest: digest.to_string(),
            ..Default::default()
        };
        let data = self.runtime.block_on(async {
            let sized = self
                .client
                .pull_blob_stream(&self.reference, &desc)
                .await
                .map_err(|e| e.to_string())?;
            let mut stream = sized.stream;
            let mut data = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| e.to_string())?;
                if (data.len() + chunk.len()) as u64 > max_bytes {
                    return Err(format!("larger than {max_bytes} bytes"));
                }
                data.extend_from_slice(&chunk);
            }
            Ok(data)
        });
        let data = data.map_err(|e| self.err(&what, e))?;
        let actual = sha256(&data);
        if digest.starts_with("sha256:") && actual != digest {
            return Err(self.err(&what, format!("content has digest {actual}")));
        }
        Ok(data)
    }

    /// Referrers of `digest` through the referrers API, falling back to the `sha256-<hex>` tag
    /// schema when the registry does not implement the API (docker-registry 2.8 does not).
    pub fn referrers(&self, digest: &str) -> Result<Vec<ReferrerDescriptor>, RegistryError> {
        let index = self
            .runtime
            .block_on(self.client.pull_referrers(&self.at(digest), None))
            .map_err(|e| self.err(&format!("referrers of {digest}"), e))?;
        Ok(index
            .manifests
            .into_iter()
            .map(|m| ReferrerDescriptor {
                digest: m.digest,
                media_type: m.media_type,
                artifact_type: m.artifact_type,
            })
            .collect())
    }

    /// Uploads a blob (skipped when the registry already has it); returns its digest.
    pub fn push_blob(&self, bytes: &[u8]) -> Result<String, RegistryError> {
        let digest = sha256(bytes);
        let what = format!("push blob {digest}");
        let exists = self
            .runtime
            .block_on(self.client.blob_exists(&self.reference, &digest))
            .unwrap_or(false);
        if !exists {
            self.runtime
                .block_on(
                    self.client
                        .push_blob(&self.reference, bytes.to_vec(), &digest),
                )
                .map_err(|e| self.err(&what, e))?;
        }
        Ok(digest)
    }

    /// Pushes a manifest under `tag_or_digest`; returns its digest.
    pub fn push_manifest(
        &self,
        tag_or_digest: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<String, RegistryError> {
        let what = format!("push manifest {tag_or_digest}");
        let content_type = media_type
            .parse()
            .map_err(|_| self.err(&what, format!("invalid media type {media_type:?}")))?;
        self.runtime
            .block_on(self.client.push_manifest_raw(
                &self.at(tag_or_digest),
                bytes.to_vec(),
                content_type,
            ))
            .map_err(|e| self.err(&what, e))?;
        Ok(sha256(bytes))
    }
}

/// Parses `reference` without any request: `(registry/repository, pinned digest)` — the name
/// as [`Repository::name`] gives it (Docker Hub names normalized: `docker.io/library/nginx`).
pub fn parse_reference(reference: &str) -> Result<(String, Option<String>), RegistryError> {
    let parsed: Reference =
        reference
            .parse()
            .map_err(|e: oci_client::ParseError| RegistryError::Reference {
                reference: reference.to_string(),
                message: e.to_string(),
            })?;
    Ok((
        format!("{}/{}", parsed.registry(), parsed.repository()),
        parsed.digest().map(str::to_string),
    ))
}
