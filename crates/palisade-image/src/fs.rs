//! The merged, in-memory view of an image's filesystem: every path with its type, mode, size
//! and the layer that last wrote it; contents only for the files analysers need. Layers are
//! applied in order with OCI whiteout semantics; nothing is ever written to the host.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use palisade_model::Package;
use serde::Serialize;

use crate::ImageError;
use crate::compression::Compression;
use crate::vpath;

/// The most symlinks followed while resolving one path (Linux's `MAXSYMLINKS`).
pub const MAX_SYMLINK_HOPS: usize = 40;

/// What a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A directory.
    Dir,
    /// A regular file (hardlinks are regular files sharing their target's content).
    File,
    /// A symbolic link and its target as written.
    Symlink(String),
    /// A device, FIFO or other special file.
    Other,
}

/// Kept content of a file.
#[derive(Debug, Clone)]
pub enum Content {
    /// The raw bytes (package databases, manifests, metadata, candidate secret files).
    Bytes(Arc<[u8]>),
    /// Packages found in the file while streaming (binaries, jars), whose raw bytes were not
    /// kept.
    Packages(Arc<Vec<Package>>),
}

/// One path of the image.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its type.
    pub kind: NodeKind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    /// Size in bytes of a regular file (0 otherwise).
    pub size: u64,
    /// Index of the layer that last wrote it.
    pub layer: usize,
    /// Kept content, when the file was selected for analysis.
    pub content: Option<Content>,
}

impl Node {
    /// A directory node.
    pub fn dir(mode: u32, layer: usize) -> Node {
        Node {
            kind: NodeKind::Dir,
            mode,
            size: 0,
            layer,
            content: None,
        }
    }

    /// Whether the node is a regular file.
    pub fn is_file(&self) -> bool {
        self.kind == NodeKind::File
    }

    /// Kept raw bytes, if any.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.content {
            Some(Content::Bytes(b)) => Some(b),
            _ => None,
        }
    }
}

/// Facts about one applied layer.
#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    /// Digest of the blob as stored (compressed), or a label for sources without blobs.
    pub digest: String,
    /// Digest of the uncompressed tar (the config's diff_id), when computed.
    pub diff_id: Option<String>,
    /// Compression detected from magic bytes.
    pub compression: Compression,
    /// Compressed bytes read.
    pub compressed_size: u64,
    /// Uncompressed bytes read.
    pub uncompressed_size: u64,
    /// Tar entries in the layer.
    pub entries: u64,
}

/// The content of a package database file as written by one layer (to find the layer that
/// added each package).
#[derive(Debug, Clone)]
pub struct DbSnapshot {
    /// Layer index.
    pub layer: usize,
    /// Path of the database file.
    pub path: String,
    /// Its content in that layer.
    pub content: Arc<[u8]>,
}

/// A problem with one file inside an image that did not stop the scan (a malformed jar, an
/// unreadable binary). Not a [`palisade_model::Diagnostic`]: it has no severity (each says that one
/// file could not be read; the rest of the scan is complete) and its path is inside the image, not an input file or a
/// Kubernetes object. Serialized in the image scan's `diagnostics` as `{"path", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileNote {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// The merged filesystem of an image.
#[derive(Debug, Default, Clone)]
pub struct ImageFs {
    nodes: BTreeMap<String, Node>,
    layers: Vec<LayerInfo>,
    snapshots: Vec<DbSnapshot>,
    diagnostics: Vec<FileNote>,
}

impl ImageFs {
    /// An empty filesystem.
    pub fn new() -> Self {
        Self::default()
    }

