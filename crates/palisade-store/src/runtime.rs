//! Runtime ingest (alerts, flows, baselines) and admission decisions, and their queries.

use palisade_api::{
    AdmissionBatch, AlertBatch, AlertQuery, AlertView, BaselineBatch, BaselineRecord, FlowBatch,
    FlowRecord, IngestAck, Page,
};
use palisade_model::time::Timestamp;

use crate::Store;
use crate::error::{Result, StoreError};

impl Store {
    /// Stores alerts; an alert id already stored for the cluster is a duplicate.
    pub async fn push_alerts(
        &self,
        cluster: &str,
        batch: &AlertBatch,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        let _ = (cluster, batch, received_at);
        Err(StoreError::Unsupported("push_alerts"))
    }

    /// Adds flows: the same endpoints, port and protocol add their counts and widen the time
    /// range. A repeated batch (same content) is all duplicates.
    pub async fn push_flows(
        &self,
        cluster: &str,
        batch: &FlowBatch,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        let _ = (cluster, batch, received_at);
        Err(StoreError::Unsupported("push_flows"))
    }

    /// Replaces the baseline of each workload and container given (an older `updated_at` than
    /// the stored one, or the same content, is a duplicate).
    pub async fn push_baselines(
        &self,
        cluster: &str,
        batch: &BaselineBatch,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        let _ = (cluster, batch, received_at);
        Err(StoreError::Unsupported("push_baselines"))
    }

    /// Stores admission decisions; a uid already stored for the cluster is a duplicate.
    pub async fn push_admission(
        &self,
        cluster: &str,
        batch: &AdmissionBatch,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        let _ = (cluster, batch, received_at);
        Err(StoreError::Unsupported("push_admission"))
    }

    /// Alerts, newest first.
    pub async fn alerts(&self, query: &AlertQuery) -> Result<Page<AlertView>> {
        let _ = query;
        Err(StoreError::Unsupported("alerts"))
    }

    /// The flows of `cluster`, by source, destination, port and protocol.
    pub async fn flows(&self, cluster: &str) -> Result<Vec<FlowRecord>> {
        let _ = cluster;
        Err(StoreError::Unsupported("flows"))
    }

    /// The baselines of `cluster`, by workload and container.
    pub async fn baselines(&self, cluster: &str) -> Result<Vec<BaselineRecord>> {
        let _ = cluster;
        Err(StoreError::Unsupported("baselines"))
    }
}
