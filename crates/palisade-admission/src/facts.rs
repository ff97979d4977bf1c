//! The hook through which the webhook learns about images (digests, signature verdicts,
//! vulnerability summaries) before the engine decides.

use palisade_model::RegistryFactsTable;

/// Supplies image facts for the image references of an admitted object. Implementations may
/// reach registries (the server calls them off the async workers); the decision logic only
/// reads the returned table, keyed by the reference exactly as written in the pod spec.
pub trait RegistryFactsSource: Send + Sync {
    /// Facts for `images` (references as written); references without facts are left out.
    fn facts(&self, images: &[String]) -> RegistryFactsTable;
}

/// The default source: knows nothing, so image checks that need facts do not fire.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRegistryFacts;

impl RegistryFactsSource for NoRegistryFacts {
    fn facts(&self, _images: &[String]) -> RegistryFactsTable {
        RegistryFactsTable::new()
    }
}

/// A fixed table (tests, or facts computed ahead of time).
#[derive(Debug, Clone, Default)]
pub struct StaticRegistryFacts(pub RegistryFactsTable);

impl RegistryFactsSource for StaticRegistryFacts {
    fn facts(&self, images: &[String]) -> RegistryFactsTable {
        images
            .iter()
            .filter_map(|i| self.0.get(i).map(|f| (i.clone(), f.clone())))
            .collect()
    }
}
