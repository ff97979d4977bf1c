//! Snapshot ingest: a cluster's whole state replaced in one transaction, with finding history.

use std::collections::{BTreeMap, HashMap};

use palisade_api::ImageRecord;

use palisade_api::{FindingRecord, IngestAck, ObjectKey, Snapshot, WorkloadRecord};
use palisade_model::time::Timestamp;
use sqlx::{Any, Connection, Transaction};

use crate::Store;
use crate::dialect::Backend;
use crate::error::{Result, StoreError};
use crate::history::{self, Sighting};
use crate::sql::{Sql, insert_rows};
use crate::values::{Get, json, ms, ns_column, sev_rank};

/// SQLite's default automatic checkpoint threshold (pages of write-ahead log).
const SQLITE_AUTOCHECKPOINT_PAGES: u32 = 1000;

/// The tables holding a cluster's current state, emptied before a snapshot's rows go in.
const STATE_TABLES: &[&str] = &[
    "workloads",
    "workload_images",
    "workload_labels",
    "images",
    "image_vulns",
    "objects",
    "diagnostics",
];

/// Refuses what central must not store: Secret values, and empty names.
fn validate(cluster: &str, snapshot: &Snapshot) -> Result<()> {
    if cluster.trim().is_empty() {
        return Err(StoreError::invalid("cluster", "must not be empty"));
    }
    if snapshot.id.trim().is_empty() {
        return Err(StoreError::invalid("id", "must not be empty"));
    }
    for (i, object) in snapshot.objects.iter().enumerate() {
        // Only a text that spells the kind (plainly or with escapes) can be a Secret.
        let text = object.get();
        if !text.contains("Secret") && !text.contains("\\u") {
            continue;
        }
        let probe: SecretProbe = serde_json::from_str(text).map_err(|e| {
            StoreError::invalid(format!("objects[{i}]"), format!("not a JSON object: {e}"))
        })?;
        if probe.kind.as_deref() == Some("Secret") {
            for (field, value) in [("data", &probe.data), ("stringData", &probe.string_data)] {
                if value.is_some() {
                    return Err(StoreError::invalid(
                        format!("objects[{i}].{field}"),
                        "Secret values must be removed before sending",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// What [`validate`] reads of an object: its kind and whether it carries Secret values (a
/// field that is present and not `null`). Everything else is skipped unparsed.
#[derive(serde::Deserialize)]
struct SecretProbe {
    kind: Option<String>,
    data: Option<serde::de::IgnoredAny>,
    #[serde(rename = "stringData")]
    string_data: Option<serde::de::IgnoredAny>,
}

/// Records in a snapshot (what its acknowledgement counts).
fn record_count(snapshot: &Snapshot) -> u64 {
    let n = snapshot.workloads.len()
        + snapshot.findings.len()
        + snapshot.images.len()
        + snapshot.objects.len()
        + snapshot.diagnostics.len();
    n as u64
}

/// Makes sure the cluster row exists and, on PostgreSQL, locks it for this transaction so
/// concurrent pushes to one cluster run one after the other (SQLite has one writer anyway).
pub(crate) async fn lock_cluster(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    cluster: &str,
    now: Timestamp,
) -> Result<()> {
    let mut sql = Sql::new(backend, "INSERT INTO clusters (name, created_ms) VALUES (");
    sql.bind(cluster.to_string()).push(",").bind(ms(now));
    sql.push(") ON CONFLICT (name) DO UPDATE SET name = excluded.name");
    sql.execute(&mut **tx).await?;
    Ok(())
}

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
        validate(cluster, snapshot)?;
        if self.backend() != Backend::Sqlite {
            let tx = self.pool().begin().await?;
            return self
                .store_snapshot(tx, cluster, snapshot, received_at)
                .await;
        }
        // SQLite: the connection that commits a push would copy the whole write-ahead log into
        // the database file (its automatic checkpoint) before the push is acknowledged. The
        // push is durable once its commit is in the log (`synchronous=FULL` syncs it), so this
        // connection skips that checkpoint and a task runs it after the acknowledgement.
        let mut conn = self.pool().acquire().await?;
        self.sql("PRAGMA wal_autocheckpoint = 0")
            .execute(&mut *conn)
            .await?;
        let pushed = match conn.begin().await {
            Ok(tx) => {
                self.store_snapshot(tx, cluster, snapshot, received_at)
                    .await
            }
            Err(e) => Err(e.into()),
        };
        let restored = self
            .sql(&format!(
                "PRAGMA wal_autocheckpoint = {SQLITE_AUTOCHECKPOINT_PAGES}"
            ))
            .execute(&mut *conn)
            .await;
        if restored.is_err() {
            // Not back in the pool with its checkpoints off.
            conn.close_on_drop();
        }
        if pushed.as_ref().is_ok_and(|ack| ack.accepted > 0) {
            self.checkpoint_later();
        }
        pushed
    }

    /// Copies the write-ahead log into the database file in the background (SQLite), without
    /// waiting for readers: what a commit's automatic checkpoint would have done.
    fn checkpoint_later(&self) {
        let store = self.clone();
        tokio::spawn(async move {
            if let Err(e) = store
                .sql("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(store.pool())
                .await
            {
                // A store closed meanwhile checkpoints as its last connection closes.
                if !store.pool().is_closed() {
                    tracing::warn!(error = %e, "background checkpoint failed");
                }
            }
        });
    }

    /// [`Store::push_snapshot`] in `tx`.
    async fn store_snapshot(
        &self,
        mut tx: Transaction<'_, Any>,
        cluster: &str,
        snapshot: &Snapshot,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        let records = record_count(snapshot);
        let push = Push {
            what: "snapshot",
            cluster,
            id: &snapshot.id,
            scanned_at: snapshot.scanned_at,
            tool_version: &snapshot.tool_version,
            source: &snapshot.source,
            workloads: snapshot.workloads.len(),
            findings: snapshot.findings.len(),
        };
        let Some((now, previous)) = self.begin_push(&mut tx, &push, received_at).await? else {
            tx.commit().await?;
            return Ok(IngestAck {
                accepted: 0,
                duplicates: records,
            });
        };

        for table in STATE_TABLES {
            let mut sql = self.sql(&format!("DELETE FROM {table} WHERE cluster = "));
            sql.bind(cluster.to_string());
            sql.execute(&mut *tx).await?;
        }
        insert_state(self.backend(), &mut tx, cluster, snapshot).await?;
        history::record(
            self.backend(),
            &mut tx,
            cluster,
            &snapshot.findings,
            history::Scope::Cluster,
            now,
            previous,
        )
        .await?;
        self.finish_push(tx, cluster, now, records).await
    }

    /// Starts `push` in `tx`: locks its cluster; `None` when its id was stored before (a
    /// duplicate: the caller commits and acknowledges it as such); refuses a push scanned before
    /// the cluster's current one ([`StoreError::Conflict`]); records it in `snapshots` and
    /// returns it and the cluster's push before it (none for the first).
    pub(crate) async fn begin_push(
        &self,
        tx: &mut Transaction<'_, Any>,
        push: &Push<'_>,
        received_at: Timestamp,
    ) -> Result<Option<(Sighting, Option<Sighting>)>> {
        let cluster = push.cluster;
        lock_cluster(tx, self.backend(), cluster, received_at).await?;
        let mut sql = self.sql("SELECT seq FROM snapshots WHERE cluster = ");
        sql.bind(cluster.to_string()).push(" AND snapshot_id = ");
        sql.bind(push.id.to_string());
        if sql.fetch_optional(&mut **tx).await?.is_some() {
            return Ok(None);
        }
        let mut sql = self.sql("SELECT current_seq, last_scanned_ms FROM clusters WHERE name = ");
        sql.bind(cluster.to_string());
        let previous = match sql.fetch_optional(&mut **tx).await? {
            Some(row) => match (row.opt_int("current_seq")?, row.opt_int("last_scanned_ms")?) {
                (Some(seq), Some(scanned_ms)) => Some(Sighting { seq, scanned_ms }),
                _ => None,
            },
            None => None,
        };
        let scanned = ms(push.scanned_at);
        if previous.is_some_and(|p| scanned < p.scanned_ms) {
            return Err(StoreError::Conflict(format!(
                "{} {:?} was scanned before cluster {cluster:?}'s current one",
                push.what, push.id
            )));
        }
        let mut sql = self.sql(
            "INSERT INTO snapshots (cluster, snapshot_id, scanned_ms, received_ms, tool_version, \
             source, workloads, findings) VALUES (",
        );
        sql.bind(cluster.to_string())
            .push(",")
            .bind(push.id.to_string());
        sql.push(",").bind(scanned).push(",").bind(ms(received_at));
        sql.push(",").bind(push.tool_version.to_string()).push(",");
        sql.bind(push.source.to_string()).push(",");
        sql.bind(push.workloads as i64).push(",");
        sql.bind(push.findings as i64).push(") RETURNING seq");
        let seq = sql
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::Other("no snapshot sequence returned".into()))?
            .int("seq")?;
        let now = Sighting {
            seq,
            scanned_ms: scanned,
        };
        Ok(Some((now, previous)))
    }

    /// Makes push `now` the cluster's current one, commits and acknowledges its `records`.
    pub(crate) async fn finish_push(
        &self,
        mut tx: Transaction<'_, Any>,
        cluster: &str,
        now: Sighting,
        records: u64,
    ) -> Result<IngestAck> {
        let mut sql = self.sql("UPDATE clusters SET current_seq = ");
        sql.bind(now.seq)
            .push(", last_scanned_ms = ")
            .bind(now.scanned_ms);
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
pub(crate) fn push_key(sql: &mut Sql, key: &ObjectKey) {
    sql.push(" AND namespace = ")
        .bind(ns_column(&key.namespace).to_string());
    sql.push(" AND kind = ").bind(key.kind.clone());
    sql.push(" AND name = ").bind(key.name.clone());
}

/// A push as `snapshots` records it: a full snapshot or a sensor's delta.
pub(crate) struct Push<'a> {
    /// `snapshot` or `delta` (for messages).
    pub(crate) what: &'static str,
    pub(crate) cluster: &'a str,
    pub(crate) id: &'a str,
    pub(crate) scanned_at: Timestamp,
    pub(crate) tool_version: &'a str,
    /// `manifests`, `cluster` or `delta`.
    pub(crate) source: &'a str,
    pub(crate) workloads: usize,
    pub(crate) findings: usize,
}

/// Open findings per workload of the snapshot (findings on the workload object itself).
fn open_findings(findings: &[FindingRecord]) -> HashMap<(&str, &str, &str), i64> {
    let mut counts = HashMap::new();
    for f in findings {
        let key = (
            ns_column(&f.object.namespace),
            f.object.kind.as_str(),
            f.object.name.as_str(),
        );
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// Inserts the snapshot's workloads (with their images and labels), images (with their
/// vulnerabilities), objects and diagnostics.
pub(crate) async fn insert_state(
    backend: Backend,
    tx: &mut Transaction<'_, Any>,
    cluster: &str,
    snapshot: &Snapshot,
) -> Result<()> {
    let conn = &mut **tx;
    let counts = open_findings(&snapshot.findings);
    insert_rows(
        conn,
        backend,
        "INSERT INTO workloads (cluster, namespace, kind, name, labels, service_account, images, \
         risk_score, risk_rank, risk_factors, owner, open_findings) VALUES ",
        "",
        12,
        &snapshot.workloads,
        |row, w: &WorkloadRecord| {
            let risk = w.risk.as_ref();
            let key = (
                w.id.namespace.as_str(),
                w.id.kind.as_str(),
                w.id.name.as_str(),
            );
            row.v(cluster.to_string())
                .v(w.id.namespace.clone())
                .v(w.id.kind.clone())
                .v(w.id.name.clone())
                .v(json(&w.labels))
                .v(w.service_account.clone())
                .v(json(&w.images))
                .v(risk.map_or(0, |r| i64::from(r.score)))
                .v(risk.map(|r| i64::from(r.rank)))
                .v(json(risk.map_or(&[][..], |r| &r.factors[..])))
                .v(w.owner.clone())
                .v(counts.get(&key).copied().unwrap_or(0));
        },
    )
    .await?;

    let workload_images: Vec<(&WorkloadRecord, &String)> = snapshot
        .workloads
        .iter()
        .flat_map(|w| dedup(&w.images).into_iter().map(move |i| (w, i)))
        .collect();
    insert_rows(
        conn,
        backend,
        "INSERT INTO workload_images (cluster, namespace, kind, name, image) VALUES ",
        "",
        5,
        &workload_images,
        |row, (w, image)| {
            row.v(cluster.to_string())
                .v(w.id.namespace.clone())
                .v(w.id.kind.clone())
                .v(w.id.name.clone())
                .v((*image).clone());
        },
    )
    .await?;
    let labels: Vec<(&WorkloadRecord, &String, &String)> = snapshot
        .workloads
        .iter()
        .flat_map(|w| w.labels.iter().map(move |(k, v)| (w, k, v)))
        .collect();
    insert_rows(
        conn,
        backend,
        "INSERT INTO workload_labels (cluster, namespace, kind, name, label_key, label_value) \
         VALUES ",
        "",
        6,
        &labels,
        |row, (w, k, v)| {
            row.v(cluster.to_string())
                .v(w.id.namespace.clone())
                .v(w.id.kind.clone())
                .v(w.id.name.clone())
                .v((*k).clone())
                .v((*v).clone());
        },
    )
    .await?;
    insert_images(backend, conn, cluster, snapshot).await?;
    let objects: Vec<(usize, &str)> = snapshot
        .objects
        .iter()
        .map(|o| o.get())
        .enumerate()
        .collect();
    insert_positioned(backend, conn, "objects", cluster, &objects).await?;
    let diagnostics: Vec<(usize, String)> =
        snapshot.diagnostics.iter().map(json).enumerate().collect();
    insert_positioned(backend, conn, "diagnostics", cluster, &diagnostics).await?;
    Ok(())
}

/// `items` without repeats, first occurrence kept.
fn dedup(items: &[String]) -> Vec<&String> {
    let mut seen = std::collections::HashSet::new();
    items.iter().filter(|i| seen.insert(i.as_str())).collect()
}

async fn insert_images(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    cluster: &str,
    snapshot: &Snapshot,
) -> Result<()> {
    // The same reference twice: the later record wins.
    let mut by_reference: BTreeMap<&str, &ImageRecord> = BTreeMap::new();
    for image in &snapshot.images {
        by_reference.insert(image.reference.as_str(), image);
    }
    let images: Vec<&ImageRecord> = by_reference.into_values().collect();
    insert_rows(
        conn,
        backend,
        "INSERT INTO images (cluster, reference, digest) VALUES ",
        "",
        3,
        &images,
        |row, image| {
            row.v(cluster.to_string())
                .v(image.reference.clone())
                .v(image.digest.clone());
        },
    )
    .await?;
    let vulns: Vec<_> = images
        .iter()
        .flat_map(|i| i.vulnerabilities.iter().map(move |v| (i, v)))
        .collect();
    insert_rows(
        conn,
        backend,
        "INSERT INTO image_vulns (cluster, reference, vuln_id, package, version, fixed, \
         severity, sev_rank) VALUES ",
        " ON CONFLICT (cluster, reference, vuln_id, package, version) DO NOTHING",
        8,
        &vulns,
        |row, (image, v)| {
            row.v(cluster.to_string())
                .v(image.reference.clone())
                .v(v.id.clone())
                .v(v.package.clone())
                .v(v.version.clone())
                .v(v.fixed.clone())
                .v(v.severity.as_str())
                .v(sev_rank(v.severity));
        },
    )
    .await?;
    Ok(())
}

/// Inserts JSON bodies kept in their order.
async fn insert_positioned(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    table: &str,
    cluster: &str,
    bodies: &[(usize, impl AsRef<str>)],
) -> Result<()> {
    insert_rows(
        conn,
        backend,
        &format!("INSERT INTO {table} (cluster, position, body) VALUES "),
        "",
        3,
        bodies,
        |row, (position, body)| {
            row.v(cluster.to_string())
                .v(*position as i64)
                .v(body.as_ref().to_string());
        },
    )
    .await?;
    Ok(())
}
