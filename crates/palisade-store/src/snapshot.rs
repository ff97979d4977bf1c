//! Snapshot ingest: a cluster's whole state replaced in one transaction, with finding history.

use palisade_api::{IngestAck, Snapshot};
use palisade_model::time::Timestamp;

use crate::Store;
use crate::error::{Result, StoreError};

impl Store {
    /// Replaces `cluster`'s current workloads, images, objects and diagnostics with
    /// `snapshot`'s and updates the finding history (first seen, last seen, resolved,
    /// reopened). The same snapshot id again changes nothing (all duplicates); a snapshot
    /// scanned before the current one is refused with [`StoreError::Conflict`]; a Secret object
    /// that still carries `data` or `stringData` is refused with [`StoreError::Invalid`].
    pub async fn push_snapshot(
        &self,
        cluster: &str,
        snapshot: &Snapshot,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        let _ = (cluster, snapshot, received_at);
        Err(StoreError::Unsupported("push_snapshot"))
    }
}
