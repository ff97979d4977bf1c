//! SBOMs for Palisade: CycloneDX 1.6 JSON and SPDX 2.3 JSON writers (every package carries a
//! purl), and readers of both formats back into [`palisade_model::Package`]s for the
//! vulnerability matcher. Pure: callers pass the creation time; identifiers (serial numbers,
//! document namespaces) are derived from the content, so output is reproducible.

pub mod cyclonedx;
pub mod licenses;
pub mod read;
pub mod spdx;

use palisade_model::Package;

pub use read::{SbomFormat, read};

/// What an SBOM describes.
#[derive(Debug, Clone)]
pub struct SbomInput<'a> {
    /// The subject (an image reference, a directory).
    pub subject: &'a str,
    /// Its version or digest (a manifest digest).
    pub subject_version: Option<&'a str>,
    /// The operating system (`debian`, `12`), when detected.
    pub os: Option<(&'a str, &'a str)>,
    /// The packages.
    pub packages: &'a [Package],
    /// Creation time, RFC 3339 UTC with seconds (`2024-01-15T10:30:00Z`).
    pub created: &'a str,
    /// The producing tool's name.
    pub tool_name: &'a str,
    /// The producing tool's version.
    pub tool_version: &'a str,
}

/// Why an SBOM could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    /// Not JSON.
    #[error("{what}: invalid JSON: {source}")]
    Json {
        /// The document.
        what: String,
        /// Parser error.
        #[source]
        source: serde_json::Error,
    },
    /// JSON that is neither CycloneDX nor SPDX, or is malformed.
    #[error("{what}: {message}")]
    Format {
        /// The document or field.
        what: String,
        /// What is wrong.
        message: String,
    },
}

/// A deterministic RFC 4122-shaped (version 4 bits) UUID from content.
pub(crate) fn content_uuid(parts: &[&str]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A content key of the packages, for identifiers.
pub(crate) fn packages_key(packages: &[Package]) -> String {
    packages
        .iter()
        .map(|p| {
            format!(
                "{}|{}|{}|{}",
                p.ecosystem,
                p.name,
                p.version,
                p.path.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
