//! Where images come from: anything that can hand out blobs by descriptor (an OCI layout
//! directory, a `docker save` archive, a registry client in another crate) implements
//! [`BlobSource`] (defined in palisade-oci, re-exported here with manifest resolution), plus a
//! root filesystem directory. Layer application (unpacking with progress) is done here.

pub mod archive;
pub mod oci_layout;
pub mod rootfs;

use std::io::Read;

use crate::digest::Digest;
use crate::fs::ImageFs;
use crate::oci::{self, Descriptor};
use crate::unpack::{LayerExpectation, Unpacker};
use crate::{ImageError, Limits};

pub use palisade_oci::blob::{BlobSource, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, read_blob};
pub use palisade_oci::resolve::{ResolvedImage, choose_from_index, resolve};

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

/// A file that `palisade_fs` would not open or read (I/O error, not a regular file, too
/// large), as an image error naming it.
pub(crate) fn open_error(what: impl Into<String>, e: palisade_fs::OpenError) -> ImageError {
    match e {
        palisade_fs::OpenError::Io(e) => ImageError::io(what, e),
        other => ImageError::format(what, other.to_string()),
    }
}
