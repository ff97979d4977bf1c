//! Retention: old snapshots, the history of findings resolved before them, and old alerts.

use palisade_model::time::Timestamp;

use crate::Store;
use crate::error::{Result, StoreError};

/// How much history to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Snapshots kept per cluster (at least 1: the current one). Findings resolved before the
    /// oldest kept snapshot was taken are forgotten with the older ones.
    pub keep_snapshots_per_cluster: u32,
    /// Alerts (and admission decisions) kept for this many days.
    pub alert_days: u32,
}

/// What [`Store::prune`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Snapshot records.
    pub snapshots: u64,
    /// Resolved findings.
    pub findings: u64,
    /// Alerts.
    pub alerts: u64,
    /// Admission decisions.
    pub admission: u64,
}

impl Store {
    /// Removes history older than `retention` allows at `now`, in one transaction.
    pub async fn prune(&self, retention: Retention, now: Timestamp) -> Result<PruneReport> {
        let _ = (retention, now);
        Err(StoreError::Unsupported("prune"))
    }
}