    /// All paths in order, with their nodes.
    pub fn nodes(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(p, n)| (p.as_str(), n))
    }

    /// Number of paths.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the filesystem is empty.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node at a normalised path, without following a final symlink.
    pub fn node(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// The node a path leads to after following symlinks (`None` when dangling or erroneous).
    pub fn stat(&self, path: &str) -> Option<&Node> {
        let resolved = self.resolve(path, true).ok()?;
        self.nodes.get(&resolved)
    }

    /// Kept bytes of the file a path leads to (following symlinks).
    pub fn read(&self, path: &str) -> Option<&[u8]> {
        self.stat(path).and_then(Node::bytes)
    }

    /// The applied layers, in order.
    pub fn layers(&self) -> &[LayerInfo] {
        &self.layers
    }

    /// The digest (or label) of a layer index.
    pub fn layer_digest(&self, layer: usize) -> Option<&str> {
        self.layers.get(layer).map(|l| l.digest.as_str())
    }

    /// Package database contents per layer, in layer order.
    pub fn snapshots(&self) -> &[DbSnapshot] {
        &self.snapshots
    }

    /// Per-file problems found while reading.
    pub fn diagnostics(&self) -> &[FileNote] {
        &self.diagnostics
    }

    pub(crate) fn push_layer(&mut self, info: LayerInfo) {
        self.layers.push(info);
    }

    pub(crate) fn push_snapshot(&mut self, snapshot: DbSnapshot) {
        self.snapshots.push(snapshot);
    }

    pub(crate) fn push_diagnostic(&mut self, path: &str, message: impl Into<String>) {
        self.diagnostics.push(FileNote {
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// Resolves `path` through symlinks, component by component, rooted at the image root.
    /// With `follow_last` false a final symlink is not followed. Errors on an escape above the
    /// root and on more than [`MAX_SYMLINK_HOPS`] hops.
    pub fn resolve(&self, path: &str, follow_last: bool) -> Result<String, ImageError> {
        let mut done: Vec<String> = Vec::new();
        let mut todo: VecDeque<String> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        let mut hops = 0usize;
        let mut last_link: Option<(String, String, usize)> = None;
        while let Some(comp) = todo.pop_front() {
            match comp.as_str() {
                "." => continue,
                ".." => {
                    if done.pop().is_none() {
                        let (link, target, layer) =
                            last_link.unwrap_or((path.to_string(), path.to_string(), 0));
                        return Err(ImageError::SymlinkEscape {
                            layer: self.layer_label(layer),
                            path: link,
                            target,
                        });
                    }
                }
                _ => {
                    done.push(comp);
                    let current = done.join("/");
                    let Some(node) = self.nodes.get(&current) else {
                        continue;
                    };
                    let NodeKind::Symlink(target) = &node.kind else {
                        continue;
                    };
                    if todo.is_empty() && !follow_last {
                        break;
                    }
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(ImageError::SymlinkLoop {
                            path: path.to_string(),
                            hops: MAX_SYMLINK_HOPS,
                        });
                    }
                    done.pop();
                    if target.starts_with('/') {
                        done.clear();
                    }
                    for c in target.split('/').rev().filter(|c| !c.is_empty()) {
                        todo.push_front(c.to_string());
                    }
                    last_link = Some((current, target.clone(), node.layer));
                }
            }
        }
        Ok(done.join("/"))
    }

    /// A display label for a layer index.
    pub fn layer_label(&self, layer: usize) -> String {
        match self.layers.get(layer) {
            Some(info) => info.digest.clone(),
            None => format!("#{layer}"),
        }
    }

    /// Puts a node at a path whose parent has already been resolved. Missing parents become
    /// directories; a non-directory replacing a directory removes the directory's subtree.
    pub(crate) fn put(&mut self, path: &str, node: Node) {
        self.ensure_parents(path, node.layer);
        if let Some(existing) = self.nodes.get_mut(path) {
            if existing.kind == NodeKind::Dir && node.kind == NodeKind::Dir {
                existing.mode = node.mode;
                existing.layer = node.layer;
                return;
            }
            if existing.kind == NodeKind::Dir {
                self.remove_descendants(path, None);
            }
        }
        self.nodes.insert(path.to_string(), node);
    }

    fn ensure_parents(&mut self, path: &str, layer: usize) {
        let mut dir = vpath::parent(path);
        let mut missing = Vec::new();
        while !dir.is_empty() {
            match self.nodes.get(dir) {
                Some(n) if n.kind == NodeKind::Dir => break,
                _ => missing.push(dir.to_string()),
            }
            dir = vpath::parent(dir);
        }
        for d in missing.into_iter().rev() {
            self.nodes.insert(d, Node::dir(0o755, layer));
        }
    }

    /// Applies `.wh.<name>` found in `dir` by layer `layer`: hides `dir/name` and its subtree
    /// as far as they come from lower layers.
    pub(crate) fn whiteout(&mut self, dir: &str, name: &str, layer: usize) {
        let target = vpath::join(dir, name);
        if self.nodes.get(&target).is_some_and(|n| n.layer < layer) {
            self.nodes.remove(&target);
        }
        self.remove_descendants(&target, Some(layer));
    }

    /// Applies `.wh..wh..opq` found in `dir` by layer `layer`: hides every lower-layer child.
    pub(crate) fn opaque(&mut self, dir: &str, layer: usize) {
        self.ensure_parents(&vpath::join(dir, "x"), layer);
        self.remove_descendants(dir, Some(layer));
    }

    /// Removes the descendants of `dir` (all of them, or those from layers below `below`).
    fn remove_descendants(&mut self, dir: &str, below: Option<usize>) {
        let keys: Vec<String> = if dir.is_empty() {
            self.nodes
                .iter()
                .filter(|(_, n)| below.is_none_or(|l| n.layer < l))
                .map(|(k, _)| k.clone())
                .collect()
        } else {
            let start = format!("{dir}/");
            let end = format!("{dir}0");
            self.nodes
                .range::<String, _>((Bound::Included(&start), Bound::Excluded(&end)))
                .filter(|(_, n)| below.is_none_or(|l| n.layer < l))
                .map(|(k, _)| k.clone())
                .collect()
        };
        for k in keys {
            self.nodes.remove(&k);
        }
    }

    /// Checks every symlink: none may resolve above the root or loop. Called once all layers
    /// are applied.
    pub fn validate_symlinks(&self) -> Result<(), ImageError> {
        for (path, node) in &self.nodes {
            if let NodeKind::Symlink(_) = node.kind {
                self.resolve(path, true)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(layer: usize) -> Node {
        Node {
            kind: NodeKind::File,
            mode: 0o644,
            size: 1,
            layer,
            content: None,
        }
    }

    fn link(target: &str, layer: usize) -> Node {
        Node {
            kind: NodeKind::Symlink(target.to_string()),
            mode: 0o777,
            size: 0,
            layer,
            content: None,
        }
    }

    #[test]
    fn resolves_relative_and_absolute_symlinks_inside_the_root() {
        let mut fs = ImageFs::new();
        fs.put("usr/lib/os-release", file(0));
        fs.put("etc/os-release", link("../usr/lib/os-release", 0));
        fs.put("lib", link("usr/lib", 0));
        fs.put("abs", link("/usr/lib", 0));
        assert_eq!(
            fs.resolve("etc/os-release", true).unwrap(),
            "usr/lib/os-release"
        );
        assert_eq!(
            fs.resolve("etc/os-release", false).unwrap(),
            "etc/os-release"
        );
        assert_eq!(
            fs.resolve("lib/os-release", true).unwrap(),
            "usr/lib/os-release"
        );
        assert_eq!(
            fs.resolve("abs/os-release", true).unwrap(),
            "usr/lib/os-release"
        );
        fs.validate_symlinks().unwrap();
    }

    #[test]
    fn refuses_cycles_and_escapes() {
        let mut fs = ImageFs::new();
        fs.put("a", link("b", 0));
        fs.put("b", link("a", 0));
        assert!(matches!(
            fs.resolve("a", true),
            Err(ImageError::SymlinkLoop { .. })
        ));
        let mut fs = ImageFs::new();
        fs.put("etc/up", link("../..", 0));
        assert!(matches!(
            fs.resolve("etc/up/passwd", true),
            Err(ImageError::SymlinkEscape { .. })
        ));
    }

    #[test]
    fn whiteouts_only_hide_lower_layers() {
        let mut fs = ImageFs::new();
        fs.put("d/a", file(0));
        fs.put("d/b", file(0));
        fs.put("d/sub/c", file(0));
        fs.put("d/new", file(1));
        fs.opaque("d", 1);
        assert!(fs.node("d/a").is_none());
        assert!(fs.node("d/sub/c").is_none());
        assert!(fs.node("d/new").is_some());
        assert!(fs.node("d").is_some());
        fs.put("e/x", file(1));
        fs.whiteout("e", "x", 1);
        assert!(fs.node("e/x").is_some(), "same-layer files are not hidden");
        fs.whiteout("e", "x", 2);
        assert!(fs.node("e/x").is_none());
    }
}
