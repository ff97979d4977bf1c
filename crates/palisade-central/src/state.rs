//! What every handler shares: the store, the metrics, the clock and the built analyses.

use std::sync::Arc;

use axum::extract::FromRef;
use palisade_model::time::{Clock, Timestamp};
use palisade_store::Store;

use crate::analyses::AnalysisCache;
use crate::metrics::Metrics;

/// The shared state of the router (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The durable store (a connection pool inside).
    pub store: Store,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// The clock (the system clock when serving).
    pub clock: Arc<dyn Clock>,
    /// Clusters' objects built for the engines, per snapshot.
    pub analyses: Arc<AnalysisCache>,
}

impl AppState {
    /// Now, from the state's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Arc<Metrics> {
        state.metrics.clone()
    }
}
