//! Where images come from: anything that can hand out blobs by descriptor (an OCI layout
//! directory, a `docker save` archive, a registry client in another crate), plus a root
//! filesystem directory. Manifest selection, blob verification and layer application are
//! shared here.

pub mod archive;
pub mod oci_layout;
pub mod rootfs;

use std::io::Read;

use crate::config::ImageConfig;
use crate::digest::Digest;
use crate::fs::ImageFs;
use crate::oci::{self, Descriptor, Index, Manifest, ManifestOrIndex, Platform};
use crate::unpack::{LayerExpectation, Unpacker};
use crate::{ImageError, Limits};

/// Largest manifest or index accepted.
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Largest config blob accepted.
pub const MAX_CONFIG_BYTES: u64 = 32 << 20;

/// A store of content-addressed blobs.
pub trait BlobSource {
    /// A name for messages (`oci-layout:/path`, `registry.example/repo`).
    fn name(&self) -> String;

    /// Opens a blob for streaming. Implementations need not verify the digest: callers do.
    fn open_blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, ImageError>;
}

/// Observes layer pulls/unpacking (for progress bars).
pub trait Progress {
    /// A layer starts (`index` of `count`, `size` compressed bytes).
    fn start_layer(&self, index: usize, count: usize, digest: &str, size: u64);
    /// Compressed bytes consumed.
    fn advance(&self, bytes: u64);
    /// The layer is applied.
    fn finish_layer(&self);
}

/// A [`Progress`] that ignores everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start_layer(&self, _: usize, _: usize, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish_layer(&self) {}
}

/// Reads a whole (small) blob, checking its size cap, descriptor size and digest.
pub fn read_blob(
    source: &dyn BlobSource,
    descriptor: &Descriptor,
    max: u64,
) -> Result<Vec<u8>, ImageError> {
    let what = format!("{} blob {}", source.name(), descriptor.digest);
    let digest = Digest::parse(&descriptor.digest)?;
    if descriptor.size > max {
        return Err(ImageError::format(
            &what,
            format!("{} bytes, over the {max} byte limit", descriptor.size),
        ));
    }
    let mut bytes = Vec::new();
    source
        .open_blob(descriptor)?
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| crate::error::from_io(e, &what))?;
    if bytes.len() as u64 > max {
        return Err(ImageError::format(
            &what,
            format!("over the {max} byte limit"),
        ));
    }
    digest.verify(&what, &bytes)?;
    if descriptor.size != 0 && descriptor.size != bytes.len() as u64 {
        return Err(ImageError::format(
            &what,
            format!(
                "descriptor says {} bytes, blob has {}",
                descriptor.size,
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

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
                doc = oci::parse_manifest_or_index(&bytes, &format!("manifest {}", chosen.digest))?;
                digest = Some(chosen.digest.clone());
            }
        }
    }
    Err(ImageError::format(
        source.name(),
        "indexes nested more than 4 levels",
    ))
}

/// Streams every layer of a resolved image through an [`Unpacker`], verifying each blob's
/// digest and the config's diff_ids.
pub fn unpack(
    source: &dyn BlobSource,
    image: &ResolvedImage,
    limits: Limits,
    progress: &dyn Progress,
) -> Result<ImageFs, ImageError> {
    let layers: Vec<&Descriptor> = image.manifest.layers.iter().collect();
    let diff_ids = image
        .config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    if !diff_ids.is_empty() && diff_ids.len() != layers.len() {
        return Err(ImageError::format(
            format!("config {}", image.config_digest),
            format!(
                "{} diff_ids for {} manifest layers",
                diff_ids.len(),
                layers.len()
            ),
        ));
    }
    let mut unpacker = Unpacker::new(limits);
    for (i, layer) in layers.iter().enumerate() {
        if !oci::is_layer_media_type(&layer.media_type) {
            return Err(ImageError::UnsupportedMediaType {
                what: format!("layer {}", layer.digest),
                media_type: layer.media_type.clone(),
            });
        }
        let expect = LayerExpectation {
            digest: Some(Digest::parse(&layer.digest)?),
            diff_id: diff_ids.get(i).map(|d| Digest::parse(d)).transpose()?,
            size: (layer.size > 0).then_some(layer.size),
        };
        progress.start_layer(i, layers.len(), &layer.digest, layer.size);
        let blob = source.open_blob(layer)?;
        unpacker.apply_layer(
            ProgressReader {
                inner: blob,
                progress,
            },
            &expect,
        )?;
        progress.finish_layer();
    }
    unpacker.finish()
}

struct ProgressReader<'p, R> {
    inner: R,
    progress: &'p dyn Progress,
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}
