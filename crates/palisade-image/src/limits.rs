//! Resource caps applied while unpacking, so hostile or huge images fail with a typed error
//! instead of exhausting memory or time.

/// Caps on what one image may contain. Each violation is an [`crate::ImageError`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Total uncompressed bytes of all layers (tar streams) together.
    pub max_total_uncompressed: u64,
    /// Total number of tar entries across all layers.
    pub max_entries: u64,
    /// Size of one regular file.
    pub max_file_size: u64,
    /// Uncompressed bytes per compressed byte of one layer (checked once a layer has produced
    /// more than [`Limits::ratio_grace_bytes`]).
    pub max_compression_ratio: u64,
    /// Uncompressed bytes a layer may produce before the ratio check starts (small layers
    /// legitimately compress very well).
    pub ratio_grace_bytes: u64,
    /// Largest file whose content is kept in memory for analysis (package databases, jars,
    /// binaries); larger ones are listed but not analysed.
    pub max_kept_file_size: u64,
    /// Nesting depth of jars inside jars that is still inspected.
    pub max_jar_depth: usize,
    /// Components of one path in the view, after symlink resolution (Linux's `PATH_MAX` of
    /// 4096 bytes allows at most 2048 one-letter components; real images stay below 100).
    pub max_path_depth: usize,
    /// Work budget of one image: path components walked while resolving entry names, hardlink
    /// and symlink targets, plus paths visited when whiteouts or replaced directories remove a
    /// subtree and parents created implicitly. Bounds the time a crafted image can take
    /// whatever its shape; real images use a few steps per entry.
    pub max_path_steps: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_uncompressed: 16 << 30,
            max_entries: 2_000_000,
            max_file_size: 4 << 30,
            max_compression_ratio: 250,
            ratio_grace_bytes: 16 << 20,
            max_kept_file_size: 256 << 20,
            max_jar_depth: 2,
            max_path_depth: 1024,
            max_path_steps: 16 << 20,
        }
    }
}
