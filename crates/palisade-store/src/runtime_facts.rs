//! What central's runtime policy is built from: every stored alert and baseline of one
//! cluster or of all clusters. Central turns them into a RuntimePolicy with the agent's own
//! `export_policy` (palisade-runtime); the store only reads rows.

use palisade_api::{AlertView, BaselineRecord};

use crate::Store;
use crate::error::Result;
use crate::runtime::{alert_view, baseline_record};
use crate::values::Get;

/// Alerts and baselines of the clusters asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeFacts {
    /// Every stored alert, oldest first (then by cluster and id).
    pub alerts: Vec<AlertView>,
    /// Every stored baseline with its cluster, by cluster, workload and container.
    pub baselines: Vec<(String, BaselineRecord)>,
}

impl Store {
    /// The alerts and baselines of `cluster` (every cluster when `None`). A named cluster that
    /// never pushed anything is [`crate::StoreError::NotFound`]. Everything retention keeps is
    /// read (the policy counts every alert).
    pub async fn runtime_facts(&self, cluster: Option<&str>) -> Result<RuntimeFacts> {
        if let Some(c) = cluster {
            self.require_cluster(c).await?;
        }
        let mut sql = self.sql("SELECT * FROM alerts WHERE 1 = 1");
        sql.filter(" AND cluster = ", cluster.map(str::to_string));
        sql.push(" ORDER BY time_ms, cluster, alert_id");
        let alerts = sql.fetch_each(self.pool(), alert_view).await?;
        let mut sql = self.sql("SELECT * FROM baselines WHERE 1 = 1");
        sql.filter(" AND cluster = ", cluster.map(str::to_string));
        sql.push(" ORDER BY cluster, namespace, kind, name, container");
        let baselines = sql
            .fetch_each(self.pool(), |row| {
                Ok((row.text("cluster")?, baseline_record(row)?))
            })
            .await?;
        Ok(RuntimeFacts { alerts, baselines })
    }
}
