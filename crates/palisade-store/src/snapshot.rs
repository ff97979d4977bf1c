//! Snapshot ingest: a cluster's whole state replaced in one transaction, with finding history.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use palisade_api::{
    FindingRecord, ImageRecord, IngestAck, ObjectKey, RawObject, Snapshot, SnapshotCounts,
    SnapshotHeader, WorkloadRecord,
};
use palisade_model::Diagnostic;
use palisade_model::time::Timestamp;
use sqlx::{Any, Connection, Transaction};

use crate::Store;
use crate::dialect::Backend;
use crate::error::{Result, StoreError};
use crate::history::{self, Sighting};
use crate::sql::{Sql, insert_rows};
use crate::values::{Get, json, ms, ns_column, sev_rank};

/// Finding rows a push writes from which PostgreSQL's statistics are refreshed after it.
const ANALYZE_AFTER_ROWS: u64 = 10_000;
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

/// Refuses a snapshot without a cluster or id.
fn validate_header(cluster: &str, header: &SnapshotHeader) -> Result<()> {
    if cluster.trim().is_empty() {
        return Err(StoreError::invalid("cluster", "must not be empty"));
    }
    if header.id.trim().is_empty() {
        return Err(StoreError::invalid("id", "must not be empty"));
    }
    Ok(())
}

