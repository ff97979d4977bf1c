//! Sigstore keyless verification (issue 22), offline: bundles v0.1–v0.3 verified against a
//! trusted root with an identity policy, or against a managed key.
//!
//! - [`root`]: the trusted root (`trusted_root.json`), the public-good root embedded.
//! - [`bundle`]: bundle parsing (all versions, message signatures and DSSE envelopes).
//! - [`cert`]: Fulcio certificates: identity, issuer, chain to a trusted authority; [`sct`]:
//!   their signed certificate timestamps against the CT log keys.
//! - [`policy`]: identity / issuer matching (exact or regular expression).
//! - [`tlog`], [`checkpoint`], [`merkle`]: Rekor entries, signed checkpoints, inclusion proofs.
//! - [`tsa`]: RFC 3161 timestamps ([`der`]: the DER walking they and SCTs need).
//! - [`verify`]: the whole check for one artifact.
//! - [`classic_keyless`]: cosign's classic keyless layout (certificate, chain and Rekor bundle
//!   annotations on a `.sig` layer), checked with the same certificate checks.
//! - `testing` (feature `testing`): a test Fulcio, Rekor and CT log for other crates' tests.
//!
//! Pure: bytes in, verdicts out; certificates and keys are parsed with x509-parser and
//! verified with the RustCrypto keys of [`crate::keys`].

pub mod bundle;
pub mod cert;
pub mod checkpoint;
pub mod classic_keyless;
pub mod der;
pub mod merkle;
pub mod policy;
pub mod root;
pub mod sct;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tlog;
pub mod tsa;
pub mod verify;

pub use policy::{IdentityPolicy, Matcher};
pub use root::TrustedRoot;
pub use verify::{Artifact, Signer, Verified, verify_bundle};
