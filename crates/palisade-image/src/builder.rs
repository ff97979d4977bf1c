//! Writes OCI image layouts from in-memory layers: real tar streams (gzip, zstd or plain),
//! real digests and diff_ids, configs, manifests and multi-platform indexes. Used to produce
//! test images (including deliberately hostile layers, whose names are written raw) and to
//! export images.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::ImageError;
use crate::digest::Digest;
use crate::oci::{self, Descriptor, Platform};

/// Builds one layer tar entry by entry.
pub struct LayerBuilder {
    tar: tar::Builder<Vec<u8>>,
}

/// A finished layer blob.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The blob as stored (compressed or not).
    pub blob: Vec<u8>,
    /// Digest of the uncompressed tar.
    pub diff_id: String,
    /// Media type.
    pub media_type: &'static str,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    /// An empty layer.
    pub fn new() -> Self {
        LayerBuilder {
            tar: tar::Builder::new(Vec::new()),
        }
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        h
    }

    fn append(&mut self, mut h: tar::Header, path: &str, link: Option<&str>, data: &[u8]) {
        // Names are written byte for byte (no validation), so hostile fixtures are possible.
        if path.len() <= 100 && link.is_none_or(|l| l.len() <= 100) {
            let old = h.as_old_mut();
            old.name = [0; 100];
            old.name[..path.len()].copy_from_slice(path.as_bytes());
            if let Some(l) = link {
                old.linkname = [0; 100];
                old.linkname[..l.len()].copy_from_slice(l.as_bytes());
            }
            h.set_cksum();
            self.tar
                .append(&h, data)
                .expect("writing to a Vec cannot fail");
        } else if let Some(l) = link {
            self.tar
                .append_link(&mut h, path, l)
                .expect("long link names are written as GNU extensions");
        } else {
            self.tar
                .append_data(&mut h, path, data)
                .expect("long names are written as GNU extensions");
        }
    }

    /// A regular file.
    pub fn file(mut self, path: &str, mode: u32, data: &[u8]) -> Self {
        let h = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        self.append(h, path, None, data);
        self
    }

    /// A regular file whose content is `size` zero bytes, streamed without holding it.
    pub fn zero_file(mut self, path: &str, size: u64) -> Self {
        let h = Self::header(tar::EntryType::Regular, 0o644, size);
        let mut h = h;
        h.as_old_mut().name = [0; 100];
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        self.tar
            .append(&h, std::io::repeat(0).take_bytes(size))
            .expect("writing to a Vec cannot fail");
        self
    }

    /// A directory.
    pub fn dir(mut self, path: &str) -> Self {
        let h = Self::header(tar::EntryType::Directory, 0o755, 0);
        self.append(h, path, None, &[]);
        self
    }

    /// A symbolic link.
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let h = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.append(h, path, Some(target), &[]);
        self
    }

    /// A hard link to an earlier entry.
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        let h = Self::header(tar::EntryType::Link, 0o644, 0);
        self.append(h, path, Some(target), &[]);
        self
    }

    /// A whiteout hiding `dir/name` from lower layers.
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let wh = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&wh, 0o644, &[])
    }

    /// An opaque whiteout for `dir`.
    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), 0o644, &[])
    }

    fn tar_bytes(self) -> Vec<u8> {
        self.tar.into_inner().expect("writing to a Vec cannot fail")
    }

    /// Finishes as an uncompressed layer.
    pub fn plain(self) -> Layer {
        let tar = self.tar_bytes();
        Layer {
            diff_id: Digest::sha256_of(&tar).to_string(),
            blob: tar,
            media_type: oci::OCI_LAYER_TAR,
        }
    }

    /// Finishes as a gzip layer.
    pub fn gzip(self) -> Layer {
        let tar = self.tar_bytes();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&tar).expect("in-memory gzip");
        Layer {
            diff_id: Digest::sha256_of(&tar).to_string(),
            blob: enc.finish().expect("in-memory gzip"),
            media_type: oci::OCI_LAYER_GZIP,
        }
    }

    /// Finishes as a zstd layer.
    pub fn zstd(self) -> Layer {
        let tar = self.tar_bytes();
        Layer {
            diff_id: Digest::sha256_of(&tar).to_string(),
            blob: zstd::encode_all(&tar[..], 3).expect("in-memory zstd"),
            media_type: oci::OCI_LAYER_ZSTD,
        }
    }
}

trait TakeBytes {
    fn take_bytes(self, n: u64) -> std::io::Take<std::io::Repeat>;
}

impl TakeBytes for std::io::Repeat {
    fn take_bytes(self, n: u64) -> std::io::Take<std::io::Repeat> {
        std::io::Read::take(self, n)
    }
}

