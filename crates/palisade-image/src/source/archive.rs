//! `docker save` archives, read in place (the tar is indexed once, blobs are read by seeking
//! into it): the legacy layout (`manifest.json` with `Config` and `Layers` paths) and the
//! OCI-in-tar layout (`oci-layout`, `index.json`, `blobs/…`) of newer Docker versions.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ImageError;
use crate::config::ImageConfig;
use crate::digest::Digest;
use crate::oci::{Descriptor, Index, Manifest, ManifestOrIndex, Platform};
use crate::source::{BlobSource, ResolvedImage, read_blob, resolve};
use crate::vpath;

/// A docker-save archive.
pub struct DockerArchive {
    path: PathBuf,
    entries: HashMap<String, (u64, u64)>,
    /// Synthetic digests (legacy layout) → member paths.
    by_digest: HashMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LegacyEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

const MAX_MEMBERS: usize = 1_000_000;

/// Opens the archive: a regular file only (a FIFO would block and cannot be seeked).
fn open_archive(path: &Path, what: &str) -> Result<File, ImageError> {
    palisade_fs::open(path, palisade_fs::Special::Refuse)
        .map_err(|e| crate::source::open_error(what, e))
}

impl DockerArchive {
    /// Indexes the archive's members (following member symlinks, as legacy archives use them
    /// for shared layers).
    pub fn open(path: &Path) -> Result<DockerArchive, ImageError> {
        let what = path.display().to_string();
        let file = open_archive(path, &what)?;
        let mut archive = tar::Archive::new(std::io::BufReader::new(file));
        let mut entries = HashMap::new();
        let mut links = Vec::new();
        let tar_err = |e: std::io::Error| ImageError::Tar {
            layer: what.clone(),
            message: e.to_string(),
        };
        for entry in archive.entries().map_err(tar_err)? {
            let entry = entry.map_err(tar_err)?;
            if entries.len() + links.len() > MAX_MEMBERS {
                return Err(ImageError::format(&what, "too many archive members"));
            }
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Ok(name) = vpath::normalize_entry(&raw) else {
                return Err(ImageError::PathTraversal {
                    layer: what.clone(),
                    path: raw,
                });
            };
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    entries.insert(name, (entry.raw_file_position(), entry.size()));
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    if let Some(t) = entry.link_name_bytes() {
                        links.push((
                            name,
                            String::from_utf8_lossy(&t).into_owned(),
                            entry.header().entry_type(),
                        ));
                    }
                }
                _ => {}
            }
        }
        for (name, target, kind) in links {
            let resolved = if kind == tar::EntryType::Symlink {
                vpath::lexical_target(vpath::parent(&name), &target)
            } else {
                vpath::normalize_entry(&target).ok()
            };
            if let Some(loc) = resolved.and_then(|r| entries.get(&r).copied()) {
                entries.insert(name, loc);
            }
        }
        Ok(DockerArchive {
            path: path.to_path_buf(),
            entries,
            by_digest: HashMap::new(),
        })
    }

    fn member(&self, name: &str) -> Result<Box<dyn Read + '_>, ImageError> {
        let what = format!("{}:{name}", self.path.display());
        let (offset, size) = *self
            .entries
            .get(name)
            .ok_or_else(|| ImageError::NotFound(what.clone()))?;
        let mut file = open_archive(&self.path, &what)?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| ImageError::io(&what, e))?;
        Ok(Box::new(std::io::BufReader::with_capacity(
            256 * 1024,
            file.take(size),
        )))
    }

    fn read_member(&self, name: &str, max: u64) -> Result<Vec<u8>, ImageError> {
        let what = format!("{}:{name}", self.path.display());
        let mut bytes = Vec::new();
        self.member(name)?
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ImageError::io(&what, e))?;
        if bytes.len() as u64 > max {
            return Err(ImageError::format(what, "member too large"));
        }
        Ok(bytes)
    }

    /// Resolves the image: `reference` selects by repo tag (legacy) or by the index's
    /// `io.containerd.image.name` / `org.opencontainers.image.ref.name` annotations.
    pub fn resolve(
        &mut self,
        reference: Option<&str>,
        platform: Option<&Platform>,
    ) -> Result<ResolvedImage, ImageError> {
        if self.entries.contains_key("index.json") {
            let bytes = self.read_member("index.json", crate::source::MAX_MANIFEST_BYTES)?;
            let mut index: Index = serde_json::from_slice(&bytes)
                .map_err(|e| ImageError::json(format!("{}:index.json", self.path.display()), e))?;
            if let Some(r) = reference {
                index.manifests.retain(|d| {
                    [
                        "io.containerd.image.name",
                        "org.opencontainers.image.ref.name",
                    ]
                    .iter()
                    .any(|k| {
                        d.annotations
                            .get(*k)
                            .is_some_and(|v| v == r || v.ends_with(&format!("/{r}")))
                    })
                });
                if index.manifests.is_empty() {
                    return Err(ImageError::NotFound(format!(
                        "{}: image {r:?}",
                        self.name()
                    )));
                }
            }
            if index.manifests.len() == 1 {
                let d = index.manifests[0].clone();
                let bytes = read_blob(self, &d, crate::source::MAX_MANIFEST_BYTES)?;
                let doc =
                    crate::oci::parse_manifest_or_index(&bytes, &format!("manifest {}", d.digest))?;
                return resolve(self, doc, Some(d.digest), platform);
            }
            return resolve(self, ManifestOrIndex::Index(index), None, platform);
        }
        self.resolve_legacy(reference)
    }

    fn resolve_legacy(&mut self, reference: Option<&str>) -> Result<ResolvedImage, ImageError> {
        let what = format!("{}:manifest.json", self.path.display());
        let bytes = self.read_member("manifest.json", crate::source::MAX_MANIFEST_BYTES)?;
        let list: Vec<LegacyEntry> =
            serde_json::from_slice(&bytes).map_err(|e| ImageError::json(&what, e))?;
        let entry = match reference {
            Some(r) => list
                .iter()
                .find(|e| {
                    e.repo_tags
                        .iter()
                        .flatten()
                        .any(|t| t == r || t.ends_with(&format!("/{r}")))
                })
                .ok_or_else(|| ImageError::NotFound(format!("{what}: tag {r:?}")))?,
            None => list
                .first()
                .ok_or_else(|| ImageError::format(&what, "no images"))?,
        };
        let config_bytes = self.read_member(&entry.config, crate::source::MAX_CONFIG_BYTES)?;
        let config_digest = Digest::sha256_of(&config_bytes).to_string();
        let config = ImageConfig::parse(&config_bytes, &format!("{what}: {}", entry.config))?;
        let diff_ids = config
            .rootfs
            .as_ref()
            .map(|r| r.diff_ids.clone())
            .unwrap_or_default();
        if diff_ids.len() != entry.layers.len() {
            return Err(ImageError::format(
                &what,
                format!(
                    "{} layers but {} diff_ids in the config",
                    entry.layers.len(),
                    diff_ids.len()
                ),
            ));
        }
        let mut layers = Vec::new();
        for (path, diff_id) in entry.layers.iter().zip(&diff_ids) {
            let name = vpath::normalize_entry(path).map_err(|_| ImageError::PathTraversal {
                layer: what.clone(),
                path: path.clone(),
            })?;
            let size = self.entries.get(&name).map_or(0, |(_, s)| *s);
            // Legacy layers are uncompressed tars, so their blob digest is their diff_id.
            self.by_digest.insert(diff_id.clone(), name);
            layers.push(Descriptor {
                media_type: "application/vnd.docker.image.rootfs.diff.tar".into(),
                digest: diff_id.clone(),
                size,
                platform: None,
                annotations: Default::default(),
            });
        }
        self.by_digest
            .insert(config_digest.clone(), entry.config.clone());
        let manifest = Manifest {
            schema_version: 2,
            media_type: None,
            config: Descriptor {
                media_type: "application/vnd.docker.container.image.v1+json".into(),
                digest: config_digest.clone(),
                size: config_bytes.len() as u64,
                platform: None,
                annotations: Default::default(),
            },
            layers,
            annotations: Default::default(),
        };
        Ok(ResolvedImage {
            manifest_digest: None,
            manifest,
            config_digest,
            config,
            available_platforms: Vec::new(),
        })
    }
}

impl BlobSource for DockerArchive {
    fn name(&self) -> String {
        format!("archive:{}", self.path.display())
    }

    fn open_blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, ImageError> {
        if let Some(name) = self.by_digest.get(&descriptor.digest) {
            return self.member(name);
        }
        let digest = Digest::parse(&descriptor.digest)?;
        let alg = match digest.algorithm() {
            crate::digest::Algorithm::Sha256 => "sha256",
            crate::digest::Algorithm::Sha512 => "sha512",
        };
        self.member(&format!("blobs/{alg}/{}", digest.hex()))
    }
}
