//! Container image analysis: read images from OCI layouts, `docker save` archives, root
//! filesystems or any blob source (the registry client implements [`source::BlobSource`],
//! defined in palisade-oci with the OCI documents this crate re-exports as [`oci`], [`config`],
//! [`digest`] and [`ImageError`]),
//! unpack their layers safely into an in-memory view ([`fs::ImageFs`]), inventory OS and
//! language packages ([`inventory`]) and derive facts for policy ([`facts`]).
//!
//! Safety invariants of unpacking: nothing is written to the host; entry names containing
//! `..` are refused and absolute names are rooted at the image root; symlinks are resolved as
//! in a chroot (absolute targets start at the image root, `..` at the root stays there), so
//! nothing resolves outside the image; symlink loops are refused naming a link of the loop;
//! hardlinks must point at an existing regular file of the image; total size, entry count,
//! file size, decompression ratio, path depth and path work are capped ([`Limits`]); blob
//! digests and diff_ids are verified. Every violation is an [`ImageError`] variant.

pub mod builder;
pub mod compression;
pub mod facts;
pub mod fs;
pub mod inventory;
mod limits;
pub mod scan;
pub mod select;
pub mod source;
pub mod unpack;
mod vpath;

// The OCI vocabulary (documents, digests, the error type, blob sources) lives in palisade-oci,
// shared with the registry client; re-exported here under the paths this crate always had.
pub use limits::Limits;
use palisade_oci::error;
pub use palisade_oci::manifest as oci;
pub use palisade_oci::{ImageError, config, digest};
pub use scan::{ImageScan, analyze, scan_archive, scan_oci_layout, scan_resolved, scan_rootfs};
