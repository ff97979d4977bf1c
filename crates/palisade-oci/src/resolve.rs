//! Resolution of a manifest-or-index document down to one image manifest and its config for a
//! platform, following nested indexes, with every blob read through a [`BlobSource`].

use crate::ImageError;
use crate::blob::{BlobSource, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, read_blob};
use crate::config::ImageConfig;
use crate::manifest::{self, Descriptor, Index, Manifest, ManifestOrIndex, Platform};

/// A manifest chosen for one platform, with its config.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// Digest of the chosen manifest, when known.
    pub manifest_digest: Option<String>,
    /// The manifest.
    pub manifest: Manifest,
    /// Digest of the config blob.
    pub config_digest: String,
    /// The parsed config.
    pub config: ImageConfig,
    /// Platforms the index offered (empty for a single manifest).
    pub available_platforms: Vec<Platform>,
}

/// Picks the index entry for `platform` (default: the host platform, or the only entry).
pub fn choose_from_index<'i>(
    index: &'i Index,
    platform: Option<&Platform>,
) -> Result<&'i Descriptor, ImageError> {
    let images: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| {
            // Attestation manifests (BuildKit) carry platform unknown/unknown.
            d.platform.as_ref().is_none_or(|p| p.os != "unknown")
        })
        .collect();
    let wanted = platform.cloned().unwrap_or_else(Platform::host);
    if let Some(d) = images
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| wanted.matches(p)))
    {
        return Ok(d);
    }
    if platform.is_none() && images.len() == 1 {
        return Ok(images[0]);
    }
    Err(ImageError::NoMatchingPlatform {
        wanted: wanted.to_string(),
        available: list_for_message(images.iter().map(|d| {
            d.platform
                .as_ref()
                .map_or_else(|| "(unspecified)".to_string(), ToString::to_string)
        })),
    })
}

/// Most distinct items a message lists; an index of a million entries must not become a
/// 15 MB error line.
const MESSAGE_LIST_MAX: usize = 10;

/// The distinct items, in order, joined with commas: at most [`MESSAGE_LIST_MAX`], then how
/// many more there were.
fn list_for_message(items: impl Iterator<Item = String>) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut shown = Vec::new();
    let mut more = 0usize;
    for item in items {
        if !seen.insert(item.clone()) {
            continue;
        }
        if shown.len() < MESSAGE_LIST_MAX {
            shown.push(item);
        } else {
            more += 1;
        }
    }
    let mut text = shown.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// Resolves a manifest-or-index document (already fetched) down to one image manifest and its
/// config, following nested indexes (at most 4 levels).
pub fn resolve(
    source: &dyn BlobSource,
    top: ManifestOrIndex,
    top_digest: Option<String>,
    platform: Option<&Platform>,
) -> Result<ResolvedImage, ImageError> {
    let mut doc = top;
    let mut digest = top_digest;
    let mut available = Vec::new();
    for _ in 0..4 {
        match doc {
            ManifestOrIndex::Manifest(manifest) => {
                let config_bytes = read_blob(source, &manifest.config, MAX_CONFIG_BYTES)?;
                let config = ImageConfig::parse(
                    &config_bytes,
                    &format!("config {}", manifest.config.digest),
                )?;
                if let Some(wanted) = platform
                    && let (Some(os), Some(arch)) = (&config.os, &config.architecture)
                {
                    let actual = Platform {
                        os: os.clone(),
                        architecture: arch.clone(),
                        variant: config.variant.clone(),
                    };
                    if available.is_empty() && !wanted.matches(&actual) {
                        return Err(ImageError::NoMatchingPlatform {
                            wanted: wanted.to_string(),
                            available: actual.to_string(),
                        });
                    }
                }
                return Ok(ResolvedImage {
                    manifest_digest: digest,
                    config_digest: manifest.config.digest.clone(),
                    manifest,
                    config,
                    available_platforms: available,
                });
            }
            ManifestOrIndex::Index(index) => {
                available = index
                    .manifests
                    .iter()
                    .filter_map(|d| d.platform.clone())
                    .collect();
                let chosen = choose_from_index(&index, platform)?.clone();
                let bytes = read_blob(source, &chosen, MAX_MANIFEST_BYTES)?;
                doc = manifest::parse_manifest_or_index(
                    &bytes,
                    &format!("manifest {}", chosen.digest),
                )?;
                digest = Some(chosen.digest.clone());
            }
        }
    }
    Err(ImageError::format(
        source.name(),
        "indexes nested more than 4 levels",
    ))
}
