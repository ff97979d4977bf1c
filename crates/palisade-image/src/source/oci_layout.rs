//! An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::ImageError;
use crate::digest::Digest;
use crate::oci::{Descriptor, Index, ManifestOrIndex, Platform};
use crate::source::{BlobSource, ResolvedImage, resolve};

/// Largest `oci-layout` marker read (it holds one short JSON object).
const MAX_MARKER_BYTES: u64 = 64 << 10;

/// Reads a small file of the layout (marker, `index.json`): a regular file only, so a FIFO in
/// its place cannot block, and at most `max` bytes.
fn read_layout_file(path: &Path, max: u64) -> Result<Vec<u8>, ImageError> {
    palisade_fs::read_bounded(path, max, palisade_fs::Special::Refuse)
        .map_err(|e| crate::source::open_error(path.display().to_string(), e))
}

/// A layout directory.
pub struct OciLayout {
    root: PathBuf,
}

impl OciLayout {
    /// Opens a layout, checking its `oci-layout` marker.
    pub fn open(root: &Path) -> Result<OciLayout, ImageError> {
        let marker = root.join("oci-layout");
        let text = read_layout_file(&marker, MAX_MARKER_BYTES)?;
        let v: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|e| ImageError::json(marker.display().to_string(), e))?;
        if v.get("imageLayoutVersion")
            .and_then(|v| v.as_str())
            .is_none()
        {
            return Err(ImageError::format(
                marker.display().to_string(),
                "missing imageLayoutVersion",
            ));
        }
        Ok(OciLayout {
            root: root.to_path_buf(),
        })
    }

    /// The top-level index.
    pub fn index(&self) -> Result<Index, ImageError> {
        let path = self.root.join("index.json");
        let bytes = read_layout_file(&path, crate::source::MAX_MANIFEST_BYTES)?;
        serde_json::from_slice(&bytes).map_err(|e| ImageError::json(path.display().to_string(), e))
    }

    /// Resolves the image: `reference` picks an index entry by its
    /// `org.opencontainers.image.ref.name` annotation (otherwise the only entry, or the one for
    /// the platform).
    pub fn resolve(
        &self,
        reference: Option<&str>,
        platform: Option<&Platform>,
    ) -> Result<ResolvedImage, ImageError> {
        let mut index = self.index()?;
        if let Some(r) = reference {
            index.manifests.retain(|d| {
                d.annotations
                    .get("org.opencontainers.image.ref.name")
                    .map(String::as_str)
                    == Some(r)
            });
            if index.manifests.is_empty() {
                return Err(ImageError::NotFound(format!(
                    "{}: reference {r:?}",
                    self.name()
                )));
            }
        }
        if index.manifests.len() == 1 {
            let d = index.manifests[0].clone();
            let bytes = crate::source::read_blob(self, &d, crate::source::MAX_MANIFEST_BYTES)?;
            let doc =
                crate::oci::parse_manifest_or_index(&bytes, &format!("manifest {}", d.digest))?;
            return resolve(self, doc, Some(d.digest), platform);
        }
        resolve(self, ManifestOrIndex::Index(index), None, platform)
    }
}

impl BlobSource for OciLayout {
    fn name(&self) -> String {
        format!("oci-layout:{}", self.root.display())
    }

    fn open_blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, ImageError> {
        let digest = Digest::parse(&descriptor.digest)?;
        let alg = match digest.algorithm() {
            crate::digest::Algorithm::Sha256 => "sha256",
            crate::digest::Algorithm::Sha512 => "sha512",
        };
        let path = self.root.join("blobs").join(alg).join(digest.hex());
        let file = palisade_fs::open(&path, palisade_fs::Special::Refuse)
            .map_err(|e| crate::source::open_error(path.display().to_string(), e))?;
        Ok(Box::new(std::io::BufReader::with_capacity(
            256 * 1024,
            file,
        )))
    }
}
