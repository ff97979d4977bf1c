//! Runtime ingest (alerts, flows, baselines) and admission decisions, and their queries.

use palisade_api::{
    AdmissionBatch, AlertBatch, AlertQuery, AlertRecord, AlertView, BaselineBatch, BaselineRecord,
    FlowBatch, FlowRecord, IngestAck, Page,
};
use palisade_model::WorkloadId;
use palisade_model::time::Timestamp;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::snapshot::lock_cluster;
use crate::sql::{Sql, insert_rows};
use crate::values::{Get, from_json, json, ms, page_size, sev_rank, severity, ts};
use crate::{Store, cursor};

/// The acknowledgement of a batch of `total` records of which `accepted` were new.
fn ack(total: usize, accepted: u64) -> IngestAck {
    let total = total as u64;
    IngestAck {
        accepted,
        duplicates: total.saturating_sub(accepted),
    }
}

fn require_cluster_name(cluster: &str) -> Result<()> {
    if cluster.trim().is_empty() {
        return Err(StoreError::invalid("cluster", "must not be empty"));
    }
    Ok(())
}

/// A flow endpoint as one key: the workload or the address.
fn endpoint_key(workload: &Option<WorkloadId>, address: &Option<String>) -> String {
    json(&(workload, address))
}

fn alert_view(row: &AnyRow) -> Result<AlertView> {
    let workload = match (
        row.opt_text("namespace")?,
        row.opt_text("kind")?,
        row.opt_text("name")?,
    ) {
        (Some(ns), Some(kind), Some(name)) => Some(WorkloadId::new(ns, kind, name)),
        _ => None,
    };
    Ok(AlertView {
        cluster: row.text("cluster")?,
        received_at: ts(row.int("received_ms")?),
        alert: AlertRecord {
            id: row.text("alert_id")?,
            time: ts(row.int("time_ms")?),
            node: row.opt_text("node")?,
            workload,
            container: row.opt_text("container")?,
            rule: row.text("rule")?,
            severity: severity(&row.text("severity")?)?,
            message: row.text("message")?,
            detail: from_json(&row.text("detail")?)?,
        },
    })
}

