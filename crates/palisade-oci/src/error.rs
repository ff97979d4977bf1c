//! The one error type of image reading and unpacking: every refusal is a typed variant naming
//! the layer, path or file it is about. It lives here, beside the documents and the
//! [`BlobSource`](crate::blob::BlobSource) trait, so that blob sources (the registry client) and
//! the unpacker (palisade-image) report through one type; the unpacking variants (path
//! traversal, limits, tar) are raised by palisade-image only.

use std::io;

/// Why an image, layer or file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// An I/O error while reading something named by `what`.
    #[error("I/O error reading {what}: {source}")]
    Io {
        /// What was being read (file, blob, layer).
        what: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A layer entry whose path contains a `..` component.
    #[error("layer {layer}: entry {path:?} contains '..' (path traversal)")]
    PathTraversal {
        /// The layer.
        layer: String,
        /// The entry path as written in the tar.
        path: String,
    },
    /// Symlink resolution went through more hops than allowed (a cycle or a chain too long).
    #[error(
        "layer {layer}: symlink {path:?} is part of a cycle or of a chain of more than {hops} symlinks"
    )]
    SymlinkLoop {
        /// The layer that wrote the looping symlink.
        layer: String,
        /// The symlink whose hop went over the limit (a member of the cycle, not a link that
        /// merely leads into it).
        path: String,
        /// The hop limit.
        hops: usize,
    },
    /// A path nested deeper than allowed (counted in components after symlink resolution).
    #[error("layer {layer}: entry {path:?} is {depth} directories deep, over the limit of {limit}")]
    PathDepthLimit {
        /// The layer.
        layer: String,
        /// The entry (shortened when very long).
        path: String,
        /// Its depth in components.
        depth: usize,
        /// The limit.
        limit: usize,
    },
    /// Unpacking an image walked more path components (resolving names and symlinks, removing
    /// subtrees) than its work budget allows.
    #[error(
        "layer {layer}: entry {path:?} exhausted the image's path work budget of {limit} steps (paths too deep or too many symlink hops)"
    )]
    PathWorkLimit {
        /// The layer being read when the budget ran out.
        layer: String,
        /// The entry being applied (shortened when very long).
        path: String,
        /// The budget in steps.
        limit: u64,
    },
    /// A hardlink whose target is outside the root, unknown, or not a regular file.
    #[error("layer {layer}: hardlink {path:?} -> {target:?}: {reason}")]
    HardlinkTarget {
        /// The layer.
        layer: String,
        /// The hardlink entry path.
        path: String,
        /// The link target as written.
        target: String,
        /// What is wrong with the target.
        reason: &'static str,
    },
    /// The total uncompressed size of the image exceeded the limit.
    #[error("layer {layer}: total uncompressed size exceeds the limit of {limit} bytes")]
    TotalSizeLimit {
        /// The layer being read when the limit was hit.
        layer: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The image has more entries than allowed.
    #[error("layer {layer}: more than {limit} entries in the image")]
    EntryCountLimit {
        /// The layer being read when the limit was hit.
        layer: String,
        /// The limit.
        limit: u64,
    },
    /// One file is larger than allowed.
    #[error("layer {layer}: file {path:?} is {size} bytes, over the limit of {limit} bytes")]
    FileSizeLimit {
        /// The layer.
        layer: String,
        /// The file path.
        path: String,
        /// Its declared size.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// A layer decompressed to more than `limit` times its compressed size (a compression bomb).
    #[error(
        "layer {layer}: decompression ratio over {limit}:1 ({uncompressed} bytes from {compressed} compressed bytes)"
    )]
    CompressionRatio {
        /// The layer.
        layer: String,
        /// The maximum ratio.
        limit: u64,
        /// Uncompressed bytes produced so far.
        uncompressed: u64,
        /// Compressed bytes consumed so far.
        compressed: u64,
    },
    /// Content does not match the digest it was announced with.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was hashed (a blob, a layer's uncompressed content).
        what: String,
        /// The announced digest.
        expected: String,
        /// The computed digest.
        actual: String,
    },
    /// A digest string that is not `sha256:<64 hex>` / `sha512:<128 hex>`.
    #[error("invalid digest {0:?}: expected sha256:<64 hex> or sha512:<128 hex>")]
    InvalidDigest(String),
    /// A layer or tar stream that cannot be parsed.
    #[error("layer {layer}: malformed tar stream: {message}")]
    Tar {
        /// The layer.
        layer: String,
        /// The tar error.
        message: String,
    },
    /// Malformed JSON in a named document.
    #[error("{what}: invalid JSON: {source}")]
    Json {
        /// The document (file or blob).
        what: String,
        /// The parser error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A structurally wrong input, named by `what`.
    #[error("{what}: {message}")]
    Format {
        /// The file, blob or field.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// Something required is absent.
    #[error("{0}: not found")]
    NotFound(String),
    /// An index has no manifest for the requested platform.
    #[error("no manifest for platform {wanted} (available: {available})")]
    NoMatchingPlatform {
        /// The requested platform.
        wanted: String,
        /// The platforms the index lists.
        available: String,
    },
    /// A media type this reader does not handle.
    #[error("{what}: unsupported media type {media_type:?}")]
    UnsupportedMediaType {
        /// The descriptor or document.
        what: String,
        /// The media type.
        media_type: String,
    },
}

impl ImageError {
    /// An [`ImageError::Io`] for `what`.
    pub fn io(what: impl Into<String>, source: io::Error) -> Self {
        ImageError::Io {
            what: what.into(),
            source,
        }
    }

    /// An [`ImageError::Format`] for `what`.
    pub fn format(what: impl Into<String>, message: impl Into<String>) -> Self {
        ImageError::Format {
            what: what.into(),
            message: message.into(),
        }
    }

    /// An [`ImageError::Json`] for `what`.
    pub fn json(what: impl Into<String>, source: serde_json::Error) -> Self {
        ImageError::Json {
            what: what.into(),
            source,
        }
    }
}

/// Moves an [`ImageError`] through an [`io::Error`] (readers in a chain report limit violations
/// as I/O errors); [`from_io`] gets it back out unchanged.
pub fn into_io(e: ImageError) -> io::Error {
    io::Error::other(e)
}

/// Recovers an [`ImageError`] that travelled inside an [`io::Error`], or wraps the I/O error.
pub fn from_io(e: io::Error, what: &str) -> ImageError {
    if e.get_ref().is_some_and(|inner| inner.is::<ImageError>()) {
        if let Some(inner) = e.into_inner()
            && let Ok(img) = inner.downcast::<ImageError>()
        {
            return *img;
        }
        return ImageError::format(what, "error lost while unwrapping");
    }
    ImageError::io(what, e)
}
