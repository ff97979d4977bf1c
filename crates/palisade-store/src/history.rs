//! Finding history: what a push changes in a cluster's findings.
//!
//! A pushed finding is *new* (never stored, or resolved before: reopened), *changed* (open, with
//! other text), *unchanged* (open, same text) or *gone* (open before, absent now). Only new and
//! changed findings are written and only gone ones are updated (resolved), so a push that
//! changes 10% of 200,000 findings touches 10% of the rows, and rows go in sorted by the page
//! order so the B-trees grow at their ends.
//!
//! A sensor's delta speaks only for the objects it names ([`Scope::Objects`]): open findings of
//! other objects are left alone.
//!
//! An open finding's last sighting is its cluster's current snapshot: `last_seen_ms` and
//! `seen_seq` are written when it is resolved (the previous snapshot, the last one that had it),
//! and queries read the cluster's for open findings.

use std::collections::HashMap;

use palisade_api::{FindingRecord, ObjectKey};
use palisade_model::finding::Severity;
use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};

use crate::counts::{self, Tally};
use crate::dialect::Backend;
use crate::error::Result;
use crate::sql::{MAX_BINDS, Sql, insert_rows};
use crate::values::{Get, ns_column, sev_rank};

/// A snapshot as the history refers to it: its sequence number and when it was scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sighting {
    /// `snapshots.seq`.
    pub seq: i64,
    /// `snapshots.scanned_ms`.
    pub scanned_ms: i64,
}

/// Which open findings a push speaks for: those it does not list are gone.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// The whole cluster (a snapshot).
    Cluster,
    /// The findings on these objects only (a sensor's delta: changed and deleted objects).
    Objects(&'a [ObjectKey]),
}

/// Records `findings` as the current findings of `scope` in `cluster`, seen in push `now`;
/// `previous` is the cluster's push before it (none for a first push). A fingerprint repeated
/// in `findings` is one finding (the last record wins).
pub(crate) async fn record(
    backend: Backend,
    tx: &mut Transaction<'_, Any>,
    cluster: &str,
    findings: &[FindingRecord],
    scope: Scope<'_>,
    now: Sighting,
    previous: Option<Sighting>,
) -> Result<()> {
    let mut history = History::start(backend, tx, cluster, scope, now, previous).await?;
    history.add(tx, findings).await?;
    history.finish(tx).await
}

/// A push's findings recorded batch by batch (a snapshot stream hands them over as they
/// arrive): [`History::start`], [`History::add`] per batch, [`History::finish`] to resolve
/// what did not come. A fingerprint repeated across batches is one finding: the last record
/// wins, as within one batch.
pub(crate) struct History {
    backend: Backend,
    cluster: String,
    now: Sighting,
    previous: Option<Sighting>,
    /// Open before this push and not seen in it yet.
    open: HashMap<String, Open>,
    /// Seen in this push: what is stored for it now.
    seen: HashMap<String, Seen>,
    /// The cluster had no finding rows: new ones go in without a conflict check.
    fresh: bool,
    tally: Tally,
    /// Rows written (new, changed or reopened).
    written: u64,
}

/// A finding seen in this push, as stored now.
struct Seen {
    digest: i64,
    severity: Severity,
}

impl History {
    /// Reads the open findings of `scope` (none for a cluster's first push).
    pub(crate) async fn start(
        backend: Backend,
        tx: &mut Transaction<'_, Any>,
        cluster: &str,
        scope: Scope<'_>,
        now: Sighting,
        previous: Option<Sighting>,
    ) -> Result<History> {
        let open = match previous {
            Some(_) => open_digests(backend, tx, cluster, scope).await?,
            None => HashMap::new(),
        };
        // A cluster's first push usually finds no rows of it at all: then every finding is new
        // and is inserted without the conflict check an upsert makes per row (on PostgreSQL
        // that check — speculative insertion — cost 0.9 s per 210,000 rows;
        // docs/benchmarks.md).
        let fresh = previous.is_none() && !has_rows(backend, tx, cluster).await?;
        Ok(History {
            backend,
            cluster: cluster.to_string(),
            now,
            previous,
            open,
            seen: HashMap::new(),
            fresh,
            tally: Tally::default(),
            written: 0,
        })
    }

