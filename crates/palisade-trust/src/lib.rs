//! Image trust for Palisade (issue #7): cosign signatures.
//!
//! - [`keys`]: public keys (PEM SubjectPublicKeyInfo: ECDSA P-256/P-384, RSA, Ed25519), their
//!   fingerprints and cosign's verification algorithms.
//! - [`private`]: private keys — cosign's encrypted format (`ENCRYPTED SIGSTORE PRIVATE KEY` /
//!   `ENCRYPTED COSIGN PRIVATE KEY`: scrypt + NaCl secretbox around PKCS #8) and plain PKCS #8 —
//!   signing, and creation of encrypted key pairs.
//! - [`payload`]: the simple-signing payload cosign signs for an image.
//! - [`classic`]: cosign's classic registry layout (tag `sha256-<hex>.sig`), key-based or
//!   keyless (certificate, chain and Rekor bundle annotations).
//! - [`bundle`]: Sigstore bundles (v0.3) attached to an image through the OCI referrers API.
//! - [`sigstore`]: Sigstore keyless verification (issue #22): bundles v0.1–v0.3 against a
//!   trusted root, with an identity policy or a managed key.
//! - [`verify`]: the verdict for one image over a [`verify::SignatureSource`] (the only way this
//!   crate reaches a registry); [`verify::VerificationCache`] caches verdicts by digest.
//! - `remote` (feature `registry`, default): the [`verify::SignatureSource`] implementation over
//!   `palisade-registry`, and signing/attaching in a registry.
//!
//! Everything except `remote` is pure: bytes in, values out.

pub mod bundle;
pub mod classic;
pub mod keys;
pub mod payload;
pub mod private;
#[cfg(feature = "registry")]
pub mod remote;
pub mod sigstore;
pub mod verify;

pub use keys::{KeyAlgorithm, PublicKey};
pub use private::{KeyPair, SigningKey};
#[cfg(feature = "registry")]
pub use remote::Verifier;
pub use verify::{SignatureCheck, SignatureSource, SourceError, Verification, VerificationCache};

/// Errors of key handling and signing.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// A key could not be read.
    #[error("{what}: {message}")]
    Key {
        /// Which key (file path, config entry).
        what: String,
        /// Why.
        message: String,
    },
    /// A signature artifact could not be built or parsed.
    #[error("{0}")]
    Artifact(String),
    /// The registry could not be reached or refused a request.
    #[error("{0}")]
    Source(#[from] SourceError),
}

impl TrustError {
    pub(crate) fn key(what: &str, message: impl Into<String>) -> TrustError {
        TrustError::Key {
            what: what.to_string(),
            message: message.into(),
        }
    }
}
