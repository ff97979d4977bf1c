//! Pulls images from OCI / Docker registries through the distribution API and hands them out
//! as a [`BlobSource`] (the trait of `palisade-oci`, consumed by `palisade-image`'s unpacker;
//! this crate does not depend on the unpacker): manifests and indexes are resolved (with platform
//! selection), blobs are streamed chunk by chunk from the network into the unpacker, which
//! verifies every digest. Plain HTTP is used only for loopback registries and registries named
//! in [`PullOptions::insecure_registries`].
//!
//! The API is blocking: it owns a small tokio runtime. Call it from a plain thread (or
//! `spawn_blocking`), not from inside an async task.

pub mod artifacts;
pub mod auth;
mod stream;

use std::io::{Cursor, Read};
use std::net::IpAddr;
use std::sync::Arc;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use palisade_oci::blob::{BlobSource, MAX_MANIFEST_BYTES};
use palisade_oci::manifest::{self as oci, Descriptor, Platform};
use palisade_oci::{ImageError, ResolvedImage};

pub use artifacts::{RawManifest, ReferrerDescriptor, Repository};
pub use auth::AuthSource;

/// Errors of the registry client.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The reference cannot be parsed.
    #[error("invalid image reference {reference:?}: {message}")]
    Reference {
        /// As written.
        reference: String,
        /// Why.
        message: String,
    },
    /// Credentials could not be read.
    #[error("credentials for {registry}: {message}")]
    Credentials {
        /// The registry.
        registry: String,
        /// What failed.
        message: String,
    },
    /// The registry answered with an error or could not be reached.
    #[error("{reference}: {message}")]
    Distribution {
        /// The reference.
        reference: String,
        /// The client's message (status, registry error codes).
        message: String,
    },
    /// The image content is invalid.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The async runtime could not start.
    #[error("cannot start the network runtime: {0}")]
    Runtime(std::io::Error),
}

/// Options of a pull.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Platform to choose from a multi-arch index (default: the host's).
    pub platform: Option<Platform>,
    /// Registries (`host[:port]`) that may be reached over plain HTTP besides loopback ones.
    pub insecure_registries: Vec<String>,
    /// Credentials.
    pub auth: AuthSource,
}

