//! Streams layer tars into an [`ImageFs`]: decompression by magic bytes, digest and diff_id
//! verification, OCI whiteouts, path safety and resource caps.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::compression::{self, LimitReader};
use crate::digest::{Algorithm, Digest, Hasher};
use crate::error::from_io;
use crate::fs::{Content, DbSnapshot, ImageFs, LayerInfo, Node, NodeKind, Walked};
use crate::select::{self, Interest};
use crate::vpath::{self, PathProblem};
use crate::{ImageError, Limits};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_WHITEOUT: &str = ".wh..wh..opq";
const ELF_MAGIC: [u8; 4] = [0x7f, b'E', b'L', b'F'];

/// Applies layers, in order, to one filesystem view.
#[derive(Debug)]
pub struct Unpacker {
    fs: ImageFs,
    limits: Limits,
    total_uncompressed: u64,
    entries: u64,
    /// Path work done so far, against [`Limits::max_path_steps`].
    steps: u64,
    /// The last directory resolved, as `(normalised name, links version, resolution)`: tar
    /// streams list siblings together and children right after their directory, so most
    /// entries reuse it instead of walking their parent again.
    last_dir: Option<(String, u64, Walked)>,
}

/// What is expected of one layer blob.
#[derive(Debug, Clone, Default)]
pub struct LayerExpectation {
    /// Digest of the blob as stored (the manifest's layer descriptor).
    pub digest: Option<Digest>,
    /// Digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub diff_id: Option<Digest>,
    /// Size of the blob announced by the descriptor.
    pub size: Option<u64>,
}

