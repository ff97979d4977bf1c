//! Runtime and admission ingest: each batch type says how its records become rows of one
//! table; one function stores any of them in one transaction.

use std::collections::BTreeMap;

use palisade_api::{
    AdmissionBatch, AdmissionRecord, AlertBatch, AlertRecord, BaselineBatch, BaselineRecord,
    FlowBatch, IngestAck,
};
use palisade_model::WorkloadId;
use palisade_model::time::Timestamp;
use sha2::{Digest, Sha256};

use crate::Store;
use crate::error::{Result, StoreError};
use crate::snapshot::lock_cluster;
use crate::sql::{Row, insert_rows};
use crate::values::{json, ms, sev_rank};

/// A batch whose records are stored as rows of one table with `INSERT … ON CONFLICT`, so a
/// record already stored is not stored again (rows affected = records accepted).
pub(crate) trait TableBatch {
    /// One row.
    type Row<'a>
    where
        Self: 'a;
    /// What the batch holds (`alerts`, `flows`, …).
    const KIND: &'static str;
    /// `INSERT INTO t (columns…) VALUES `.
    const HEAD: &'static str;
    /// The conflict clause.
    const TAIL: &'static str;
    /// Values per row.
    const COLUMNS: usize;
    /// Records in the batch (what the acknowledgement counts).
    fn len(&self) -> usize;
    /// The rows (repeats within the batch merged where one statement may not touch a row
    /// twice).
    fn rows(&self) -> Vec<Self::Row<'_>>;
    /// Binds one row's values.
    fn bind(row: &mut Row<'_>, item: &Self::Row<'_>, cluster: &str, received_at: Timestamp);
    /// For batches without record ids: the batch's digest, recorded with it, so that the
    /// same batch again is a repeat.
    fn digest(&self) -> Option<String> {
        None
    }
    /// Records accepted when `affected` rows were written.
    fn accepted(&self, affected: u64) -> u64 {
        affected
    }
}

impl TableBatch for AlertBatch {
    type Row<'a> = &'a AlertRecord;
    const KIND: &'static str = "alerts";
    const HEAD: &'static str = "INSERT INTO alerts (cluster, alert_id, time_ms, received_ms, \
        node, namespace, kind, name, container, rule, severity, sev_rank, message, detail) VALUES ";
    const TAIL: &'static str = " ON CONFLICT (cluster, alert_id) DO NOTHING";
    const COLUMNS: usize = 14;
    fn len(&self) -> usize {
        self.alerts.len()
    }
    fn rows(&self) -> Vec<&AlertRecord> {
        self.alerts.iter().collect()
    }
    fn bind(row: &mut Row<'_>, a: &&AlertRecord, cluster: &str, received_at: Timestamp) {
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
    }
}

/// A flow endpoint as one key: the workload or the address.
pub(crate) fn endpoint_key(workload: &Option<WorkloadId>, address: &Option<String>) -> String {
    json(&(workload, address))
}

/// Source, destination, port and protocol of a flow.
type FlowKey<'a> = (String, String, u16, &'a str);
/// First seen, last seen (milliseconds) and count.
type FlowTotals = (i64, i64, i64);

impl TableBatch for FlowBatch {
    type Row<'a> = (FlowKey<'a>, FlowTotals);
    const KIND: &'static str = "flows";
    const HEAD: &'static str = "INSERT INTO flows (cluster, src_key, dst_key, port, protocol, \
        first_ms, last_ms, count) VALUES ";
    const TAIL: &'static str = " ON CONFLICT (cluster, src_key, dst_key, port, protocol) DO \
        UPDATE SET count = flows.count + excluded.count, \
        first_ms = CASE WHEN excluded.first_ms < flows.first_ms THEN excluded.first_ms \
        ELSE flows.first_ms END, \
        last_ms = CASE WHEN excluded.last_ms > flows.last_ms THEN excluded.last_ms \
        ELSE flows.last_ms END";
    const COLUMNS: usize = 8;
    fn len(&self) -> usize {
        self.flows.len()
    }
    fn rows(&self) -> Vec<(FlowKey<'_>, FlowTotals)> {
        let mut merged: BTreeMap<FlowKey<'_>, FlowTotals> = BTreeMap::new();
        for f in &self.flows {
            let key = (
                endpoint_key(&f.src, &f.src_address),
                endpoint_key(&f.dst, &f.dst_address),
                f.port,
                f.protocol.as_str(),
            );
            let count = i64::try_from(f.count).unwrap_or(i64::MAX);
            let (first, last) = (ms(f.first_seen), ms(f.last_seen));
            let e = merged.entry(key).or_insert((first, last, 0));
            e.0 = e.0.min(first);
            e.1 = e.1.max(last);
            e.2 = e.2.saturating_add(count);
        }
        merged.into_iter().collect()
    }
    fn bind(row: &mut Row<'_>, item: &(FlowKey<'_>, FlowTotals), cluster: &str, _: Timestamp) {
        let ((src, dst, port, protocol), (first, last, count)) = item;
        row.v(cluster.to_string())
            .v(src.clone())
            .v(dst.clone())
            .v(i64::from(*port))
            .v(protocol.to_string())
            .v(*first)
            .v(*last)
            .v(*count);
    }
    fn digest(&self) -> Option<String> {
        Some(hex::encode(Sha256::digest(json(self).as_bytes())))
    }
    fn accepted(&self, _: u64) -> u64 {
        self.flows.len() as u64
    }
}

