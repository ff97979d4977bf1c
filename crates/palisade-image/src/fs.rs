//! The merged, in-memory view of an image's filesystem: every path with its type, mode, size
//! and the layer that last wrote it; contents only for the files analysers need. Layers are
//! applied in order with OCI whiteout semantics; nothing is ever written to the host.

use std::collections::{BTreeMap, HashMap};
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
    links: LinkTree,
    /// Bumped whenever a symlink is added or removed: resolutions made at the same version
    /// are still valid (nothing else changes where a path leads).
    links_version: u64,
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

    /// Resolves `path` through symlinks, component by component, rooted at the image root as
    /// the kernel does in a chroot: absolute targets start again at the root and `..` at the
    /// root stays at the root, so no path resolves outside the image. With `follow_last` false
    /// a final symlink is not followed. Errors on more than [`MAX_SYMLINK_HOPS`] hops, naming
    /// the link that went over (a member of the cycle).
    pub fn resolve(&self, path: &str, follow_last: bool) -> Result<String, ImageError> {
        self.walk(path, follow_last).map(|w| w.path)
    }

    /// Changes whenever a symlink is added or removed; a resolution stays valid while it does
    /// not change.
    pub(crate) fn links_version(&self) -> u64 {
        self.links_version
    }

    /// [`ImageFs::resolve`] with the work it took. Each component costs one step and a hash
    /// lookup of that component alone (symlink paths are kept as a tree of components), so
    /// resolving is linear in the length of the path and of the targets followed.
    pub(crate) fn walk(&self, path: &str, follow_last: bool) -> Result<Walked, ImageError> {
        let mut todo: Vec<&str> = components_reversed(path).collect();
        // The resolved path, and for each of its components where it starts in `out` and the
        // symlink-tree node at that component (None once off the tree: no symlink below).
        let mut out = String::with_capacity(path.len());
        let mut ends: Vec<(usize, Option<&LinkTree>)> = Vec::new();
        let mut hops = 0usize;
        let mut steps = 0u64;
        while let Some(comp) = todo.pop() {
            steps += 1;
            match comp {
                "." => {}
                ".." => {
                    // At the root, `..` is the root itself (chroot semantics).
                    if let Some((start, _)) = ends.pop() {
                        out.truncate(start);
                    }
                }
                name => {
                    let start = out.len();
                    if !out.is_empty() {
                        out.push('/');
                    }
                    out.push_str(name);
                    let here = ends
                        .last()
                        .map_or(Some(&self.links), |e| e.1)
                        .and_then(|tree| tree.children.get(name));
                    ends.push((start, here));
                    if !here.is_some_and(|t| t.link) {
                        continue;
                    }
                    let Some(Node {
                        kind: NodeKind::Symlink(target),
                        layer,
                        ..
                    }) = self.nodes.get(out.as_str())
                    else {
                        continue;
                    };
                    if todo.is_empty() && !follow_last {
                        break;
                    }
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(ImageError::SymlinkLoop {
                            layer: self.layer_label(*layer),
                            path: out,
                            hops: MAX_SYMLINK_HOPS,
                        });
                    }
                    ends.pop();
                    out.truncate(start);
                    if target.starts_with('/') {
                        ends.clear();
                        out.clear();
                    }
                    todo.extend(components_reversed(target));
                }
            }
        }
        Ok(Walked {
            depth: ends.len(),
            path: out,
            steps,
        })
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
    /// Returns the work done (paths created or removed besides the node itself).
    pub(crate) fn put(&mut self, path: &str, node: Node) -> u64 {
        let mut work = self.ensure_parents(path, node.layer);
        if let Some(existing) = self.nodes.get_mut(path) {
            if existing.kind == NodeKind::Dir && node.kind == NodeKind::Dir {
                existing.mode = node.mode;
                existing.layer = node.layer;
                return work;
            }
            if existing.kind == NodeKind::Dir {
                work += self.remove_descendants(path, None);
            }
        }
        self.insert(path.to_string(), node);
        work
    }

    fn ensure_parents(&mut self, path: &str, layer: usize) -> u64 {
        let mut dir = vpath::parent(path);
        let mut missing = Vec::new();
        while !dir.is_empty() {
            match self.nodes.get(dir) {
                Some(n) if n.kind == NodeKind::Dir => break,
                _ => missing.push(dir.to_string()),
            }
            dir = vpath::parent(dir);
        }
        let work = missing.len() as u64;
        for d in missing.into_iter().rev() {
            self.insert(d, Node::dir(0o755, layer));
        }
        work
    }

    /// Inserts or replaces the node at `path`, keeping the symlink tree in step.
    fn insert(&mut self, path: String, node: Node) {
        let is_link = matches!(node.kind, NodeKind::Symlink(_));
        let was_link = self
            .nodes
            .get(&path)
            .is_some_and(|n| matches!(n.kind, NodeKind::Symlink(_)));
        if is_link {
            self.links.mark(&path);
            self.links_version += 1;
        } else if was_link {
            self.links.unmark(&path);
            self.links_version += 1;
        }
        self.nodes.insert(path, node);
    }

    /// Removes the node at `path`, keeping the symlink tree in step.
    fn remove(&mut self, path: &str) {
        if let Some(Node {
            kind: NodeKind::Symlink(_),
            ..
        }) = self.nodes.remove(path)
        {
            self.links.unmark(path);
            self.links_version += 1;
        }
    }

    /// Applies `.wh.<name>` found in `dir` by layer `layer`: hides `dir/name` and its subtree
    /// as far as they come from lower layers. Returns the work done (paths visited).
    pub(crate) fn whiteout(&mut self, dir: &str, name: &str, layer: usize) -> u64 {
        let target = vpath::join(dir, name);
        if self.nodes.get(&target).is_some_and(|n| n.layer < layer) {
            self.remove(&target);
        }
        1 + self.remove_descendants(&target, Some(layer))
    }

    /// Applies `.wh..wh..opq` found in `dir` by layer `layer`: hides every lower-layer child.
    /// Returns the work done (paths created or visited).
    pub(crate) fn opaque(&mut self, dir: &str, layer: usize) -> u64 {
        self.ensure_parents(&vpath::join(dir, "x"), layer)
            + self.remove_descendants(dir, Some(layer))
    }

    /// Removes the descendants of `dir` (all of them, or those from layers below `below`).
    /// Returns the number of paths visited.
    fn remove_descendants(&mut self, dir: &str, below: Option<usize>) -> u64 {
        let mut visited = 0u64;
        let keys: Vec<String> = if dir.is_empty() {
            self.nodes
                .iter()
                .inspect(|_| visited += 1)
                .filter(|(_, n)| below.is_none_or(|l| n.layer < l))
                .map(|(k, _)| k.clone())
                .collect()
        } else {
            let start = format!("{dir}/");
            let end = format!("{dir}0");
            self.nodes
                .range::<String, _>((Bound::Included(&start), Bound::Excluded(&end)))
                .inspect(|_| visited += 1)
                .filter(|(_, n)| below.is_none_or(|l| n.layer < l))
                .map(|(k, _)| k.clone())
                .collect()
        };
        for k in keys {
            self.remove(&k);
        }
        visited
    }

    /// Checks every symlink: none may loop. Called once all layers are applied.
    pub fn validate_symlinks(&self) -> Result<(), ImageError> {
        self.validate_symlinks_within(&mut 0, u64::MAX)
    }

    /// [`ImageFs::validate_symlinks`] charging each resolution to a work budget (`used` of
    /// `limit` steps).
    pub(crate) fn validate_symlinks_within(
        &self,
        used: &mut u64,
        limit: u64,
    ) -> Result<(), ImageError> {
        for (path, node) in &self.nodes {
            if let NodeKind::Symlink(_) = node.kind {
                *used += self.walk(path, true)?.steps;
                if *used > limit {
                    return Err(ImageError::PathWorkLimit {
                        layer: self.layer_label(node.layer),
                        path: vpath::shorten(path),
                        limit,
                    });
                }
            }
        }
        Ok(())
    }
}

