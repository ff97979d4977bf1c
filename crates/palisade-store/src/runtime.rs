//! Runtime ingest (alerts, flows, baselines) and admission decisions, and their queries.

use palisade_api::{
    AdmissionBatch, AlertBatch, AlertQuery, AlertRecord, AlertView, BaselineBatch, BaselineRecord,
    FlowBatch, FlowRecord, IngestAck, Page,
};
use palisade_model::WorkloadId;
use palisade_model::time::Timestamp;
use serde_json::Value;
use sqlx::any::AnyRow;

use crate::error::Result;
use crate::values::{Get, from_json, ms, page_size, sev_rank, severity, ts};
use crate::{Store, cursor};

pub(crate) fn alert_view(row: &AnyRow) -> Result<AlertView> {
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

/// A stored baseline row as the API shows it.
pub(crate) fn baseline_record(row: &AnyRow) -> Result<BaselineRecord> {
    Ok(BaselineRecord {
        workload: WorkloadId::new(row.text("namespace")?, row.text("kind")?, row.text("name")?),
        container: row.text("container")?,
        processes: from_json(&row.text("processes")?)?,
        locked: row.int("locked")? != 0,
        updated_at: ts(row.int("updated_ms")?),
    })
}

/// The public push methods, one per batch type, all [`Store::push_batch`].
macro_rules! push_methods {
    ($($(#[$doc:meta])* $name:ident($batch:ty);)*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub async fn $name(
                    &self,
                    cluster: &str,
                    batch: &$batch,
                    received_at: Timestamp,
                ) -> Result<IngestAck> {
                    self.push_batch(cluster, batch, received_at).await
                }
            )*
        }
    };
}

push_methods! {
    /// Stores alerts; an alert id already stored for the cluster (or repeated in the batch)
    /// is a duplicate.
    push_alerts(AlertBatch);
    /// Adds flows: the same endpoints, port and protocol add their counts and widen the time
    /// range. A repeated batch (the same content again) is all duplicates.
    push_flows(FlowBatch);
    /// Replaces the baseline of each workload and container given; one with an older
    /// `updated_at` than the stored one, or the same content, is a duplicate.
    push_baselines(BaselineBatch);
    /// Stores admission decisions; a uid already stored for the cluster (or repeated in the
    /// batch) is a duplicate.
    push_admission(AdmissionBatch);
}

impl Store {
    /// The admission decisions of `cluster`, newest first (at most `limit`, clamped to
    /// [`palisade_api::MAX_PAGE`]).
    pub async fn admission(
        &self,
        cluster: &str,
        limit: Option<u32>,
    ) -> Result<Vec<palisade_api::AdmissionRecord>> {
        let mut sql = self.sql("SELECT record FROM admission WHERE cluster = ");
        sql.bind(cluster.to_string());
        sql.push(" ORDER BY time_ms DESC, uid LIMIT ")
            .bind(page_size(limit));
        sql.fetch_each(self.pool(), |row| from_json(&row.text("record")?))
            .await
    }

    /// Alerts, newest first (then by cluster and id).
    pub async fn alerts(&self, query: &AlertQuery) -> Result<Page<AlertView>> {
        const ORDER: &str = "0 - a.time_ms, a.cluster, a.alert_id";
        let limit = page_size(query.limit);
        let mut sql = self.sql("SELECT a.* FROM alerts a WHERE 1 = 1");
        sql.filter(" AND a.cluster = ", query.cluster.clone());
        sql.filter(" AND a.namespace = ", query.namespace.clone());
        sql.filter(" AND a.sev_rank <= ", query.severity.map(sev_rank));
        sql.filter(" AND a.rule = ", query.rule.clone());
        sql.filter(" AND a.time_ms >= ", query.since.map(ms));
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
        let order = "src_key, dst_key, port, protocol";
        self.of_cluster(cluster, "flows", order, |row| {
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
        .await
    }

    /// The baselines of `cluster`, by workload and container.
    pub async fn baselines(&self, cluster: &str) -> Result<Vec<BaselineRecord>> {
        let order = "namespace, kind, name, container";
        self.of_cluster(cluster, "baselines", order, baseline_record)
            .await
    }
}