    /// Writes what is new or changed in `findings`, in page order.
    pub(crate) async fn add(
        &mut self,
        tx: &mut Transaction<'_, Any>,
        findings: &[FindingRecord],
    ) -> Result<()> {
        // Within the batch, the last record of a fingerprint wins.
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(findings.len());
        for (i, f) in findings.iter().enumerate() {
            last.insert(f.fingerprint.as_str(), i);
        }
        let mut write: Vec<(&FindingRecord, i64)> = Vec::new();
        let mut rewrite: Vec<(&FindingRecord, i64)> = Vec::new();
        for (i, f) in findings.iter().enumerate() {
            if last.get(f.fingerprint.as_str()) != Some(&i) {
                continue;
            }
            let digest = digest(f);
            if let Some(seen) = self.seen.get_mut(f.fingerprint.as_str()) {
                // Seen in an earlier batch: the later record replaces it.
                if seen.digest != digest {
                    self.tally.closed(seen.severity.as_str());
                    self.tally.opened(f.severity.as_str());
                    *seen = Seen {
                        digest,
                        severity: f.severity,
                    };
                    rewrite.push((f, digest));
                }
                continue;
            }
            let before = self.open.remove(f.fingerprint.as_str());
            self.seen.insert(
                f.fingerprint.clone(),
                Seen {
                    digest,
                    severity: f.severity,
                },
            );
            if before.as_ref().map(|b| b.digest) != Some(Some(digest)) {
                match before {
                    Some(b) => self.tally.closed(&b.severity),
                    None => self.tally.new += 1,
                }
                self.tally.opened(f.severity.as_str());
                write.push((f, digest));
            }
        }
        write.sort_unstable_by(|(a, _), (b, _)| a.storage_order().cmp(&b.storage_order()));
        self.written += (write.len() + rewrite.len()) as u64;
        let (backend, cluster, now) = (self.backend, self.cluster.as_str(), self.now);
        upsert(backend, tx, cluster, &write, now, self.fresh).await?;
        upsert(backend, tx, cluster, &rewrite, now, false).await
    }

    /// Finding rows written so far (new, changed or reopened).
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Resolves the findings open before and not seen in this push, and records the push's
    /// counts.
    pub(crate) async fn finish(mut self, tx: &mut Transaction<'_, Any>) -> Result<()> {
        let (backend, cluster) = (self.backend, self.cluster.as_str());
        if let Some(previous) = self.previous {
            let mut gone: Vec<String> = Vec::with_capacity(self.open.len());
            for (fingerprint, before) in self.open {
                self.tally.closed(&before.severity);
                gone.push(fingerprint);
            }
            self.tally.resolved = gone.len() as i64;
            gone.sort_unstable();
            resolve(backend, tx, cluster, &gone, self.now, previous).await?;
        }
        counts::record(backend, tx, cluster, &self.tally, self.now, self.previous).await
    }
}

/// An open finding as a push finds it: what decides whether to rewrite it and what it counted.
struct Open {
    /// [`digest`] of its stored text (none for rows written before digests).
    digest: Option<i64>,
    /// Its stored severity (`cluster_counts` counts it under this one).
    severity: String,
}

/// A finding's stored text, hashed: equal digests mean nothing to rewrite. Each field is
/// length-prefixed, and absent distinct from empty, so no two records share an encoding.
pub(crate) fn digest(f: &FindingRecord) -> i64 {
    let mut hash = Sha256::new();
    let mut field = |value: Option<&str>| match value {
        None => hash.update([0u8]),
        Some(text) => {
            hash.update([1u8]);
            hash.update((text.len() as u64).to_le_bytes());
            hash.update(text.as_bytes());
        }
    };
    field(Some(&f.check_id));
    field(Some(f.severity.as_str()));
    field(Some(&f.title));
    field(Some(&f.message));
    field(Some(&f.object.kind));
    field(f.object.namespace.as_deref());
    field(Some(&f.object.name));
    field(f.container.as_deref());
    field(f.path.as_deref());
    let bytes: [u8; 8] = hash.finalize()[..8].try_into().expect("8 of 32 bytes");
    i64::from_le_bytes(bytes)
}

/// The open findings of `scope` in `cluster`, by fingerprint.
async fn open_digests(
    backend: Backend,
    tx: &mut Transaction<'_, Any>,
    cluster: &str,
    scope: Scope<'_>,
) -> Result<HashMap<String, Open>> {
    let select = |keys: Option<&[ObjectKey]>| {
        let mut sql = Sql::new(
            backend,
            "SELECT fingerprint, digest, severity FROM findings WHERE cluster = ",
        );
        sql.bind(cluster.to_string())
            .push(" AND resolved_ms IS NULL");
        if let Some(keys) = keys {
            sql.push(" AND (");
            for (i, key) in keys.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { " OR (" });
                sql.push("namespace = ")
                    .bind(ns_column(&key.namespace).to_string());
                sql.push(" AND kind = ").bind(key.kind.clone());
                sql.push(" AND name = ").bind(key.name.clone());
                sql.push(")");
            }
            sql.push(")");
        }
        sql
    };
    let statements = match scope {
        Scope::Cluster => vec![select(None)],
        Scope::Objects(keys) => keys
            .chunks(MAX_BINDS / 3 - 1)
            .map(|c| select(Some(c)))
            .collect(),
    };
    let mut open = HashMap::new();
    for sql in statements {
        for row in sql.fetch_all(&mut **tx).await? {
            let before = Open {
                digest: row.opt_int("digest")?,
                severity: row.text("severity")?,
            };
            open.insert(row.text("fingerprint")?, before);
        }
    }
    Ok(open)
}

