//! A root filesystem directory on the host (an unpacked image, a debootstrap tree), read
//! without following symlinks, into the same [`ImageFs`] view as a one-layer image.

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use crate::compression::Compression;
use crate::fs::{ImageFs, LayerInfo, Node, NodeKind};
use crate::unpack::collect_content;
use crate::{ImageError, Limits, vpath};

/// Reads a directory tree as an image filesystem (one pseudo-layer labelled `rootfs:<dir>`).
pub fn read_rootfs(root: &Path, limits: Limits) -> Result<ImageFs, ImageError> {
    let label = format!("rootfs:{}", root.display());
    let meta = fs::metadata(root).map_err(|e| ImageError::io(&label, e))?;
    if !meta.is_dir() {
        return Err(ImageError::format(&label, "not a directory"));
    }
    let mut view = ImageFs::new();
    view.push_layer(LayerInfo {
        digest: label.clone(),
        diff_id: None,
        compression: Compression::None,
        compressed_size: 0,
        uncompressed_size: 0,
        entries: 0,
    });
    let mut stack = vec![String::new()];
    let mut count = 0u64;
    let mut total = 0u64;
    while let Some(dir) = stack.pop() {
        let host_dir = root.join(&dir);
        let read = fs::read_dir(&host_dir)
            .map_err(|e| ImageError::io(host_dir.display().to_string(), e))?;
        let mut names: Vec<_> = read
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            count += 1;
            if count > limits.max_entries {
                return Err(ImageError::EntryCountLimit {
                    layer: label.clone(),
                    limit: limits.max_entries,
                });
            }
            let path = vpath::join(&dir, &name);
            let host = root.join(&path);
            let md = fs::symlink_metadata(&host)
                .map_err(|e| ImageError::io(host.display().to_string(), e))?;
            let mode = md.permissions().mode() & 0o7777;
            let ft = md.file_type();
            if ft.is_dir() {
                view.put(&path, Node::dir(mode, 0));
                stack.push(path);
            } else if ft.is_symlink() {
                let target = fs::read_link(&host)
                    .map_err(|e| ImageError::io(host.display().to_string(), e))?
                    .to_string_lossy()
                    .into_owned();
                view.put(
                    &path,
                    Node {
                        kind: NodeKind::Symlink(target),
                        mode,
                        size: 0,
                        layer: 0,
                        content: None,
                    },
                );
            } else if ft.is_file() {
                let size = md.len();
                if size > limits.max_file_size {
                    return Err(ImageError::FileSizeLimit {
                        layer: label.clone(),
                        path,
                        size,
                        limit: limits.max_file_size,
                    });
                }
                total += size;
                if total > limits.max_total_uncompressed {
                    return Err(ImageError::TotalSizeLimit {
                        layer: label.clone(),
                        limit: limits.max_total_uncompressed,
                    });
                }
                let content = if crate::select::interest(&path, mode, size)
                    == crate::select::Interest::Skip
                {
                    None
                } else {
                    // Opened without blocking and checked again on the descriptor: a file
                    // swapped for a FIFO after the listing cannot stall the scan.
                    match palisade_fs::open(&host, palisade_fs::Special::Refuse) {
                        Ok(mut f) => {
                            collect_content(&mut view, &path, mode, size, &mut f, 0, &limits)
                                .map_err(|e| ImageError::io(host.display().to_string(), e))?
                        }
                        Err(e) => {
                            view.push_diagnostic(&path, format!("unreadable: {e}"));
                            None
                        }
                    }
                };
                view.put(
                    &path,
                    Node {
                        kind: NodeKind::File,
                        mode,
                        size,
                        layer: 0,
                        content,
                    },
                );
            } else if ft.is_char_device() || ft.is_block_device() || ft.is_fifo() || ft.is_socket()
            {
                view.put(
                    &path,
                    Node {
                        kind: NodeKind::Other,
                        mode,
                        size: 0,
                        layer: 0,
                        content: None,
                    },
                );
            }
        }
    }
    view.validate_symlinks_within(&mut 0, limits.max_path_steps)?;
    Ok(view)
}
