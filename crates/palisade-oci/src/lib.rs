//! The OCI image-spec vocabulary shared by the image reader (palisade-image) and the registry
//! client (palisade-registry), so that neither depends on the other:
//!
//! - [`manifest`]: descriptors, manifests, indexes, platforms and the media types (Docker v2
//!   equivalents accepted);
//! - [`config`]: the image configuration document;
//! - [`digest`]: content digests and hashing readers;
//! - [`blob`]: the [`BlobSource`] trait every image source implements (OCI layout, `docker save`
//!   archive, registry) and bounded, digest-checked reads of small blobs;
//! - [`mod@resolve`]: manifest-or-index resolution to one image for a platform;
//! - [`ImageError`]: the one error type of image reading and unpacking.
//!
//! Pure: this crate opens no file and no connection. Content arrives through [`BlobSource`],
//! implemented at the edges; the unpacker that consumes it lives in palisade-image.

pub mod blob;
pub mod config;
pub mod digest;
pub mod error;
pub mod manifest;
pub mod resolve;

pub use blob::BlobSource;
pub use digest::Digest;
pub use error::ImageError;
pub use manifest::{Descriptor, Platform};
pub use resolve::{ResolvedImage, resolve};