impl TableBatch for BaselineBatch {
    type Row<'a> = &'a BaselineRecord;
    const KIND: &'static str = "baselines";
    const HEAD: &'static str = "INSERT INTO baselines (cluster, namespace, kind, name, \
        container, processes, locked, updated_ms) VALUES ";
    // Replaced by a baseline at least as new that differs; anything else is a repeat.
    const TAIL: &'static str = " ON CONFLICT (cluster, namespace, kind, name, container) DO \
        UPDATE SET processes = excluded.processes, locked = excluded.locked, \
        updated_ms = excluded.updated_ms \
        WHERE excluded.updated_ms >= baselines.updated_ms AND \
        (excluded.processes <> baselines.processes OR excluded.locked <> baselines.locked \
        OR excluded.updated_ms <> baselines.updated_ms)";
    const COLUMNS: usize = 8;
    fn len(&self) -> usize {
        self.baselines.len()
    }
    fn rows(&self) -> Vec<&BaselineRecord> {
        // The latest of repeats within the batch wins.
        let mut latest: BTreeMap<_, &BaselineRecord> = BTreeMap::new();
        for b in &self.baselines {
            let key = (&b.workload, b.container.as_str());
            if latest
                .get(&key)
                .is_none_or(|old| old.updated_at <= b.updated_at)
            {
                latest.insert(key, b);
            }
        }
        latest.into_values().collect()
    }
    fn bind(row: &mut Row<'_>, b: &&BaselineRecord, cluster: &str, _: Timestamp) {
        row.v(cluster.to_string())
            .v(b.workload.namespace.clone())
            .v(b.workload.kind.clone())
            .v(b.workload.name.clone())
            .v(b.container.clone())
            .v(json(&b.processes))
            .v(i64::from(b.locked))
            .v(ms(b.updated_at));
    }
}

impl TableBatch for AdmissionBatch {
    type Row<'a> = &'a AdmissionRecord;
    const KIND: &'static str = "admission";
    const HEAD: &'static str =
        "INSERT INTO admission (cluster, uid, time_ms, received_ms, record) VALUES ";
    const TAIL: &'static str = " ON CONFLICT (cluster, uid) DO NOTHING";
    const COLUMNS: usize = 5;
    fn len(&self) -> usize {
        self.decisions.len()
    }
    fn rows(&self) -> Vec<&AdmissionRecord> {
        self.decisions.iter().collect()
    }
    fn bind(row: &mut Row<'_>, d: &&AdmissionRecord, cluster: &str, received_at: Timestamp) {
        row.v(cluster.to_string())
            .v(d.uid.clone())
            .v(ms(d.time))
            .v(ms(received_at))
            .v(json(*d));
    }
}

impl Store {
    /// Stores `batch` of `cluster` in one transaction that also makes sure the cluster
    /// exists.
    pub(crate) async fn push_batch<B: TableBatch>(
        &self,
        cluster: &str,
        batch: &B,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        if cluster.trim().is_empty() {
            return Err(StoreError::invalid("cluster", "must not be empty"));
        }
        let total = batch.len() as u64;
        let mut tx = self.pool().begin().await?;
        lock_cluster(&mut tx, self.backend(), cluster, received_at).await?;
        if let Some(digest) = batch.digest() {
            let mut sql = self
                .sql("INSERT INTO ingested_batches (cluster, kind, digest, received_ms) VALUES (");
            sql.bind(cluster.to_string()).push(",").bind(B::KIND);
            sql.push(",").bind(digest).push(",").bind(ms(received_at));
            sql.push(") ON CONFLICT (cluster, kind, digest) DO NOTHING");
            if sql.execute(&mut *tx).await? == 0 {
                return Ok(IngestAck {
                    accepted: 0,
                    duplicates: total,
                });
            }
        }
        let rows = batch.rows();
        let affected = insert_rows(
            &mut tx,
            self.backend(),
            B::HEAD,
            B::TAIL,
            B::COLUMNS,
            &rows,
            |row, item| B::bind(row, item, cluster, received_at),
        )
        .await?;
        tx.commit().await?;
        let accepted = batch.accepted(affected).min(total);
        Ok(IngestAck {
            accepted,
            duplicates: total - accepted,
        })
    }
}
