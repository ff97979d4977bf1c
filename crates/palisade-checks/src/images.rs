//! Image policy the image checks apply (filled from the `images:` configuration section).

use std::sync::Arc;

use palisade_model::{RegistryFactsTable, Severity};

/// Image policy for the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePolicy {
    /// Globs over `registry/repository`; empty = any registry.
    pub allowed_registries: Vec<String>,
    /// Whether every image must be pinned by digest.
    pub require_digest: bool,
    /// Tags that are never acceptable.
    pub forbidden_tags: Vec<String>,
    /// Fixable vulnerabilities at these severities fail.
    pub block_fixable: Vec<Severity>,
    /// Whether vulnerabilities on the notorious list fail.
    pub notorious: bool,
    /// What the edges learned about images (digests, signatures, vulnerabilities), keyed by the
    /// reference as written. Empty when registry access is off.
    pub facts: Arc<RegistryFactsTable>,
}

impl Default for ImagePolicy {
    fn default() -> Self {
        ImagePolicy {
            allowed_registries: Vec::new(),
            require_digest: false,
            forbidden_tags: vec!["latest".into()],
            block_fixable: vec![Severity::Critical, Severity::High],
            notorious: true,
            facts: Arc::default(),
        }
    }
}
