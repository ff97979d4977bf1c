//! Queries over the clusters' current state: clusters, workloads, images, objects,
//! diagnostics.

use palisade_api::{
    ClusterView, ImageQuery, ImageView, Page, VulnerabilityRecord, WorkloadQuery, WorkloadSort,
    WorkloadView,
};
use palisade_model::WorkloadId;
use palisade_model::finding::Severity;
use palisade_model::time::Timestamp;
use serde_json::Value;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::sql::Sql;
use crate::values::{Get, from_json, page_size, sev_rank, severity, ts};
use crate::{Store, cursor};

/// The workloads' sort keys: a leading expression (absent for name order), then identity.
fn workload_order(sort: WorkloadSort) -> (&'static str, &'static str) {
    match sort {
        WorkloadSort::Name => ("workloads-name", ""),
        WorkloadSort::Risk => ("workloads-risk", "0 - w.risk_score"),
        WorkloadSort::Findings => ("workloads-findings", "0 - w.open_findings"),
    }
}

const WORKLOAD_ID: &str = "w.cluster, w.namespace, w.kind, w.name";

pub(crate) fn workload_view(row: &AnyRow) -> Result<WorkloadView> {
    Ok(WorkloadView {
        cluster: row.text("cluster")?,
        id: WorkloadId::new(row.text("namespace")?, row.text("kind")?, row.text("name")?),
        labels: from_json(&row.text("labels")?)?,
        service_account: row.opt_text("service_account")?,
        images: from_json(&row.text("images")?)?,
        risk_score: u32::try_from(row.int("risk_score")?).unwrap_or(0),
        risk_rank: row
            .opt_int("risk_rank")?
            .and_then(|r| u32::try_from(r).ok()),
        risk_factors: from_json(&row.text("risk_factors")?)?,
        owner: row.opt_text("owner")?,
        open_findings: u64::try_from(row.int("open_findings")?).unwrap_or(0),
    })
}

impl Store {
    /// Every cluster, by name, with the summary of its current state; open findings exclude
    /// those an exception active at `now` suppresses.
    pub async fn clusters(&self, now: Timestamp) -> Result<Vec<ClusterView>> {
        let rows = self
            .sql(
                "SELECT c.name, c.last_scanned_ms, \
             (SELECT COUNT(*) FROM workloads w WHERE w.cluster = c.name) AS workloads \
             FROM clusters c ORDER BY c.name",
            )
            .fetch_all(self.pool())
            .await?;
        let mut open = self.open_counts(now).await?;
        rows.iter()
            .map(|row| {
                let name = row.text("name")?;
                let counts = open.remove(&name).unwrap_or_default();
                Ok(ClusterView {
                    last_snapshot_at: row.opt_int("last_scanned_ms")?.map(ts),
                    workloads: u64::try_from(row.int("workloads")?).unwrap_or(0),
                    open_findings: Severity::ALL
                        .into_iter()
                        .map(|s| (s, counts.get(&s).copied().unwrap_or(0)))
                        .collect(),
                    name,
                })
            })
            .collect()
    }

