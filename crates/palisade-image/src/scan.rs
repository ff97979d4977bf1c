//! One call per source: open, unpack, inventory and describe an image.

use std::path::Path;

use palisade_model::Package;
use serde::Serialize;

use crate::facts::{self, ImageContentFacts};
use crate::fs::{FileNote, ImageFs, LayerInfo};
use crate::inventory::{self, OsInfo};
use crate::oci::Platform;
use crate::source::{self, BlobSource, Progress, ResolvedImage};
use crate::{ImageError, Limits};

/// Everything found in one image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageScan {
    /// What was scanned (`oci-layout:/dir`, `archive:/file`, a registry reference…).
    pub source: String,
    /// Digest of the manifest, when the source has one.
    pub manifest_digest: Option<String>,
    /// Digest of the config blob.
    pub config_digest: Option<String>,
    /// Platform of the scanned image.
    pub platform: Option<String>,
    /// Detected OS.
    pub os: Option<OsInfo>,
    /// Packages.
    pub packages: Vec<Package>,
    /// Facts for policy.
    pub facts: ImageContentFacts,
    /// Layers applied.
    pub layers: Vec<LayerInfo>,
    /// Number of paths in the merged filesystem.
    pub file_count: usize,
    /// Files that could not be analysed.
    pub diagnostics: Vec<FileNote>,
}

/// Analyses an unpacked filesystem (and the config, when there is one).
pub fn analyze(source: String, image: Option<&ResolvedImage>, fs: &ImageFs) -> ImageScan {
    let inv = inventory::inventory(fs);
    let config = image.map(|i| i.config.clone()).unwrap_or_default();
    let platform = match (&config.os, &config.architecture) {
        (Some(os), Some(arch)) => Some(
            Platform {
                os: os.clone(),
                architecture: arch.clone(),
                variant: config.variant.clone(),
            }
            .to_string(),
        ),
        _ => None,
    };
    ImageScan {
        source,
        manifest_digest: image.and_then(|i| i.manifest_digest.clone()),
        config_digest: image.map(|i| i.config_digest.clone()),
        platform,
        os: inv.os,
        packages: inv.packages,
        facts: facts::facts(&config, fs),
        layers: fs.layers().to_vec(),
        file_count: fs.len(),
        diagnostics: inv.diagnostics,
    }
}

/// Unpacks and analyses a resolved image from any blob source.
pub fn scan_resolved(
    source: &dyn BlobSource,
    image: &ResolvedImage,
    limits: Limits,
    progress: &dyn Progress,
) -> Result<ImageScan, ImageError> {
    let fs = source::unpack(source, image, limits, progress)?;
    Ok(analyze(source.name(), Some(image), &fs))
}

/// Scans an OCI layout directory.
pub fn scan_oci_layout(
    dir: &Path,
    reference: Option<&str>,
    platform: Option<&Platform>,
    limits: Limits,
    progress: &dyn Progress,
) -> Result<ImageScan, ImageError> {
    let layout = source::oci_layout::OciLayout::open(dir)?;
    let image = layout.resolve(reference, platform)?;
    scan_resolved(&layout, &image, limits, progress)
}

/// Scans a `docker save` archive.
pub fn scan_archive(
    file: &Path,
    reference: Option<&str>,
    platform: Option<&Platform>,
    limits: Limits,
    progress: &dyn Progress,
) -> Result<ImageScan, ImageError> {
    let mut archive = source::archive::DockerArchive::open(file)?;
    let image = archive.resolve(reference, platform)?;
    scan_resolved(&archive, &image, limits, progress)
}

/// Scans a root filesystem directory.
pub fn scan_rootfs(dir: &Path, limits: Limits) -> Result<ImageScan, ImageError> {
    let fs = source::rootfs::read_rootfs(dir, limits)?;
    Ok(analyze(format!("rootfs:{}", dir.display()), None, &fs))
}
