//! The `images:` section: where images may come from, how they must be referenced, whose
//! signatures they need and which vulnerabilities block them.
//!
//! ```yaml
//! images:
//!   allowed_registries: ["registry.example.com/*", "ghcr.io/acme/*"]  # globs over registry/repository
//!   require_digest: true            # every image pinned by @sha256:…
//!   forbidden_tags: [latest, main]  # mutable tags refused
//!   signatures:                     # cosign signatures required per image glob
//!     - images: "registry.example.com/payments/*"
//!       keys: [keys/payments.pub]   # PEM files (relative to the config file) or inline PEM
//!   vulnerabilities:
//!     block_fixable: [critical, high]  # fixable vulnerabilities at these severities fail
//!     notorious: true                  # the notorious-CVE list always fails
//! ```

use palisade_model::Severity;
use serde::Deserialize;

/// Image policy shared by `palisade scan`, `palisade image verify` and the admission webhook.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ImagesSection {
    /// Globs over `registry/repository` (Docker Hub names normalized, e.g.
    /// `docker.io/library/nginx`); empty = any registry.
    pub allowed_registries: Vec<String>,
    /// Whether every image must be pinned by digest.
    pub require_digest: bool,
    /// Tags that are never acceptable.
    pub forbidden_tags: Vec<String>,
    /// Signature requirements.
    pub signatures: Vec<SignatureRequirement>,
    /// Vulnerability policy.
    pub vulnerabilities: VulnerabilityPolicy,
}

impl Default for ImagesSection {
    fn default() -> Self {
        ImagesSection {
            allowed_registries: Vec::new(),
            require_digest: false,
            forbidden_tags: vec!["latest".into()],
            signatures: Vec::new(),
            vulnerabilities: VulnerabilityPolicy::default(),
        }
    }
}

/// Images matching `images` must carry a cosign signature made with one of `keys`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SignatureRequirement {
    /// Glob over `registry/repository`.
    pub images: String,
    /// Public keys: a path to a PEM file (relative to the configuration file) or PEM text.
    pub keys: Vec<String>,
}

/// Which vulnerabilities block an image.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VulnerabilityPolicy {
    /// Fixable vulnerabilities at these severities fail.
    pub block_fixable: Vec<Severity>,
    /// Whether vulnerabilities on the notorious list always fail.
    pub notorious: bool,
}

impl Default for VulnerabilityPolicy {
    fn default() -> Self {
        VulnerabilityPolicy {
            block_fixable: vec![Severity::Critical, Severity::High],
            notorious: true,
        }
    }
}

impl ImagesSection {
    /// Checks globs and keys for obvious mistakes; the message names the entry.
    pub fn validate(&self) -> Result<(), String> {
        for (i, g) in self.allowed_registries.iter().enumerate() {
            if g.trim().is_empty() {
                return Err(format!("images.allowed_registries[{i}]: empty pattern"));
            }
        }
        for (i, s) in self.signatures.iter().enumerate() {
            if s.images.trim().is_empty() {
                return Err(format!("images.signatures[{i}].images: empty pattern"));
            }
            if s.keys.is_empty() {
                return Err(format!(
                    "images.signatures[{i}].keys: at least one key is required"
                ));
            }
        }
        Ok(())
    }

    /// The signature requirement that applies to `name` (`registry/repository`): the first
    /// entry whose glob matches.
    pub fn signature_requirement(&self, name: &str) -> Option<&SignatureRequirement> {
        self.signatures
            .iter()
            .find(|s| palisade_checks::glob_match(&s.images, name))
    }
}