/// Whether `cluster` has any finding rows, open or resolved.
async fn has_rows(backend: Backend, tx: &mut Transaction<'_, Any>, cluster: &str) -> Result<bool> {
    let mut sql = Sql::new(backend, "SELECT 1 AS one FROM findings WHERE cluster = ");
    sql.bind(cluster.to_string()).push(" LIMIT 1");
    Ok(!sql.fetch_all(&mut **tx).await?.is_empty())
}

/// Inserts new findings and rewrites changed or reopened ones: a resolved finding seen again is
/// reopened with a new first sighting; an open one keeps its first sighting. `fresh`: the
/// cluster has no finding rows, so none of these can conflict and they are plainly inserted.
async fn upsert(
    backend: Backend,
    tx: &mut Transaction<'_, Any>,
    cluster: &str,
    findings: &[(&FindingRecord, i64)],
    now: Sighting,
    fresh: bool,
) -> Result<()> {
    let conflict = if fresh { "" } else { UPSERT_TAIL };
    insert_rows(
        tx,
        backend,
        "INSERT INTO findings (cluster, fingerprint, check_id, severity, sev_rank, title, \
         message, kind, namespace, name, container, path, first_seen_ms, last_seen_ms, \
         resolved_ms, first_seq, seen_seq, digest) VALUES ",
        conflict,
        18,
        findings,
        |row, (f, digest)| {
            row.v(cluster.to_string())
                .v(f.fingerprint.clone())
                .v(f.check_id.clone())
                .v(f.severity.as_str())
                .v(sev_rank(f.severity))
                .v(f.title.clone())
                .v(f.message.clone())
                .v(f.object.kind.clone())
                .v(ns_column(&f.object.namespace).to_string())
                .v(f.object.name.clone())
                .v(f.container.clone())
                .v(f.path.clone())
                .v(now.scanned_ms)
                .v(now.scanned_ms)
                .v(None::<i64>)
                .v(now.seq)
                .v(now.seq)
                .v(*digest);
        },
    )
    .await?;
    Ok(())
}

/// How a pushed finding that is already stored is rewritten.
const UPSERT_TAIL: &str = " ON CONFLICT (cluster, fingerprint) DO UPDATE SET \
         check_id = excluded.check_id, severity = excluded.severity, \
         sev_rank = excluded.sev_rank, title = excluded.title, message = excluded.message, \
         kind = excluded.kind, namespace = excluded.namespace, name = excluded.name, \
         container = excluded.container, path = excluded.path, digest = excluded.digest, \
         first_seen_ms = CASE WHEN findings.resolved_ms IS NULL THEN findings.first_seen_ms \
         ELSE excluded.first_seen_ms END, \
         first_seq = CASE WHEN findings.resolved_ms IS NULL THEN findings.first_seq \
         ELSE excluded.first_seq END, \
         last_seen_ms = excluded.last_seen_ms, seen_seq = excluded.seen_seq, resolved_ms = NULL";

/// Resolves the `gone` fingerprints of `cluster`: resolved when `now` was scanned, last seen
/// in `previous`.
async fn resolve(
    backend: Backend,
    tx: &mut Transaction<'_, Any>,
    cluster: &str,
    gone: &[String],
    now: Sighting,
    previous: Sighting,
) -> Result<()> {
    for chunk in gone.chunks(MAX_BINDS - 4) {
        let mut sql = Sql::new(backend, "UPDATE findings SET resolved_ms = ");
        sql.bind(now.scanned_ms)
            .push(", last_seen_ms = ")
            .bind(previous.scanned_ms);
        sql.push(", seen_seq = ").bind(previous.seq);
        sql.push(" WHERE cluster = ").bind(cluster.to_string());
        sql.push(" AND fingerprint IN (");
        for (i, fingerprint) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(",");
            }
            sql.bind(fingerprint.clone());
        }
        sql.push(")");
        sql.execute(&mut **tx).await?;
    }
    Ok(())
}