/// Whether `registry` (`host[:port]`) is a loopback address.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        registry.rsplit_once(':').map_or(registry, |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                registry
            }
        })
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Parses `reference`, builds a client (plain HTTP only for loopback and insecure registries),
/// resolves credentials and starts the runtime.
pub(crate) fn connect(
    reference: &str,
    options: &PullOptions,
) -> Result<(Reference, Client, RegistryAuth, tokio::runtime::Runtime), RegistryError> {
    let parsed: Reference =
        reference
            .parse()
            .map_err(|e: oci_client::ParseError| RegistryError::Reference {
                reference: reference.to_string(),
                message: e.to_string(),
            })?;
    let registry = parsed.resolve_registry().to_string();
    let plain_http = is_loopback(parsed.registry())
        || options
            .insecure_registries
            .iter()
            .any(|r| r == parsed.registry());
    let protocol = if plain_http {
        ClientProtocol::HttpsExcept(vec![parsed.registry().to_string(), registry.clone()])
    } else {
        ClientProtocol::Https
    };
    let client = Client::new(ClientConfig {
        protocol,
        platform_resolver: None,
        connect_timeout: Some(std::time::Duration::from_secs(30)),
        read_timeout: Some(std::time::Duration::from_secs(300)),
        ..ClientConfig::default()
    });
    let auth = auth::resolve(&options.auth, parsed.registry()).map_err(|message| {
        RegistryError::Credentials {
            registry: parsed.registry().to_string(),
            message,
        }
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(RegistryError::Runtime)?;
    Ok((parsed, client, auth, runtime))
}

/// Performs the registry's auth handshake for `op` up front, so that a token service refusing
/// the credentials is reported as such (naming the registry, repository and scope) instead of a
/// later bare 401.
pub(crate) fn authenticate(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    reference: &Reference,
    auth: &RegistryAuth,
    op: oci_client::RegistryOperation,
) -> Result<(), RegistryError> {
    let scope = match op {
        oci_client::RegistryOperation::Pull => "pull",
        oci_client::RegistryOperation::Push => "push",
    };
    match runtime.block_on(client.auth(reference, auth, op)) {
        Ok(_) => Ok(()),
        Err(oci_client::errors::OciDistributionError::AuthenticationFailure(reason)) => {
            Err(RegistryError::Credentials {
                registry: reference.registry().to_string(),
                message: format!(
                    "the token service refused the credentials for {scope} access to {}: {}",
                    reference.repository(),
                    reason.trim()
                ),
            })
        }
        Err(e) => Err(RegistryError::Distribution {
            reference: reference.whole(),
            message: format!("authentication ({scope}): {e}"),
        }),
    }
}

/// An image in a registry, ready to be unpacked.
pub struct RemoteImage {
    runtime: tokio::runtime::Runtime,
    client: Arc<Client>,
    reference: Reference,
    auth: RegistryAuth,
    /// The resolved manifest and config.
    pub resolved: ResolvedImage,
}

const ACCEPTED: &[&str] = &[
    oci::OCI_INDEX,
    oci::OCI_MANIFEST,
    oci::DOCKER_MANIFEST_LIST,
    oci::DOCKER_MANIFEST,
];

impl RemoteImage {
    /// Resolves `reference` (tag or digest) to one image manifest and its config.
    pub fn open(reference: &str, options: &PullOptions) -> Result<RemoteImage, RegistryError> {
        let (parsed, client, auth, runtime) = connect(reference, options)?;
        authenticate(
            &runtime,
            &client,
            &parsed,
            &auth,
            oci_client::RegistryOperation::Pull,
        )?;
        let client = Arc::new(client);
        let (bytes, digest) = runtime
            .block_on(client.pull_manifest_raw(&parsed, &auth, ACCEPTED))
            .map_err(|e| RegistryError::Distribution {
                reference: reference.to_string(),
                message: e.to_string(),
            })?;
        if bytes.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(ImageError::format(reference, "manifest larger than 4 MiB").into());
        }
        if let Some(pinned) = parsed.digest() {
            palisade_oci::Digest::parse(pinned)?
                .verify(&format!("manifest {reference}"), &bytes)?;
        }
        let doc = oci::parse_manifest_or_index(&bytes, &format!("manifest {reference}"))?;
        let mut image = RemoteImage {
            runtime,
            client,
            reference: parsed,
            auth,
            resolved: ResolvedImage {
                manifest_digest: None,
                manifest: oci::Manifest {
                    schema_version: 2,
                    media_type: None,
                    config: Descriptor {
                        media_type: String::new(),
                        digest: String::new(),
                        size: 0,
                        platform: None,
                        annotations: Default::default(),
                    },
                    layers: Vec::new(),
                    annotations: Default::default(),
                },
                config_digest: String::new(),
                config: Default::default(),
                available_platforms: Vec::new(),
            },
        };
        image.resolved =
            palisade_oci::resolve(&image, doc, Some(digest), options.platform.as_ref())?;
        Ok(image)
    }

    /// The reference as resolved (registry, repository, tag/digest).
    pub fn reference(&self) -> String {
        self.reference.whole()
    }
}

impl BlobSource for RemoteImage {
    fn name(&self) -> String {
        self.reference.whole()
    }

    fn open_blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, ImageError> {
        let what = format!("{} blob {}", self.reference.whole(), descriptor.digest);
        if ACCEPTED.contains(&descriptor.media_type.as_str()) {
            // Manifests live behind the manifests endpoint, not the blobs endpoint.
            let by_digest = Reference::with_digest(
                self.reference.registry().to_string(),
                self.reference.repository().to_string(),
                descriptor.digest.clone(),
            );
            let (bytes, _) = self
                .runtime
                .block_on(
                    self.client
                        .pull_manifest_raw(&by_digest, &self.auth, ACCEPTED),
                )
                .map_err(|e| ImageError::io(&what, std::io::Error::other(e.to_string())))?;
            return Ok(Box::new(Cursor::new(bytes.to_vec())));
        }
        let desc = OciDescriptor {
            media_type: descriptor.media_type.clone(),
            digest: descriptor.digest.clone(),
            size: i64::try_from(descriptor.size).unwrap_or(i64::MAX),
            ..Default::default()
        };
        Ok(Box::new(stream::spawn_blob_stream(
            &self.runtime,
            self.client.clone(),
            self.reference.clone(),
            desc,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_detection() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost:5000"));
        assert!(is_loopback("[::1]:5000"));
        assert!(is_loopback("127.8.9.1"));
        assert!(!is_loopback("registry.example:5000"));
        assert!(!is_loopback("10.0.0.1:5000"));
    }
}