/// A path resolved by [`ImageFs::walk`].
#[derive(Debug, Clone)]
pub(crate) struct Walked {
    /// The resolved path.
    pub path: String,
    /// Its number of components.
    pub depth: usize,
    /// Components walked to get there (those of the path and of every target followed).
    pub steps: u64,
}

/// The non-empty components of a path, last first (a stack whose top is the first).
fn components_reversed(path: &str) -> impl Iterator<Item = &str> {
    path.rsplit('/').filter(|c| !c.is_empty())
}

/// The paths that hold symlinks, as a tree of components: resolution asks "is this prefix a
/// symlink?" with one lookup of the last component instead of a lookup of the whole prefix.
#[derive(Debug, Default, Clone)]
struct LinkTree {
    /// Whether the path ending here is a symlink.
    link: bool,
    /// Next components on the way to symlinks.
    children: HashMap<Box<str>, LinkTree>,
}

impl LinkTree {
    fn mark(&mut self, path: &str) {
        let mut here = self;
        for comp in path.split('/') {
            here = here.children.entry(comp.into()).or_default();
        }
        here.link = true;
    }

    fn unmark(&mut self, path: &str) {
        let mut here = self;
        for comp in path.split('/') {
            match here.children.get_mut(comp) {
                Some(next) => here = next,
                None => return,
            }
        }
        here.link = false;
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
    fn refuses_cycles_naming_a_member_and_keeps_dotdot_at_the_root() {
        let mut fs = ImageFs::new();
        fs.put("a", link("b", 0));
        fs.put("b", link("a", 0));
        fs.put("0-innocent", link("a", 0));
        match fs.resolve("0-innocent", true) {
            Err(ImageError::SymlinkLoop { path, .. }) => assert!(path == "a" || path == "b"),
            other => panic!("expected a loop, got {other:?}"),
        }
        let mut fs = ImageFs::new();
        fs.put("etc/up", link("../..", 0));
        assert_eq!(fs.resolve("etc/up/passwd", true).unwrap(), "passwd");
        assert_eq!(fs.resolve("../../etc/./up/..", true).unwrap(), "");
        fs.validate_symlinks().unwrap();
    }

    #[test]
    fn removed_or_replaced_symlinks_no_longer_redirect() {
        let mut fs = ImageFs::new();
        fs.put("usr/lib/x", file(0));
        fs.put("lib", link("usr/lib", 0));
        let before = fs.links_version();
        assert_eq!(fs.resolve("lib/x", true).unwrap(), "usr/lib/x");
        fs.put("lib", Node::dir(0o755, 1));
        assert_ne!(fs.links_version(), before);
        assert_eq!(fs.resolve("lib/x", true).unwrap(), "lib/x");
        fs.put("opt/l", link("/usr", 0));
        assert_eq!(fs.resolve("opt/l/lib/x", true).unwrap(), "usr/lib/x");
        fs.whiteout("", "opt", 1);
        assert_eq!(fs.resolve("opt/l/lib/x", true).unwrap(), "opt/l/lib/x");
        let walked = fs.walk("a/./b/../c", true).unwrap();
        assert_eq!(
            (walked.path.as_str(), walked.depth, walked.steps),
            ("a/c", 2, 5)
        );
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
