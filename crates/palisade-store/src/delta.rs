//! Delta ingest (`palisade sensor run` between full snapshots): the objects a delta names are
//! updated in one transaction, with the finding history of snapshot pushes.

use std::collections::BTreeSet;

use palisade_api::{Delta, FindingRecord, IngestAck, ObjectKey, Snapshot};
use palisade_model::time::Timestamp;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::snapshot::{insert_state, lock_cluster, upsert_findings};
use crate::values::{Get, ms, ns_column};

/// The tables holding a workload's rows, emptied for each workload a delta replaces or deletes.
const WORKLOAD_TABLES: &[&str] = &["workloads", "workload_images", "workload_labels"];

/// Refuses a delta that is not self-consistent: no id, a finding filed under another object,
/// a workload whose object (and so its finding count) is missing.
fn validate(cluster: &str, delta: &Delta) -> Result<()> {
    if cluster.trim().is_empty() {
        return Err(StoreError::invalid("cluster", "must not be empty"));
    }
    if delta.id.trim().is_empty() {
        return Err(StoreError::invalid("id", "must not be empty"));
    }
    for (i, o) in delta.objects.iter().enumerate() {
        if let Some(j) = o.findings.iter().position(|f| f.object != o.object) {
            return Err(StoreError::invalid(
                format!("objects[{i}].findings[{j}].object"),
                "a finding must be on the object it is listed under",
            ));
        }
    }
    let objects: BTreeSet<&ObjectKey> = delta.objects.iter().map(|o| &o.object).collect();
    for (i, w) in delta.workloads.iter().enumerate() {
        if !objects.contains(&palisade_api::delta::workload_key(&w.id)) {
            return Err(StoreError::invalid(
                format!("workloads[{i}]"),
                "a workload's object must be listed in objects with its findings",
            ));
        }
    }
    Ok(())
}

impl Store {
    /// Applies `delta` to `cluster`'s current state in one transaction: each listed object's
    /// findings become exactly its listed set (new ones first seen now, missing ones resolved,
    /// resolved ones seen again reopened), listed workloads replace their rows, deleted objects'
    /// findings are resolved and their workload rows removed. The delta becomes the cluster's
    /// current push (its findings are "new"). The same id again changes nothing; a delta
    /// scanned before the current push is refused with [`StoreError::Conflict`].
    pub async fn push_delta(
        &self,
        cluster: &str,
        delta: &Delta,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        validate(cluster, delta)?;
        let records = delta.record_count();
        let mut tx = self.pool().begin().await?;
        lock_cluster(&mut tx, self.backend(), cluster, received_at).await?;

        let mut sql = self.sql("SELECT seq FROM snapshots WHERE cluster = ");
        sql.bind(cluster.to_string()).push(" AND snapshot_id = ");
        sql.bind(delta.id.clone());
        if sql.fetch_optional(&mut *tx).await?.is_some() {
            tx.commit().await?;
            return Ok(IngestAck {
                accepted: 0,
                duplicates: records,
            });
        }
        let mut sql = self.sql("SELECT last_scanned_ms FROM clusters WHERE name = ");
        sql.bind(cluster.to_string());
        let current = match sql.fetch_optional(&mut *tx).await? {
            Some(row) => row.opt_int("last_scanned_ms")?,
            None => None,
        };
        let scanned = ms(delta.scanned_at);
        if current.is_some_and(|c| scanned < c) {
            return Err(StoreError::Conflict(format!(
                "delta {:?} was scanned before cluster {cluster:?}'s current push",
                delta.id
            )));
        }
        let findings: Vec<FindingRecord> = delta
            .objects
            .iter()
            .flat_map(|o| o.findings.iter().cloned())
            .collect();
        let mut sql = self.sql(
            "INSERT INTO snapshots (cluster, snapshot_id, scanned_ms, received_ms, tool_version, \
             source, workloads, findings) VALUES (",
        );
        sql.bind(cluster.to_string())
            .push(",")
            .bind(delta.id.clone());
        sql.push(",").bind(scanned).push(",").bind(ms(received_at));
        sql.push(",").bind(delta.tool_version.clone()).push(",");
        sql.bind("delta".to_string()).push(",");
        sql.bind(delta.workloads.len() as i64).push(",");
        sql.bind(findings.len() as i64).push(") RETURNING seq");
        let seq = sql
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::Other("no snapshot sequence returned".into()))?
            .int("seq")?;

        let replaced = delta
            .workloads
            .iter()
            .map(|w| palisade_api::delta::workload_key(&w.id))
            .chain(delta.deleted.iter().cloned());
        for key in replaced {
            for table in WORKLOAD_TABLES {
                let mut sql = self.sql(&format!("DELETE FROM {table} WHERE cluster = "));
                sql.bind(cluster.to_string());
                push_key(&mut sql, &key);
                sql.execute(&mut *tx).await?;
            }
        }
        // The snapshot code inserts rows and upserts findings; a delta is a partial snapshot.
        let partial = Snapshot {
            id: delta.id.clone(),
            scanned_at: delta.scanned_at,
            tool_version: delta.tool_version.clone(),
            source: "delta".into(),
            workloads: delta.workloads.clone(),
            findings,
            images: Vec::new(),
            objects: Vec::new(),
            diagnostics: Vec::new(),
        };
        insert_state(self.backend(), &mut tx, cluster, &partial).await?;
        upsert_findings(self.backend(), &mut tx, cluster, &partial, seq).await?;

        let touched = delta
            .objects
            .iter()
            .map(|o| &o.object)
            .chain(&delta.deleted);
        for key in touched {
            let mut sql = self.sql("UPDATE findings SET resolved_ms = ");
            sql.bind(scanned)
                .push(" WHERE cluster = ")
                .bind(cluster.to_string());
            push_key(&mut sql, key);
            sql.push(" AND resolved_ms IS NULL AND seen_seq <> ")
                .bind(seq);
            sql.execute(&mut *tx).await?;
        }

        let mut sql = self.sql("UPDATE clusters SET current_seq = ");
        sql.bind(seq).push(", last_scanned_ms = ").bind(scanned);
        sql.push(" WHERE name = ").bind(cluster.to_string());
        sql.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(IngestAck {
            accepted: records,
            duplicates: 0,
        })
    }
}

/// Appends `AND namespace = … AND kind = … AND name = …` for `key`.
fn push_key(sql: &mut crate::sql::Sql, key: &ObjectKey) {
    sql.push(" AND namespace = ")
        .bind(ns_column(&key.namespace).to_string());
    sql.push(" AND kind = ").bind(key.kind.clone());
    sql.push(" AND name = ").bind(key.name.clone());
}
