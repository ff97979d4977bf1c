//! What the edges learned about images by reaching their registries: resolved digest, signature
//! verdict, vulnerability summary.
//!
//! Scans of manifests and admission reviews see only image *references*. When registry access is
//! enabled, an edge component (the CLI or the webhook) resolves each reference, verifies its
//! signatures and matches its packages against the vulnerability database, and hands the results
//! to the check engine as [`RegistryFactsTable`]. The engine stays pure: it reads these facts like
//! any other input, and image checks that need them do not fire when a reference has no facts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Severity;

/// Facts about images, keyed by the reference exactly as written in the pod spec
/// (`container.image`).
pub type RegistryFactsTable = BTreeMap<String, RegistryFacts>;

/// What registry access learned about one image reference (digest, signature verdict,
/// vulnerability summary). Not to be confused with `palisade_image::facts::ImageContentFacts`
/// (read from an image's config and files) or `palisade_risk::ImageRiskFacts` (risk inputs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryFacts {
    /// The manifest digest the reference resolved to (`sha256:…`), if resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Signature verification outcome; `None` when no signature policy applies to the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureStatus>,
    /// Vulnerability summary; `None` when the image's packages were not matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<VulnerabilityFacts>,
    /// Why facts are missing or incomplete (registry unreachable, image refused, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Outcome of verifying an image's signatures against the keys its policy requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureStatus {
    /// At least one signature verified with a required key.
    Verified {
        /// Fingerprint of the key that verified (`SHA256:<hex of the DER public key>`).
        key_fingerprint: String,
    },
    /// No signature was found for the image's digest.
    Unsigned,
    /// Signatures exist but none verified; the reasons, one per signature tried.
    Invalid {
        /// Why each signature failed (wrong key, digest mismatch, bad payload…).
        reasons: Vec<String>,
    },
}

/// One vulnerability as the image checks report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnerabilityRef {
    /// Primary ID (a CVE when there is one).
    pub id: String,
    /// Severity.
    pub severity: Severity,
    /// Affected package name.
    pub package: String,
    /// Installed version.
    pub installed: String,
    /// First fixed version, when one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
}

/// The vulnerabilities of one image, reduced to what deploy-time policy needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnerabilityFacts {
    /// Count of vulnerabilities by severity (all of them, fixable or not).
    pub counts: BTreeMap<Severity, usize>,
    /// Vulnerabilities that have a fixed version.
    pub fixable: Vec<VulnerabilityRef>,
    /// Vulnerabilities on the notorious list (Log4Shell, Spring4Shell, …), fixable or not.
    pub notorious: Vec<VulnerabilityRef>,
}