impl Store {
    /// Stores alerts; an alert id already stored for the cluster (or repeated in the batch)
    /// is a duplicate.
    pub async fn push_alerts(
        &self,
        cluster: &str,
        batch: &AlertBatch,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        require_cluster_name(cluster)?;
        let mut tx = self.pool().begin().await?;
        lock_cluster(&mut tx, cluster, received_at).await?;
        let accepted = insert_rows(
            &mut *tx,
            "INSERT INTO alerts (cluster, alert_id, time_ms, received_ms, node, namespace, kind, \
             name, container, rule, severity, sev_rank, message, detail) VALUES ",
            " ON CONFLICT (cluster, alert_id) DO NOTHING",
            14,
            &batch.alerts,
            |row, a| {
                let w = a.workload.as_ref();
                row.v(cluster.to_string())
                    .v(a.id.clone())
                    .v(ms(a.time))
                    .v(ms(received_at))
                    .v(a.node.clone())
                    .v(w.map(|w| w.namespace.clone()))
                    .v(w.map(|w| w.kind.clone()))
                    .v(w.map(|w| w.name.clone()))
                    .v(a.container.clone())
                    .v(a.rule.clone())
                    .v(a.severity.as_str())
                    .v(sev_rank(a.severity))
                    .v(a.message.clone())
                    .v(json(&a.detail));
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ack(batch.alerts.len(), accepted))
    }

    /// Adds flows: the same endpoints, port and protocol add their counts and widen the time
    /// range. A repeated batch (the same content again) is all duplicates.
    pub async fn push_flows(
        &self,
        cluster: &str,
        batch: &FlowBatch,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        require_cluster_name(cluster)?;
        let digest = hex::encode(Sha256::digest(json(batch).as_bytes()));
        let mut tx = self.pool().begin().await?;
        lock_cluster(&mut tx, cluster, received_at).await?;
        let mut sql =
            Sql::new("INSERT INTO ingested_batches (cluster, kind, digest, received_ms) VALUES (");
        sql.bind(cluster.to_string())
            .push(", 'flows', ")
            .bind(digest);
        sql.push(",").bind(ms(received_at));
        sql.push(") ON CONFLICT (cluster, kind, digest) DO NOTHING");
        if sql.execute(&mut *tx).await? == 0 {
            tx.commit().await?;
            return Ok(ack(batch.flows.len(), 0));
        }
        // One statement may not update a row twice: merge repeats within the batch first.
        let mut merged: std::collections::BTreeMap<(String, String, u16, &str), (i64, i64, i64)> =
            std::collections::BTreeMap::new();
        for f in &batch.flows {
            let key = (
                endpoint_key(&f.src, &f.src_address),
                endpoint_key(&f.dst, &f.dst_address),
                f.port,
                f.protocol.as_str(),
            );
            let count = i64::try_from(f.count).unwrap_or(i64::MAX);
            let e = merged
                .entry(key)
                .or_insert((ms(f.first_seen), ms(f.last_seen), 0));
            e.0 = e.0.min(ms(f.first_seen));
            e.1 = e.1.max(ms(f.last_seen));
            e.2 = e.2.saturating_add(count);
        }
        let rows: Vec<_> = merged.into_iter().collect();
        insert_rows(
            &mut *tx,
            "INSERT INTO flows (cluster, src_key, dst_key, port, protocol, first_ms, last_ms, \
             count) VALUES ",
            " ON CONFLICT (cluster, src_key, dst_key, port, protocol) DO UPDATE SET \
             count = flows.count + excluded.count, \
             first_ms = CASE WHEN excluded.first_ms < flows.first_ms THEN excluded.first_ms \
             ELSE flows.first_ms END, \
             last_ms = CASE WHEN excluded.last_ms > flows.last_ms THEN excluded.last_ms \
             ELSE flows.last_ms END",
            8,
            &rows,
            |row, ((src, dst, port, protocol), (first, last, count))| {
                row.v(cluster.to_string())
                    .v(src.clone())
                    .v(dst.clone())
                    .v(i64::from(*port))
                    .v(protocol.to_string())
                    .v(*first)
                    .v(*last)
                    .v(*count);
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ack(batch.flows.len(), batch.flows.len() as u64))
    }

    /// Replaces the baseline of each workload and container given; one with an older
    /// `updated_at` than the stored one, or the same content, is a duplicate.
    pub async fn push_baselines(
        &self,
        cluster: &str,
        batch: &BaselineBatch,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        require_cluster_name(cluster)?;
        // One statement may not update a row twice: the latest of repeats wins.
        let mut latest: std::collections::BTreeMap<_, &BaselineRecord> =
            std::collections::BTreeMap::new();
        for b in &batch.baselines {
            let key = (&b.workload, b.container.as_str());
            if latest
                .get(&key)
                .is_none_or(|old| old.updated_at <= b.updated_at)
            {
                latest.insert(key, b);
            }
        }
        let rows: Vec<&BaselineRecord> = latest.into_values().collect();
        let mut tx = self.pool().begin().await?;
        lock_cluster(&mut tx, cluster, received_at).await?;
        let changed = insert_rows(
            &mut *tx,
            "INSERT INTO baselines (cluster, namespace, kind, name, container, processes, locked, \
             updated_ms) VALUES ",
            " ON CONFLICT (cluster, namespace, kind, name, container) DO UPDATE SET \
             processes = excluded.processes, locked = excluded.locked, \
             updated_ms = excluded.updated_ms \
             WHERE excluded.updated_ms >= baselines.updated_ms AND \
             (excluded.processes <> baselines.processes OR excluded.locked <> baselines.locked \
             OR excluded.updated_ms <> baselines.updated_ms)",
            8,
            &rows,
            |row, b| {
                row.v(cluster.to_string())
                    .v(b.workload.namespace.clone())
                    .v(b.workload.kind.clone())
                    .v(b.workload.name.clone())
                    .v(b.container.clone())
                    .v(json(&b.processes))
                    .v(i64::from(b.locked))
                    .v(ms(b.updated_at));
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ack(batch.baselines.len(), changed))
    }

    /// Stores admission decisions; a uid already stored for the cluster (or repeated in the
    /// batch) is a duplicate.
    pub async fn push_admission(
        &self,
        cluster: &str,
        batch: &AdmissionBatch,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        require_cluster_name(cluster)?;
        let mut tx = self.pool().begin().await?;
        lock_cluster(&mut tx, cluster, received_at).await?;
        let accepted = insert_rows(
            &mut *tx,
            "INSERT INTO admission (cluster, uid, time_ms, received_ms, record) VALUES ",
            " ON CONFLICT (cluster, uid) DO NOTHING",
            5,
            &batch.decisions,
            |row, d| {
                row.v(cluster.to_string())
                    .v(d.uid.clone())
                    .v(ms(d.time))
                    .v(ms(received_at))
                    .v(json(d));
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ack(batch.decisions.len(), accepted))
    }

    /// The admission decisions of `cluster`, newest first (at most `limit`, clamped to
    /// [`palisade_api::MAX_PAGE`]).
    pub async fn admission(
        &self,
        cluster: &str,
        limit: Option<u32>,
    ) -> Result<Vec<palisade_api::AdmissionRecord>> {
        let mut sql = Sql::new("SELECT record FROM admission WHERE cluster = ");
        sql.bind(cluster.to_string());
        sql.push(" ORDER BY time_ms DESC, uid LIMIT ")
            .bind(page_size(limit));
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| from_json(&row.text("record")?))
            .collect()
    }

    /// Alerts, newest first (then by cluster and id).
    pub async fn alerts(&self, query: &AlertQuery) -> Result<Page<AlertView>> {
        const ORDER: &str = "0 - a.time_ms, a.cluster, a.alert_id";
        let limit = page_size(query.limit);
        let mut sql = Sql::new("SELECT a.* FROM alerts a WHERE 1 = 1");
        if let Some(cluster) = &query.cluster {
            sql.push(" AND a.cluster = ").bind(cluster.clone());
        }
        if let Some(namespace) = &query.namespace {
            sql.push(" AND a.namespace = ").bind(namespace.clone());
        }
        if let Some(s) = query.severity {
            sql.push(" AND a.sev_rank <= ").bind(sev_rank(s));
        }
        if let Some(rule) = &query.rule {
            sql.push(" AND a.rule = ").bind(rule.clone());
        }
        if let Some(since) = query.since {
            sql.push(" AND a.time_ms >= ").bind(ms(since));
        }
        if let Some(c) = &query.cursor {
            let key = cursor::decode("alerts", 3, c)?;
            sql.push(&format!(" AND ({ORDER}) > ("));
            sql.bind(cursor::int(&key, 0)?).push(",");
            sql.bind(cursor::text(&key, 1)?).push(",");
            sql.bind(cursor::text(&key, 2)?).push(")");
        }
        sql.push(&format!(" ORDER BY {ORDER} LIMIT "))
            .bind(limit + 1);
        let rows = sql.fetch_all(self.pool()).await?;
        let key = |row: &AnyRow| -> Result<Vec<Value>> {
            Ok(vec![
                (-row.int("time_ms")?).into(),
                row.text("cluster")?.into(),
                row.text("alert_id")?.into(),
            ])
        };
        cursor::page(&rows, limit, "alerts", key, alert_view)
    }

    /// The flows of `cluster`, by source, destination, port and protocol.
    pub async fn flows(&self, cluster: &str) -> Result<Vec<FlowRecord>> {
        self.require_cluster(cluster).await?;
        let mut sql = Sql::new("SELECT * FROM flows WHERE cluster = ");
        sql.bind(cluster.to_string());
        sql.push(" ORDER BY src_key, dst_key, port, protocol");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                let (src, src_address) = from_json(&row.text("src_key")?)?;
                let (dst, dst_address) = from_json(&row.text("dst_key")?)?;
                Ok(FlowRecord {
                    src,
                    src_address,
                    dst,
                    dst_address,
                    port: u16::try_from(row.int("port")?).unwrap_or(0),
                    protocol: row.text("protocol")?,
                    first_seen: ts(row.int("first_ms")?),
                    last_seen: ts(row.int("last_ms")?),
                    count: u64::try_from(row.int("count")?).unwrap_or(0),
                })
            })
            .collect()
    }

    /// The baselines of `cluster`, by workload and container.
    pub async fn baselines(&self, cluster: &str) -> Result<Vec<BaselineRecord>> {
        self.require_cluster(cluster).await?;
        let mut sql = Sql::new("SELECT * FROM baselines WHERE cluster = ");
        sql.bind(cluster.to_string());
        sql.push(" ORDER BY namespace, kind, name, container");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(BaselineRecord {
                    workload: WorkloadId::new(
                        row.text("namespace")?,
                        row.text("kind")?,
                        row.text("name")?,
                    ),
                    container: row.text("container")?,
                    processes: from_json(&row.text("processes")?)?,
                    locked: row.int("locked")? != 0,
                    updated_at: ts(row.int("updated_ms")?),
                })
            })
            .collect()
    }
}