/// Hashes and counts bytes passing through, into state owned by the caller.
struct Tap<'h, R> {
    inner: R,
    hasher: &'h mut Hasher,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Tap<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Unpacker {
    /// An unpacker with the given caps.
    pub fn new(limits: Limits) -> Self {
        Unpacker {
            fs: ImageFs::new(),
            limits,
            total_uncompressed: 0,
            entries: 0,
            steps: 0,
            last_dir: None,
        }
    }

    /// The caps in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Reads one layer blob (gzip, zstd or plain tar, detected by magic bytes) and applies it on
    /// top of the layers applied so far. Verifies the blob digest, size and diff_id when given.
    pub fn apply_layer<R: Read>(
        &mut self,
        raw: R,
        expect: &LayerExpectation,
    ) -> Result<&LayerInfo, ImageError> {
        let index = self.fs.layers().len();
        let label = expect
            .digest
            .as_ref()
            .map_or_else(|| format!("#{index}"), ToString::to_string);
        let mut blob_hasher = Hasher::new(
            expect
                .digest
                .as_ref()
                .map_or(Algorithm::Sha256, Digest::algorithm),
        );
        let mut diff_hasher = Hasher::new(
            expect
                .diff_id
                .as_ref()
                .map_or(Algorithm::Sha256, Digest::algorithm),
        );
        let compressed = Arc::new(AtomicU64::new(0));
        let uncompressed = Arc::new(AtomicU64::new(0));
        let (compression, entries) = {
            let tap = Tap {
                inner: raw,
                hasher: &mut blob_hasher,
                count: compressed.clone(),
            };
            let (compression, decoded) = compression::decompress(tap, &label)?;
            let limited = LimitReader::new(
                decoded,
                label.clone(),
                compressed.clone(),
                self.total_uncompressed,
                self.limits,
                compression != compression::Compression::None,
            );
            let diff_tap = Tap {
                inner: limited,
                hasher: &mut diff_hasher,
                count: uncompressed.clone(),
            };
            let entries = self.apply_tar(diff_tap, index, &label)?;
            (compression, entries)
        };
        let compressed_size = compressed.load(Ordering::Relaxed);
        let uncompressed_size = uncompressed.load(Ordering::Relaxed);
        self.total_uncompressed += uncompressed_size;
        let blob_digest = blob_hasher.finish();
        let diff_id = diff_hasher.finish();
        if let Some(expected) = &expect.digest {
            blob_digest.expect_equal(&format!("layer blob {label}"), expected)?;
        }
        if let Some(size) = expect.size
            && size != compressed_size
        {
            return Err(ImageError::format(
                format!("layer blob {label}"),
                format!("descriptor says {size} bytes, blob has {compressed_size}"),
            ));
        }
        if let Some(expected) = &expect.diff_id {
            diff_id.expect_equal(&format!("layer {label} uncompressed (diff_id)"), expected)?;
        }
        self.fs.push_layer(LayerInfo {
            digest: blob_digest.to_string(),
            diff_id: Some(diff_id.to_string()),
            compression,
            compressed_size,
            uncompressed_size,
            entries,
        });
        Ok(&self.fs.layers()[index])
    }

    fn apply_tar<R: Read>(
        &mut self,
        reader: R,
        layer: usize,
        label: &str,
    ) -> Result<u64, ImageError> {
        let tar_err = |e: io::Error| match from_io(e, label) {
            ImageError::Io { source, .. } => ImageError::Tar {
                layer: label.to_string(),
                message: source.to_string(),
            },
            other => other,
        };
        let mut archive = tar::Archive::new(reader);
        let mut count = 0u64;
        for entry in archive.entries().map_err(tar_err)? {
            let mut entry = entry.map_err(tar_err)?;
            count += 1;
            self.entries += 1;
            if self.entries > self.limits.max_entries {
                return Err(ImageError::EntryCountLimit {
                    layer: label.to_string(),
                    limit: self.limits.max_entries,
                });
            }
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let entry_type = entry.header().entry_type();
            let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;
            let size = entry.size();
            let path = vpath::normalize_entry(&raw_path).map_err(|PathProblem::DotDot| {
                ImageError::PathTraversal {
                    layer: label.to_string(),
                    path: raw_path.clone(),
                }
            })?;
            if path.is_empty() {
                continue;
            }
            // Parents are resolved through symlinks already in the view (as an extracting
            // runtime would), inside the root.
            let parent = self.parent_of(&path)?;
            self.charge(parent.steps, label, &raw_path)?;
            let depth = parent.depth + 1;
            if depth > self.limits.max_path_depth {
                return Err(ImageError::PathDepthLimit {
                    layer: label.to_string(),
                    path: vpath::shorten(&raw_path),
                    depth,
                    limit: self.limits.max_path_depth,
                });
            }
            let dir = parent.path.clone();
            let name = vpath::file_name(&path);
            if name == OPAQUE_WHITEOUT {
                let work = self.fs.opaque(&dir, layer);
                self.charge(work, label, &raw_path)?;
                continue;
            }
            if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
                if !hidden.starts_with(".wh.") && !hidden.is_empty() {
                    let work = self.fs.whiteout(&dir, hidden, layer);
                    self.charge(work, label, &raw_path)?;
                }
                continue;
            }
            let target_path = vpath::join(&dir, name);
            use tar::EntryType as T;
            let work = match entry_type {
                T::Directory => self.fs.put(&target_path, Node::dir(mode, layer)),
                T::Symlink => {
                    let target = entry
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    // Relative targets climbing above the root stay at the root and absolute
                    // ones start at the image root, as in a chroot: nothing to refuse here.
                    self.fs.put(
                        &target_path,
                        Node {
                            kind: NodeKind::Symlink(target),
                            mode,
                            size: 0,
                            layer,
                            content: None,
                        },
                    )
                }
                T::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    let (node, steps) = self.hardlink(&target_path, &target, layer, label)?;
                    steps + self.fs.put(&target_path, node)
                }
                T::Regular | T::Continuous | T::GNUSparse => {
                    if size > self.limits.max_file_size {
                        return Err(ImageError::FileSizeLimit {
                            layer: label.to_string(),
                            path: target_path,
                            size,
                            limit: self.limits.max_file_size,
                        });
                    }
                    let content = collect_content(
                        &mut self.fs,
                        &target_path,
                        mode,
                        size,
                        &mut entry,
                        layer,
                        &self.limits,
                    )
                    .map_err(tar_err)?;
                    self.fs.put(
                        &target_path,
                        Node {
                            kind: NodeKind::File,
                            mode,
                            size,
                            layer,
                            content,
                        },
                    )
                }
                T::Char | T::Block | T::Fifo => self.fs.put(
                    &target_path,
                    Node {
                        kind: NodeKind::Other,
                        mode,
                        size: 0,
                        layer,
                        content: None,
                    },
                ),
                _ => 0,
            };
            self.charge(work, label, &raw_path)?;
            if entry_type == T::Directory {
                // Its children, which usually follow, resolve to paths below it.
                let resolved = Walked {
                    path: target_path,
                    depth,
                    steps: 0,
                };
                self.last_dir = Some((path, self.fs.links_version(), resolved));
            } else {
                self.last_dir = Some((
                    vpath::parent(&path).to_string(),
                    self.fs.links_version(),
                    Walked { steps: 0, ..parent },
                ));
            }
        }
        // Hash the end-of-archive blocks and any padding too: diff_ids cover the whole stream.
        let mut rest = archive.into_inner();
        io::copy(&mut rest, &mut io::sink()).map_err(tar_err)?;
        Ok(count)
    }

    /// Resolves the parent directory of the normalised entry name `path`, reusing the last
    /// resolution when it is the same directory and no symlink changed since.
    fn parent_of(&self, path: &str) -> Result<Walked, ImageError> {
        let parent = vpath::parent(path);
        if let Some((name, version, resolved)) = &self.last_dir
            && name == parent
            && *version == self.fs.links_version()
        {
            return Ok(Walked {
                steps: 0,
                ..resolved.clone()
            });
        }
        self.fs.walk(parent, true)
    }

    /// Adds `work` to the image's path work and refuses the entry `raw_path` once over budget.
    fn charge(&mut self, work: u64, label: &str, raw_path: &str) -> Result<(), ImageError> {
        self.steps += work;
        if self.steps > self.limits.max_path_steps {
            return Err(ImageError::PathWorkLimit {
                layer: label.to_string(),
                path: vpath::shorten(raw_path),
                limit: self.limits.max_path_steps,
            });
        }
        Ok(())
    }

    /// The node a hardlink entry gets (its target's, written by `layer`) and the path work its
    /// resolution took.
    fn hardlink(
        &self,
        path: &str,
        target: &str,
        layer: usize,
        label: &str,
    ) -> Result<(Node, u64), ImageError> {
        let refuse = |reason| ImageError::HardlinkTarget {
            layer: label.to_string(),
            path: path.to_string(),
            target: target.to_string(),
            reason,
        };
        let normalized = vpath::normalize_entry(target)
            .map_err(|_| refuse("target is outside the image root"))?;
        if normalized.is_empty() {
            return Err(refuse("target is the image root"));
        }
        let dir = self.fs.walk(vpath::parent(&normalized), true)?;
        let resolved = vpath::join(&dir.path, vpath::file_name(&normalized));
        let node = self
            .fs
            .node(&resolved)
            .ok_or_else(|| refuse("target is not in the image"))?;
        if !node.is_file() {
            return Err(refuse("target is not a regular file"));
        }
        Ok((
            Node {
                layer,
                ..node.clone()
            },
            dir.steps,
        ))
    }

    /// The filesystem after all layers, once every symlink has been checked for cycles (within
    /// the same path work budget).
    pub fn finish(mut self) -> Result<ImageFs, ImageError> {
        self.fs
            .validate_symlinks_within(&mut self.steps, self.limits.max_path_steps)?;
        Ok(self.fs)
    }
}