/// Refuses what central must not store: Secret values. `first` is the position of
/// `objects[0]` among the snapshot's objects (errors name the position).
fn validate_objects(first: usize, objects: &[RawObject]) -> Result<()> {
    for (i, object) in objects.iter().enumerate() {
        let i = first + i;
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

/// What [`validate_objects`] reads of an object: its kind and whether it carries Secret values (a
/// field that is present and not `null`). Everything else is skipped unparsed.
#[derive(serde::Deserialize)]
struct SecretProbe {
    kind: Option<String>,
    data: Option<serde::de::IgnoredAny>,
    #[serde(rename = "stringData")]
    string_data: Option<serde::de::IgnoredAny>,
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

/// A part of a snapshot as it reaches the store: records of one kind, borrowed (a whole
/// [`Snapshot`] in memory) or owned (a batch parsed from a stream).
#[derive(Debug, Clone)]
pub enum SnapshotPart<'s> {
    /// Findings.
    Findings(Cow<'s, [FindingRecord]>),
    /// Kubernetes objects, in the snapshot's order.
    Objects(Cow<'s, [RawObject]>),
    /// Diagnostics, in the snapshot's order.
    Diagnostics(Cow<'s, [Diagnostic]>),
    /// Workloads.
    Workloads(Cow<'s, [WorkloadRecord]>),
    /// Images.
    Images(Cow<'s, [ImageRecord]>),
    /// Every part was given: the push may commit (once the counts match its header).
    End,
}

/// Where [`Store::push_snapshot_parts`] takes a snapshot's parts from, one at a time: a whole
/// snapshot in memory, or a channel that a stream's parser fills. A channel that closes before
/// [`SnapshotPart::End`] means the snapshot broke off: nothing is stored.
pub struct SnapshotParts<'s>(Source<'s>);

enum Source<'s> {
    Whole(std::vec::IntoIter<SnapshotPart<'s>>),
    Channel(tokio::sync::mpsc::Receiver<SnapshotPart<'static>>),
}

impl<'s> SnapshotParts<'s> {
    /// The parts of `snapshot`: each kind as one borrowed slice.
    fn whole(snapshot: &'s Snapshot) -> SnapshotParts<'s> {
        let parts = vec![
            SnapshotPart::Findings(Cow::Borrowed(&snapshot.findings)),
            SnapshotPart::Objects(Cow::Borrowed(&snapshot.objects)),
            SnapshotPart::Diagnostics(Cow::Borrowed(&snapshot.diagnostics)),
            SnapshotPart::Workloads(Cow::Borrowed(&snapshot.workloads)),
            SnapshotPart::Images(Cow::Borrowed(&snapshot.images)),
            SnapshotPart::End,
        ];
        SnapshotParts(Source::Whole(parts.into_iter()))
    }

    /// The parts sent into `receiver`, ending with [`SnapshotPart::End`].
    pub fn channel(
        receiver: tokio::sync::mpsc::Receiver<SnapshotPart<'static>>,
    ) -> SnapshotParts<'s> {
        SnapshotParts(Source::Channel(receiver))
    }

    /// The next part.
    async fn next_part(&mut self) -> Option<SnapshotPart<'s>> {
        match &mut self.0 {
            Source::Whole(parts) => parts.next(),
            Source::Channel(receiver) => receiver.recv().await,
        }
    }
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
        let header = SnapshotHeader::of(snapshot);
        self.push_snapshot_parts(
            cluster,
            &header,
            SnapshotParts::whole(snapshot),
            received_at,
        )
        .await
    }

    /// [`Store::push_snapshot`] for a snapshot that arrives in parts (a stream): each part is
    /// written as it comes, in the push's one transaction, which commits only after
    /// [`SnapshotPart::End`] and only if the records of each kind are as many as `header`
    /// says ([`StoreError::Invalid`] naming the kind otherwise). A repeated id still takes
    /// every part (and stores none).
    pub async fn push_snapshot_parts<'s>(
        &self,
        cluster: &str,
        header: &SnapshotHeader,
        parts: SnapshotParts<'s>,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        validate_header(cluster, header)?;
        if self.backend() != Backend::Sqlite {
            let tx = self.pool().begin().await?;
            return self
                .store_snapshot(tx, cluster, header, parts, received_at)
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
                self.store_snapshot(tx, cluster, header, parts, received_at)
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

    /// Refreshes PostgreSQL's planner statistics in the background after a push that wrote
    /// many findings: until autovacuum gets to it, the planner would scan a cluster's findings
    /// instead of walking the findings index (a page then takes tens of milliseconds instead of
    /// a few; `Store::prune` also ends with `ANALYZE`).
    fn analyze_later(&self) {
        self.run_later("ANALYZE findings, workloads", "background ANALYZE failed");
    }

    /// Copies the write-ahead log into the database file in the background (SQLite), without
    /// waiting for readers: what a commit's automatic checkpoint would have done.
    fn checkpoint_later(&self) {
        self.run_later(
            "PRAGMA wal_checkpoint(PASSIVE)",
            "background checkpoint failed",
        );
    }

    /// Runs `statement` in a task of its own after a push; a failure is logged as `failed`
    /// unless the store was closed meanwhile (SQLite then checkpoints as its last connection
    /// closes).
    fn run_later(&self, statement: &'static str, failed: &'static str) {
        let store = self.clone();
        tokio::spawn(async move {
            if let Err(e) = store.sql(statement).execute(store.pool()).await
                && !store.pool().is_closed()
            {
                tracing::warn!(error = %e, "{failed}");
            }
        });
    }

    /// [`Store::push_snapshot_parts`] in `tx`.
    async fn store_snapshot<'s>(
        &self,
        mut tx: Transaction<'_, Any>,
        cluster: &str,
        header: &SnapshotHeader,
        mut parts: SnapshotParts<'s>,
        received_at: Timestamp,
    ) -> Result<IngestAck> {
        let records = header.counts.total();
        let push = Push {
            what: "snapshot",
            cluster,
            id: &header.id,
            scanned_at: header.scanned_at,
            tool_version: &header.tool_version,
            source: &header.source,
            workloads: header.counts.workloads as usize,
            findings: header.counts.findings as usize,
        };
        let Some((now, previous)) = self.begin_push(&mut tx, &push, received_at).await? else {
            // A repeat: its parts are taken (and checked) but not stored.
            let mut received = SnapshotCounts::default();
            loop {
                match parts.next_part().await {
                    Some(SnapshotPart::End) => break,
                    Some(part) => received.add(&part),
                    None => return Err(broke_off()),
                }
            }
            check_counts(&header.counts, &received)?;
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
        let backend = self.backend();
        let mut history = history::History::start(
            backend,
            &mut tx,
            cluster,
            history::Scope::Cluster,
            now,
            previous,
        )
        .await?;
        let mut received = SnapshotCounts::default();
        let mut open = OpenFindings::default();
        let mut workloads: Vec<Cow<'s, [WorkloadRecord]>> = Vec::new();
        let mut images: Vec<Cow<'s, [ImageRecord]>> = Vec::new();
        // Time spent waiting for parts and writing each kind (a debug log line at the end).
        let mut spent = Spent::default();
        loop {
            let waited = Instant::now();
            let Some(part) = parts.next_part().await else {
                return Err(broke_off());
            };
            spent.waiting += waited.elapsed();
            let writing = Instant::now();
            let (objects_before, diagnostics_before) = (received.objects, received.diagnostics);
            received.add(&part);
            match part {
                SnapshotPart::End => break,
                SnapshotPart::Findings(findings) => {
                    open.count(&findings);
                    history.add(&mut tx, &findings).await?;
                    spent.findings += writing.elapsed();
                }
                SnapshotPart::Objects(objects) => {
                    validate_objects(objects_before as usize, &objects)?;
                    let bodies: Vec<(usize, &str)> = objects
                        .iter()
                        .enumerate()
                        .map(|(i, o)| (objects_before as usize + i, o.get()))
                        .collect();
                    insert_positioned(backend, &mut tx, "objects", cluster, &bodies).await?;
                    spent.objects += writing.elapsed();
                }
                SnapshotPart::Diagnostics(diagnostics) => {
                    let bodies: Vec<(usize, String)> = diagnostics
                        .iter()
                        .enumerate()
                        .map(|(i, d)| (diagnostics_before as usize + i, json(d)))
                        .collect();
                    insert_positioned(backend, &mut tx, "diagnostics", cluster, &bodies).await?;
                }
                SnapshotPart::Workloads(part) => workloads.push(part),
                SnapshotPart::Images(part) => images.push(part),
            }
        }
        check_counts(&header.counts, &received)?;
        let ending = Instant::now();
        let workloads: Vec<&WorkloadRecord> = workloads.iter().flat_map(|p| p.iter()).collect();
        insert_workloads(backend, &mut tx, cluster, &workloads, &open).await?;
        let images: Vec<&ImageRecord> = images.iter().flat_map(|p| p.iter()).collect();
        insert_images(backend, &mut tx, cluster, &images).await?;
        let written = history.written();
        history.finish(&mut tx).await?;
        let ack = self.finish_push(tx, cluster, now, records).await?;
        if backend == Backend::Postgres && written >= ANALYZE_AFTER_ROWS {
            self.analyze_later();
        }
        tracing::debug!(
            cluster,
            waiting_ms = spent.waiting.as_millis() as u64,
            findings_ms = spent.findings.as_millis() as u64,
            objects_ms = spent.objects.as_millis() as u64,
            end_ms = ending.elapsed().as_millis() as u64,
            "snapshot written"
        );
        Ok(ack)
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

/// Where a push's time went.
#[derive(Default)]
struct Spent {
    waiting: Duration,
    findings: Duration,
    objects: Duration,
}

/// The snapshot broke off before its end.
fn broke_off() -> StoreError {
    StoreError::invalid(
        "snapshot",
        "the snapshot ended before all of its parts arrived",
    )
}

/// [`StoreError::Invalid`] unless the records of each kind are as many as announced.
fn check_counts(announced: &SnapshotCounts, received: &SnapshotCounts) -> Result<()> {
    for (kind, announced, received) in [
        ("workloads", announced.workloads, received.workloads),
        ("findings", announced.findings, received.findings),
        ("images", announced.images, received.images),
        ("objects", announced.objects, received.objects),
        ("diagnostics", announced.diagnostics, received.diagnostics),
    ] {
        if announced != received {
            return Err(StoreError::invalid(
                format!("counts.{kind}"),
                format!("the header announced {announced} {kind}, {received} arrived"),
            ));
        }
    }
    Ok(())
}

/// Counting the records of each part.
trait CountParts {
    fn add(&mut self, part: &SnapshotPart<'_>);
}

impl CountParts for SnapshotCounts {
    fn add(&mut self, part: &SnapshotPart<'_>) {
        match part {
            SnapshotPart::Findings(p) => self.findings += p.len() as u64,
            SnapshotPart::Objects(p) => self.objects += p.len() as u64,
            SnapshotPart::Diagnostics(p) => self.diagnostics += p.len() as u64,
            SnapshotPart::Workloads(p) => self.workloads += p.len() as u64,
            SnapshotPart::Images(p) => self.images += p.len() as u64,
            SnapshotPart::End => {}
        }
    }
}

/// Findings per object (namespace, kind, name): a workload's `open_findings` column.
#[derive(Default)]
pub(crate) struct OpenFindings {
    /// Keyed by `namespace \0 kind \0 name` (one allocation per object, not per finding).
    by_object: HashMap<String, i64>,
    key: String,
}

impl OpenFindings {
    /// Counts each of `findings` under its object.
    pub(crate) fn count(&mut self, findings: &[FindingRecord]) {
        for f in findings {
            self.set_key(
                ns_column(&f.object.namespace),
                &f.object.kind,
                &f.object.name,
            );
            match self.by_object.get_mut(self.key.as_str()) {
                Some(n) => *n += 1,
                None => {
                    self.by_object.insert(self.key.clone(), 1);
                }
            }
        }
    }

    /// Sets the count of `key`'s object to `n`.
    pub(crate) fn set(&mut self, key: &ObjectKey, n: i64) {
        self.set_key(ns_column(&key.namespace), &key.kind, &key.name);
        self.by_object.insert(self.key.clone(), n);
    }

    /// The findings counted on `w`'s object.
    fn of(&self, w: &WorkloadRecord) -> i64 {
        let key = format!("{}\0{}\0{}", w.id.namespace, w.id.kind, w.id.name);
        self.by_object.get(&key).copied().unwrap_or(0)
    }

    fn set_key(&mut self, namespace: &str, kind: &str, name: &str) {
        self.key.clear();
        for (i, part) in [namespace, kind, name].into_iter().enumerate() {
            if i > 0 {
                self.key.push('\0');
            }
            self.key.push_str(part);
        }
    }
}

/// Inserts `snapshot`'s workloads (with their images and labels), images (with their
/// vulnerabilities), objects and diagnostics: a sensor's delta, which is a partial snapshot.
/// A workload's open-finding count is that of its findings in `snapshot`, or for an object in
/// `kept`, the count given there.
pub(crate) async fn insert_state(
    backend: Backend,
    tx: &mut Transaction<'_, Any>,
    cluster: &str,
    snapshot: &Snapshot,
    kept: &HashMap<ObjectKey, i64>,
) -> Result<()> {
    let mut open = OpenFindings::default();
    open.count(&snapshot.findings);
    for (key, n) in kept {
        open.set(key, *n);
    }
    let workloads: Vec<&WorkloadRecord> = snapshot.workloads.iter().collect();
    insert_workloads(backend, tx, cluster, &workloads, &open).await?;
    let images: Vec<&ImageRecord> = snapshot.images.iter().collect();
    insert_images(backend, tx, cluster, &images).await?;
    let objects: Vec<(usize, &str)> = snapshot
        .objects
        .iter()
        .map(|o| o.get())
        .enumerate()
        .collect();
    insert_positioned(backend, tx, "objects", cluster, &objects).await?;
    let diagnostics: Vec<(usize, String)> =
        snapshot.diagnostics.iter().map(json).enumerate().collect();
    insert_positioned(backend, tx, "diagnostics", cluster, &diagnostics).await?;
    Ok(())
}

/// Inserts `workloads` with their images and labels; `open` counts their findings.
async fn insert_workloads(
    backend: Backend,
    tx: &mut Transaction<'_, Any>,
    cluster: &str,
    workloads: &[&WorkloadRecord],
    open: &OpenFindings,
) -> Result<()> {
    let conn = &mut **tx;
    insert_rows(
        conn,
        backend,
        "INSERT INTO workloads (cluster, namespace, kind, name, labels, service_account, images, \
         risk_score, risk_rank, risk_factors, owner, open_findings) VALUES ",
        "",
        12,
        workloads,
        |row, w: &&WorkloadRecord| {
            let risk = w.risk.as_ref();
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
                .v(open.of(w));
        },
    )
    .await?;

    let workload_images: Vec<(&WorkloadRecord, &String)> = workloads
        .iter()
        .flat_map(|w| dedup(&w.images).into_iter().map(move |i| (*w, i)))
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
    let labels: Vec<(&WorkloadRecord, &String, &String)> = workloads
        .iter()
        .flat_map(|w| w.labels.iter().map(move |(k, v)| (*w, k, v)))
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
    Ok(())
}

/// `items` without repeats, first occurrence kept.
fn dedup(items: &[String]) -> Vec<&String> {
    let mut seen = std::collections::HashSet::new();
    items.iter().filter(|i| seen.insert(i.as_str())).collect()
}

/// Inserts `images` with their vulnerabilities.
async fn insert_images(
    backend: Backend,
    tx: &mut Transaction<'_, Any>,
    cluster: &str,
    records: &[&ImageRecord],
) -> Result<()> {
    let conn = &mut **tx;
    // The same reference twice: the later record wins.
    let mut by_reference: BTreeMap<&str, &ImageRecord> = BTreeMap::new();
    for image in records.iter().copied() {
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
    tx: &mut Transaction<'_, Any>,
    table: &str,
    cluster: &str,
    bodies: &[(usize, impl AsRef<str>)],
) -> Result<()> {
    insert_rows(
        tx,
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