    /// Workloads of the clusters' current state, filtered, sorted and paginated.
    pub async fn workloads(&self, query: &WorkloadQuery) -> Result<Page<WorkloadView>> {
        let limit = page_size(query.limit);
        let (tag, lead) = workload_order(query.sort.unwrap_or_default());
        let order = if lead.is_empty() {
            WORKLOAD_ID.to_string()
        } else {
            format!("{lead}, {WORKLOAD_ID}")
        };
        let position = self.backend().dialect().position_fn;
        let mut sql = self.sql("SELECT w.* FROM workloads w WHERE 1 = 1");
        sql.filter(" AND w.cluster = ", query.cluster.clone());
        sql.filter(" AND w.namespace = ", query.namespace.clone());
        sql.filter(" AND w.risk_score >= ", query.min_risk.map(i64::from));
        let same_workload = "x.cluster = w.cluster AND x.namespace = w.namespace \
                             AND x.kind = w.kind AND x.name = w.name";
        if let Some(image) = &query.image {
            let needle = sql.arg(image.clone());
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM workload_images x WHERE {same_workload} \
                 AND {position}(x.image, {needle}) > 0)"
            ));
        }
        if let Some(label) = &query.label {
            let (key, value) = match label.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (label.as_str(), None),
            };
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM workload_labels x WHERE {same_workload} AND x.label_key = "
            ));
            sql.bind(key.to_string());
            if let Some(value) = value {
                sql.push(" AND x.label_value = ").bind(value.to_string());
            }
            sql.push(")");
        }
        let key_len = if lead.is_empty() { 4 } else { 5 };
        if let Some(c) = &query.cursor {
            let key = cursor::decode(tag, key_len, c)?;
            sql.push(&format!(" AND ({order}) > ("));
            let texts = if lead.is_empty() {
                &key[..]
            } else {
                sql.bind(cursor::int(&key, 0)?).push(",");
                &key[1..]
            };
            for i in 0..4 {
                if i > 0 {
                    sql.push(",");
                }
                sql.bind(cursor::text(texts, i)?);
            }
            sql.push(")");
        }
        sql.push(&format!(" ORDER BY {order} LIMIT "))
            .bind(limit + 1);
        let rows = sql.fetch_all(self.pool()).await?;
        let sort = query.sort.unwrap_or_default();
        let key = |row: &AnyRow| -> Result<Vec<Value>> {
            let mut key: Vec<Value> = Vec::with_capacity(5);
            match sort {
                WorkloadSort::Name => {}
                WorkloadSort::Risk => key.push((-row.int("risk_score")?).into()),
                WorkloadSort::Findings => key.push((-row.int("open_findings")?).into()),
            }
            for col in ["cluster", "namespace", "kind", "name"] {
                key.push(row.text(col)?.into());
            }
            Ok(key)
        };
        cursor::page(&rows, limit, tag, key, workload_view)
    }

    /// Images of the clusters' current states with their vulnerabilities, by reference.
    pub async fn images(&self, query: &ImageQuery) -> Result<Page<ImageView>> {
        let limit = page_size(query.limit);
        let mut sql = self.sql("SELECT DISTINCT i.reference FROM images i WHERE 1 = 1");
        sql.filter(" AND i.cluster = ", query.cluster.clone());
        if let Some(s) = query.severity {
            sql.push(
                " AND EXISTS (SELECT 1 FROM image_vulns v WHERE v.cluster = i.cluster \
                 AND v.reference = i.reference AND v.sev_rank <= ",
            );
            sql.bind(sev_rank(s)).push(")");
        }
        if let Some(c) = &query.cursor {
            let key = cursor::decode("images", 1, c)?;
            sql.push(" AND i.reference > ").bind(cursor::text(&key, 0)?);
        }
        sql.push(" ORDER BY i.reference LIMIT ").bind(limit + 1);
        let rows = sql.fetch_all(self.pool()).await?;
        let page = cursor::page(
            &rows,
            limit,
            "images",
            |row| Ok(vec![row.text("reference")?.into()]),
            |row| row.text("reference"),
        )?;
        let mut items = Vec::with_capacity(page.items.len());
        for reference in page.items {
            items.push(self.image(&reference, query.cluster.as_deref()).await?);
        }
        Ok(Page {
            items,
            next: page.next,
        })
    }

    /// One image across the clusters (or in `cluster`).
    pub async fn image(&self, reference: &str, cluster: Option<&str>) -> Result<ImageView> {
        let scoped = |sql: &mut Sql| {
            if let Some(cluster) = cluster {
                sql.push(" AND cluster = ").bind(cluster.to_string());
            }
        };
        let mut sql = self.sql("SELECT cluster, digest FROM images WHERE reference = ");
        sql.bind(reference.to_string());
        scoped(&mut sql);
        sql.push(" ORDER BY cluster");
        let mut clusters = Vec::new();
        let mut digest = None;
        for row in sql.fetch_all(self.pool()).await? {
            clusters.push(row.text("cluster")?);
            digest = digest.or(row.opt_text("digest")?);
        }
        let mut sql = self.sql("SELECT COUNT(*) AS n FROM workload_images WHERE image = ");
        sql.bind(reference.to_string());
        scoped(&mut sql);
        let workloads = match sql.fetch_optional(self.pool()).await? {
            Some(row) => u64::try_from(row.int("n")?).unwrap_or(0),
            None => 0,
        };
        let mut sql = self.sql(
            "SELECT DISTINCT vuln_id, package, version, fixed, severity, sev_rank FROM image_vulns \
             WHERE reference = ",
        );
        sql.bind(reference.to_string());
        scoped(&mut sql);
        sql.push(" ORDER BY sev_rank, vuln_id, package, version");
        let vulnerabilities = sql
            .fetch_each(self.pool(), |row| {
                Ok(VulnerabilityRecord {
                    id: row.text("vuln_id")?,
                    package: row.text("package")?,
                    version: row.text("version")?,
                    fixed: row.opt_text("fixed")?,
                    severity: severity(&row.text("severity")?)?,
                })
            })
            .await?;
        Ok(ImageView {
            reference: reference.to_string(),
            digest,
            clusters,
            workloads,
            vulnerabilities,
        })
    }

    /// The Kubernetes objects of `cluster`'s current snapshot, as sent (in their order).
    pub async fn objects(&self, cluster: &str) -> Result<Vec<Value>> {
        self.positioned("objects", cluster).await
    }

    /// The diagnostics of `cluster`'s current snapshot.
    pub async fn diagnostics(&self, cluster: &str) -> Result<Vec<palisade_model::Diagnostic>> {
        self.positioned("diagnostics", cluster).await
    }

    async fn positioned<T: serde::de::DeserializeOwned>(
        &self,
        table: &str,
        cluster: &str,
    ) -> Result<Vec<T>> {
        self.of_cluster(cluster, table, "position", |row| {
            from_json(&row.text("body")?)
        })
        .await
    }

    /// Every row of `table` for `cluster` (which must exist), by `order`, made a `T` by `each`.
    pub(crate) async fn of_cluster<T>(
        &self,
        cluster: &str,
        table: &str,
        order: &str,
        each: impl Fn(&AnyRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.require_cluster(cluster).await?;
        let mut sql = self.sql(&format!("SELECT * FROM {table} WHERE cluster = "));
        sql.bind(cluster.to_string());
        sql.push(&format!(" ORDER BY {order}"));
        sql.fetch_each(self.pool(), each).await
    }

    /// [`StoreError::NotFound`] unless `cluster` has pushed something.
    pub(crate) async fn require_cluster(&self, cluster: &str) -> Result<()> {
        let mut sql = self.sql("SELECT name FROM clusters WHERE name = ");
        sql.bind(cluster.to_string());
        match sql.fetch_optional(self.pool()).await? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound(format!("cluster {cluster:?}"))),
        }
    }
}