/// Reads what the analysers need of one regular file (shared by layer and rootfs sources).
pub(crate) fn collect_content(
    fs: &mut ImageFs,
    path: &str,
    mode: u32,
    size: u64,
    reader: &mut dyn Read,
    layer: usize,
    limits: &Limits,
) -> io::Result<Option<Content>> {
    let interest = select::interest(path, mode, size);
    if interest == Interest::Skip {
        return Ok(None);
    }
    if size > limits.max_kept_file_size {
        fs.push_diagnostic(
            path,
            format!(
                "{size} bytes, over the {} byte analysis limit: not analysed",
                limits.max_kept_file_size
            ),
        );
        return Ok(None);
    }
    let mut head = [0u8; 4];
    let mut bytes = Vec::new();
    if interest == Interest::ProbeExecutable {
        let n = read_up_to(reader, &mut head)?;
        if n < 4 || head != ELF_MAGIC {
            return Ok(None);
        }
        bytes.reserve_exact(size as usize);
        bytes.extend_from_slice(&head);
    } else {
        bytes.reserve_exact(size as usize);
    }
    reader.take(size).read_to_end(&mut bytes)?;
    match interest {
        Interest::Keep => Ok(Some(Content::Bytes(bytes.into()))),
        Interest::KeepDatabase => {
            let content: Arc<[u8]> = bytes.into();
            fs.push_snapshot(DbSnapshot {
                layer,
                path: path.to_string(),
                content: content.clone(),
            });
            Ok(Some(Content::Bytes(content)))
        }
        Interest::AnalyzeArchive | Interest::ProbeExecutable => {
            match crate::inventory::analyze_streamed_file(path, &bytes, limits) {
                Ok(pkgs) if pkgs.is_empty() => Ok(None),
                Ok(pkgs) => Ok(Some(Content::Packages(Arc::new(pkgs)))),
                Err(message) => {
                    fs.push_diagnostic(path, message);
                    Ok(None)
                }
            }
        }
        Interest::Skip => Ok(None),
    }
}

fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
