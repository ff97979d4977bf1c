//! Retention: old snapshots, the history of findings resolved before them, and old alerts.

use palisade_model::time::Timestamp;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::values::ms;

const DAY_MS: i64 = 86_400_000;

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
    /// Removes history older than `retention` allows at `now`, in one transaction, then
    /// refreshes the query planner's statistics (`ANALYZE`).
    pub async fn prune(&self, retention: Retention, now: Timestamp) -> Result<PruneReport> {
        if retention.keep_snapshots_per_cluster == 0 {
            return Err(StoreError::invalid(
                "keep_snapshots_per_cluster",
                "at least the current snapshot is kept",
            ));
        }
        let cutoff = ms(now).saturating_sub(i64::from(retention.alert_days) * DAY_MS);
        let mut tx = self.pool().begin().await?;
        let mut sql = self.sql(
            "DELETE FROM snapshots WHERE seq NOT IN (SELECT k.seq FROM snapshots k \
             WHERE k.cluster = snapshots.cluster ORDER BY k.seq DESC LIMIT ",
        );
        sql.bind(i64::from(retention.keep_snapshots_per_cluster))
            .push(")");
        let snapshots = sql.execute(&mut *tx).await?;
        let findings = self
            .sql(
                "DELETE FROM findings WHERE resolved_ms IS NOT NULL AND resolved_ms < \
             (SELECT MIN(k.scanned_ms) FROM snapshots k WHERE k.cluster = findings.cluster)",
            )
            .execute(&mut *tx)
            .await?;
        let mut counts = [0; 3];
        for (n, (table, column)) in counts.iter_mut().zip([
            ("alerts", "time_ms"),
            ("admission", "time_ms"),
            // Digests of flow batches: a repeat older than this is counted again.
            ("ingested_batches", "received_ms"),
        ]) {
            let mut sql = self.sql(&format!("DELETE FROM {table} WHERE {column} < "));
            sql.bind(cutoff);
            *n = sql.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        // Fresh planner statistics after the deletions and the pushes since the last prune
        // (PostgreSQL's page queries pick the findings index by them).
        self.sql("ANALYZE").execute(self.pool()).await?;
        Ok(PruneReport {
            snapshots,
            findings,
            alerts: counts[0],
            admission: counts[1],
        })
    }
}