/// What goes into one image.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    /// Platform recorded in the config (and in an index entry).
    pub platform: Platform,
    /// The runtime `config` object (`User`, `Env`, `ExposedPorts`…).
    pub runtime: serde_json::Value,
    /// `created`.
    pub created: Option<String>,
    /// History `created_by` strings.
    pub history: Vec<String>,
    /// Layers, base first.
    pub layers: Vec<Layer>,
}

impl ImageSpec {
    /// A linux/amd64 image with the given layers and an empty runtime config.
    pub fn new(layers: Vec<Layer>) -> Self {
        ImageSpec {
            platform: Platform {
                os: "linux".into(),
                architecture: "amd64".into(),
                variant: None,
            },
            runtime: json!({}),
            created: Some("2024-01-15T10:30:00Z".into()),
            history: Vec::new(),
            layers,
        }
    }
}

/// Writes an OCI image layout directory.
pub struct OciLayoutWriter {
    root: PathBuf,
}

impl OciLayoutWriter {
    /// Creates (or reuses) a layout directory.
    pub fn create(root: &Path) -> Result<Self, ImageError> {
        let what = root.display().to_string();
        std::fs::create_dir_all(root.join("blobs/sha256")).map_err(|e| ImageError::io(&what, e))?;
        std::fs::write(
            root.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .map_err(|e| ImageError::io(&what, e))?;
        Ok(OciLayoutWriter {
            root: root.to_path_buf(),
        })
    }

    /// Stores a blob and returns its descriptor.
    pub fn blob(&self, bytes: &[u8], media_type: &str) -> Result<Descriptor, ImageError> {
        let digest = Digest::sha256_of(bytes);
        let path = self.root.join("blobs/sha256").join(digest.hex());
        std::fs::write(&path, bytes).map_err(|e| ImageError::io(path.display().to_string(), e))?;
        Ok(Descriptor {
            media_type: media_type.to_string(),
            digest: digest.to_string(),
            size: bytes.len() as u64,
            platform: None,
            annotations: Default::default(),
        })
    }

    /// Stores layers, config and manifest of one image; returns the manifest descriptor (with
    /// the platform filled in, ready for an index).
    pub fn image(&self, spec: &ImageSpec) -> Result<Descriptor, ImageError> {
        let mut layers = Vec::new();
        for l in &spec.layers {
            layers.push(self.blob(&l.blob, l.media_type)?);
        }
        let history: Vec<serde_json::Value> = spec
            .history
            .iter()
            .map(|h| json!({"created": spec.created, "created_by": h}))
            .collect();
        let mut config = json!({
            "architecture": spec.platform.architecture,
            "os": spec.platform.os,
            "config": spec.runtime,
            "rootfs": {"type": "layers", "diff_ids": spec.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
            "history": history,
        });
        if let Some(c) = &spec.created {
            config["created"] = json!(c);
        }
        if let Some(v) = &spec.platform.variant {
            config["variant"] = json!(v);
        }
        let config_bytes =
            serde_json::to_vec(&config).map_err(|e| ImageError::json("config", e))?;
        let config_desc = self.blob(&config_bytes, oci::OCI_CONFIG)?;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": oci::OCI_MANIFEST,
            "config": config_desc,
            "layers": layers,
        });
        let bytes = serde_json::to_vec(&manifest).map_err(|e| ImageError::json("manifest", e))?;
        let mut desc = self.blob(&bytes, oci::OCI_MANIFEST)?;
        desc.platform = Some(spec.platform.clone());
        Ok(desc)
    }

    /// Writes `index.json` listing `manifests`, each optionally tagged with a
    /// `org.opencontainers.image.ref.name`.
    pub fn finish(&self, manifests: Vec<(Descriptor, Option<&str>)>) -> Result<(), ImageError> {
        let entries: Vec<Descriptor> = manifests
            .into_iter()
            .map(|(mut d, name)| {
                if let Some(n) = name {
                    d.annotations
                        .insert("org.opencontainers.image.ref.name".into(), n.to_string());
                }
                d
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": oci::OCI_INDEX, "manifests": entries});
        let path = self.root.join("index.json");
        std::fs::write(
            &path,
            serde_json::to_vec_pretty(&index).map_err(|e| ImageError::json("index", e))?,
        )
        .map_err(|e| ImageError::io(path.display().to_string(), e))
    }

    /// Stores a nested image index (a multi-platform image) as a blob and returns its
    /// descriptor.
    pub fn index_blob(&self, manifests: &[Descriptor]) -> Result<Descriptor, ImageError> {
        let index =
            json!({"schemaVersion": 2, "mediaType": oci::OCI_INDEX, "manifests": manifests});
        let bytes = serde_json::to_vec(&index).map_err(|e| ImageError::json("index", e))?;
        self.blob(&bytes, oci::OCI_INDEX)
    }
}
