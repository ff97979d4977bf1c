//! Queries the dashboard needs beyond the JSON API's: one workload, and per cluster the
//! findings new in and resolved by its latest snapshot (the overview's trend).

use palisade_api::WorkloadView;
use palisade_model::WorkloadId;
use sqlx::any::AnyRow;

use crate::Store;
use crate::error::Result;
use crate::values::Get;

/// Findings that changed with a cluster's latest snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trend {
    /// Cluster.
    pub cluster: String,
    /// Open findings first seen in the latest snapshot.
    pub new: u64,
    /// Findings the latest snapshot no longer has.
    pub resolved: u64,
}

impl Store {
    /// The workload `id` of `cluster`'s current state, if it has one.
    pub async fn workload(&self, cluster: &str, id: &WorkloadId) -> Result<Option<WorkloadView>> {
        let mut sql = self.sql("SELECT w.* FROM workloads w WHERE w.cluster = ");
        sql.bind(cluster.to_string());
        sql.push(" AND w.namespace = ").bind(id.namespace.clone());
        sql.push(" AND w.kind = ").bind(id.kind.clone());
        sql.push(" AND w.name = ").bind(id.name.clone());
        match sql.fetch_optional(self.pool()).await? {
            Some(row) => crate::queries::workload_view(&row).map(Some),
            None => Ok(None),
        }
    }

    /// `cluster`'s current push (`None` before its first), [`StoreError::NotFound`] for a
    /// cluster never pushed: what caches of analyses built from its objects are keyed by.
    ///
    /// [`StoreError::NotFound`]: crate::StoreError::NotFound
    pub async fn current_seq(&self, cluster: &str) -> Result<Option<i64>> {
        let mut sql = self.sql("SELECT current_seq FROM clusters WHERE name = ");
        sql.bind(cluster.to_string());
        match sql.fetch_optional(self.pool()).await? {
            Some(row) => row.opt_int("current_seq"),
            None => Err(crate::StoreError::NotFound(format!("cluster {cluster:?}"))),
        }
    }

    /// The names of every cluster, sorted (without [`Store::clusters`]' finding counts).
    pub async fn cluster_names(&self) -> Result<Vec<String>> {
        self.sql("SELECT name FROM clusters ORDER BY name")
            .fetch_each(self.pool(), |row| row.text("name"))
            .await
    }

    /// Per cluster (by name), the findings new in and resolved by its latest snapshot (kept
    /// at push time, see `counts`).
    pub async fn trends(&self) -> Result<Vec<Trend>> {
        self.sql("SELECT c.name, c.new_n, c.resolved_n FROM clusters c ORDER BY c.name")
            .fetch_each(self.pool(), trend)
            .await
    }

    /// [`Store::trends`] counted over every finding (what the kept numbers must equal; slow
    /// on a large store, for checks).
    pub async fn counted_trends(&self) -> Result<Vec<Trend>> {
        self.sql(
            "SELECT c.name, \
             (SELECT COUNT(*) FROM findings f WHERE f.cluster = c.name AND f.resolved_ms IS NULL \
              AND f.first_seq = c.current_seq) AS new_n, \
             (SELECT COUNT(*) FROM findings f WHERE f.cluster = c.name \
              AND f.resolved_ms = c.last_scanned_ms) AS resolved_n \
             FROM clusters c ORDER BY c.name",
        )
        .fetch_each(self.pool(), trend)
        .await
    }
}

fn trend(row: &AnyRow) -> Result<Trend> {
    Ok(Trend {
        cluster: row.text("name")?,
        new: u64::try_from(row.int("new_n")?).unwrap_or(0),
        resolved: u64::try_from(row.int("resolved_n")?).unwrap_or(0),
    })
}
