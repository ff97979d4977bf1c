//! Where image content comes from: anything that hands out blobs by descriptor (an OCI layout
//! directory, a `docker save` archive, a registry client) implements [`BlobSource`]; the reading
//! of small blobs (manifests, configs) with size caps and digest checks is shared here.

use std::io::Read;

use crate::ImageError;
use crate::digest::Digest;
use crate::manifest::Descriptor;

/// Largest manifest or index accepted.
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Largest config blob accepted.
pub const MAX_CONFIG_BYTES: u64 = 32 << 20;

/// A store of content-addressed blobs.
pub trait BlobSource {
    /// A name for messages (`oci-layout:/path`, `registry.example/repo`).
    fn name(&self) -> String;

    /// Opens a blob for streaming. Implementations need not verify the digest: callers do.
    fn open_blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, ImageError>;
}

/// Reads a whole (small) blob, checking its size cap, descriptor size and digest.
pub fn read_blob(
    source: &dyn BlobSource,
    descriptor: &Descriptor,
    max: u64,
) -> Result<Vec<u8>, ImageError> {
    let what = format!("{} blob {}", source.name(), descriptor.digest);
    let digest = Digest::parse(&descriptor.digest)?;
    if descriptor.size > max {
        return Err(ImageError::format(
            &what,
            format!("{} bytes, over the {max} byte limit", descriptor.size),
        ));
    }
    let mut bytes = Vec::new();
    source
        .open_blob(descriptor)?
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| crate::error::from_io(e, &what))?;
    if bytes.len() as u64 > max {
        return Err(ImageError::format(
            &what,
            format!("over the {max} byte limit"),
        ));
    }
    digest.verify(&what, &bytes)?;
    if descriptor.size != 0 && descriptor.size != bytes.len() as u64 {
        return Err(ImageError::format(
            &what,
            format!(
                "descriptor says {} bytes, blob has {}",
                descriptor.size,
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}
