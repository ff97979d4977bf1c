//! Queries over the clusters' current state and finding history.

use palisade_api::{
    ClusterView, FindingQuery, FindingView, ImageQuery, ImageView, Page, WorkloadQuery,
    WorkloadView,
};
use palisade_model::time::Timestamp;

use crate::Store;
use crate::error::{Result, StoreError};

impl Store {
    /// Every cluster with the summary of its current state; open findings exclude those an
    /// exception active at `now` suppresses.
    pub async fn clusters(&self, now: Timestamp) -> Result<Vec<ClusterView>> {
        let _ = now;
        Err(StoreError::Unsupported("clusters"))
    }

    /// Workloads of the clusters' current state, filtered, sorted and paginated.
    pub async fn workloads(&self, query: &WorkloadQuery) -> Result<Page<WorkloadView>> {
        let _ = query;
        Err(StoreError::Unsupported("workloads"))
    }

    /// Findings with their history, filtered and paginated (worst first, then cluster,
    /// namespace, kind, name, check); exceptions are those active at `now`.
    pub async fn findings(
        &self,
        query: &FindingQuery,
        now: Timestamp,
    ) -> Result<Page<FindingView>> {
        let _ = (query, now);
        Err(StoreError::Unsupported("findings"))
    }

    /// Images of the current states with their vulnerabilities, by reference.
    pub async fn images(&self, query: &ImageQuery) -> Result<Page<ImageView>> {
        let _ = query;
        Err(StoreError::Unsupported("images"))
    }

    /// The Kubernetes objects of `cluster`'s current snapshot, as sent.
    pub async fn objects(&self, cluster: &str) -> Result<Vec<serde_json::Value>> {
        let _ = cluster;
        Err(StoreError::Unsupported("objects"))
    }

    /// The diagnostics of `cluster`'s current snapshot.
    pub async fn diagnostics(&self, cluster: &str) -> Result<Vec<palisade_model::Diagnostic>> {
        let _ = cluster;
        Err(StoreError::Unsupported("diagnostics"))
    }
}
