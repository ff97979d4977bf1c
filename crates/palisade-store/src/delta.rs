//! Delta ingest (`palisade sensor run` between full snapshots): the objects a delta names are
//! updated in one transaction, with the finding history of snapshot pushes.

use std::collections::{BTreeSet, HashMap};

use palisade_api::{Delta, FindingRecord, IngestAck, ObjectKey, Snapshot};
use palisade_model::time::Timestamp;

use crate::Store;
use crate::dialect::Backend;
use crate::error::{Result, StoreError};
use crate::history::{self, Scope};
use crate::snapshot::{Push, insert_state, push_key};
use crate::sql::Sql;
use crate::values::Get;

/// The tables holding a workload's rows, emptied for each workload a delta replaces or deletes.
const WORKLOAD_TABLES: &[&str] = &["workloads", "workload_images", "workload_labels"];

/// Refuses a delta that is not self-consistent: no cluster or id, a finding filed under
/// another object.
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
    Ok(())
}

/// The open-finding counts of the delta's workloads whose objects it does not list (rows that
/// changed alone, such as a rank that moved): their findings stay as stored, and so does the
/// count of a stored row. A workload central has no row for is counted in `findings`.
async fn kept_counts(
    backend: Backend,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cluster: &str,
    delta: &Delta,
) -> Result<HashMap<ObjectKey, i64>> {
    let listed: BTreeSet<&ObjectKey> = delta.objects.iter().map(|o| &o.object).collect();
    let mut kept = HashMap::new();
    for w in &delta.workloads {
        let key = palisade_api::delta::workload_key(&w.id);
        if listed.contains(&key) {
            continue;
        }
        let mut sql = Sql::new(
            backend,
            "SELECT open_findings AS n FROM workloads WHERE cluster = ",
        );
        sql.bind(cluster.to_string());
        push_key(&mut sql, &key);
        let n = match sql.fetch_optional(&mut **tx).await? {
            Some(row) => row.int("n")?,
            None => {
                let mut sql = Sql::new(
                    backend,
                    "SELECT COUNT(*) AS n FROM findings WHERE cluster = ",
                );
                sql.bind(cluster.to_string());
                push_key(&mut sql, &key);
                sql.push(" AND resolved_ms IS NULL");
                match sql.fetch_optional(&mut **tx).await? {
                    Some(row) => row.int("n")?,
                    None => 0,
                }
            }
        };
        kept.insert(key, n);
    }
    Ok(kept)
}

impl Store {
    /// Applies `delta` to `cluster`'s current state in one transaction: each listed object's
    /// findings become exactly its listed set (new ones first seen now, missing ones resolved,
    /// resolved ones seen again reopened), listed workloads replace their rows (a row whose
    /// object is not listed keeps its findings and their count; a listed object's row that is
    /// not replaced gets the count of its new set), deleted objects' findings are
    /// resolved and their workload rows removed. The delta becomes the cluster's
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
        let findings: Vec<FindingRecord> = delta
            .objects
            .iter()
            .flat_map(|o| o.findings.iter().cloned())
            .collect();
        let mut tx = self.pool().begin().await?;
        let push = Push {
            what: "delta",
            cluster,
            id: &delta.id,
            scanned_at: delta.scanned_at,
            tool_version: &delta.tool_version,
            source: "delta",
            workloads: delta.workloads.len(),
            findings: findings.len(),
        };
        let Some((now, previous)) = self.begin_push(&mut tx, &push, received_at).await? else {
            tx.commit().await?;
            return Ok(IngestAck {
                accepted: 0,
                duplicates: records,
            });
        };

        let kept = kept_counts(self.backend(), &mut tx, cluster, delta).await?;
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
        insert_state(self.backend(), &mut tx, cluster, &partial, &kept).await?;
        // Listed objects whose rows the delta does not replace: their rows count the new sets.
        let rows: BTreeSet<ObjectKey> = delta
            .workloads
            .iter()
            .map(|w| palisade_api::delta::workload_key(&w.id))
            .collect();
        for o in delta.objects.iter().filter(|o| !rows.contains(&o.object)) {
            let mut sql = self.sql("UPDATE workloads SET open_findings = ");
            sql.bind(o.findings.len() as i64).push(" WHERE cluster = ");
            sql.bind(cluster.to_string());
            push_key(&mut sql, &o.object);
            sql.execute(&mut *tx).await?;
        }
        let scope: Vec<ObjectKey> = delta
            .objects
            .iter()
            .map(|o| o.object.clone())
            .chain(delta.deleted.iter().cloned())
            .collect();
        history::record(
            self.backend(),
            &mut tx,
            cluster,
            &partial.findings,
            Scope::Objects(&scope),
            now,
            previous,
        )
        .await?;
        self.finish_push(tx, cluster, now, records).await
    }
}
