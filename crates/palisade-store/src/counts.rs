//! The overview's numbers, kept at push time rather than counted over every finding per
//! request: open findings per cluster and severity (`cluster_counts`) and the trend of each
//! cluster's current push (`clusters.new_n`, `clusters.resolved_n`).
//!
//! Invariants (checked against the counting queries, [`Store::counted_open_findings`] and
//! [`Store::counted_trends`], by the store's tests on both back ends):
//! * `cluster_counts` holds, per cluster and severity, the findings with `resolved_ms IS NULL`;
//!   every push adjusts it in its own transaction by what it opened and closed.
//! * `new_n` is the open findings whose `first_seq` is the cluster's current push and
//!   `resolved_n` the findings resolved when it was scanned (`resolved_ms = last_scanned_ms`).
//! * Exceptions are not in the kept numbers: they change with the calendar, so the findings
//!   that active exceptions suppress are counted when read (none when no exception is active).

use std::collections::{BTreeMap, HashMap};

use palisade_model::finding::Severity;
use palisade_model::time::Timestamp;
use sqlx::{Any, Transaction};

use crate::Store;
use crate::dialect::Backend;
use crate::error::Result;
use crate::findings::matching_exception;
use crate::history::Sighting;
use crate::sql::{MAX_BINDS, Sql};
use crate::values::{Get, day, severity};

/// Open findings per cluster (by name) and severity; severities without any are absent.
pub type OpenCounts = BTreeMap<String, BTreeMap<Severity, u64>>;

/// What one push changed in a cluster's counts.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Change of open findings per severity name.
    by_severity: HashMap<String, i64>,
    /// Findings the push opened (first seen, or seen again after being resolved).
    pub(crate) new: i64,
    /// Findings the push resolved.
    pub(crate) resolved: i64,
}

impl Tally {
    /// One more open finding of `severity`.
    pub(crate) fn opened(&mut self, severity: &str) {
        self.change(severity, 1);
    }

    /// One open finding of `severity` fewer.
    pub(crate) fn closed(&mut self, severity: &str) {
        self.change(severity, -1);
    }

    /// Adds `by` to `severity`'s change (a name is allocated once per severity, not per call).
    fn change(&mut self, severity: &str, by: i64) {
        match self.by_severity.get_mut(severity) {
            Some(n) => *n += by,
            None => {
                self.by_severity.insert(severity.to_string(), by);
            }
        }
    }
}

/// Applies push `now`'s `tally` to `cluster`'s counts (in the push's transaction).
pub(crate) async fn record(
    backend: Backend,
    tx: &mut Transaction<'_, Any>,
    cluster: &str,
    tally: &Tally,
    now: Sighting,
    previous: Option<Sighting>,
) -> Result<()> {
    let mut changes: Vec<(&String, &i64)> =
        tally.by_severity.iter().filter(|(_, n)| **n != 0).collect();
    changes.sort_unstable();
    for (severity, n) in changes {
        let mut sql = Sql::new(
            backend,
            "INSERT INTO cluster_counts (cluster, severity, open_n) VALUES (",
        );
        sql.bind(cluster.to_string())
            .push(",")
            .bind(severity.clone());
        sql.push(",").bind(*n).push(
            ") ON CONFLICT (cluster, severity) DO UPDATE SET \
             open_n = cluster_counts.open_n + excluded.open_n",
        );
        sql.execute(&mut **tx).await?;
    }
    // Resolved "when it was scanned": a push scanned at the same instant as the one before
    // shares that one's resolved findings (the rare case, counted).
    let resolved = match previous {
        Some(p) if p.scanned_ms == now.scanned_ms => {
            let mut sql = Sql::new(
                backend,
                "SELECT COUNT(*) AS n FROM findings WHERE cluster = ",
            );
            sql.bind(cluster.to_string())
                .push(" AND resolved_ms = ")
                .bind(now.scanned_ms);
            match sql.fetch_optional(&mut **tx).await? {
                Some(row) => row.int("n")?,
                None => 0,
            }
        }
        _ => tally.resolved,
    };
    let mut sql = Sql::new(backend, "UPDATE clusters SET new_n = ");
    sql.bind(tally.new).push(", resolved_n = ").bind(resolved);
    sql.push(" WHERE name = ").bind(cluster.to_string());
    sql.execute(&mut **tx).await?;
    Ok(())
}

/// Adds `n` findings of `cluster` and severity `name` to `counts` (negative: subtracts).
fn add(counts: &mut OpenCounts, cluster: String, name: &str, n: i64) -> Result<()> {
    let entry = counts
        .entry(cluster)
        .or_default()
        .entry(severity(name)?)
        .or_default();
    *entry = entry.saturating_add_signed(n);
    Ok(())
}

/// Reads `(cluster, severity, n)` rows into `counts`, `sign` 1 to add them, -1 to subtract.
async fn fold(store: &Store, sql: Sql, counts: &mut OpenCounts, sign: i64) -> Result<()> {
    for row in sql.fetch_all(store.pool()).await? {
        add(
            counts,
            row.text("cluster")?,
            &row.text("severity")?,
            sign * row.int("n")?,
        )?;
    }
    Ok(())
}

/// An exception's matchers, in `exceptions`' column order.
const MATCHERS: [&str; 5] = ["cluster", "check_id", "namespace", "name", "fingerprint"];

impl Store {
    /// Open findings per cluster and severity, without those an exception active at `now`
    /// suppresses: the kept counts minus the suppressed findings.
    pub(crate) async fn open_counts(&self, now: Timestamp) -> Result<OpenCounts> {
        let mut counts = OpenCounts::new();
        let kept = self.sql("SELECT cluster, severity, open_n AS n FROM cluster_counts");
        fold(self, kept, &mut counts, 1).await?;
        let suppressed = self.suppressed(now).await?;
        if let Some(sql) = suppressed {
            fold(self, sql, &mut counts, -1).await?;
        }
        for by_severity in counts.values_mut() {
            by_severity.retain(|_, n| *n > 0);
        }
        Ok(counts)
    }

    /// The query counting the open findings that exceptions active at `now` suppress, per
    /// cluster and severity; none when no exception is active. Each exception's findings are
    /// selected by its own matchers (so the findings indexes serve the ones naming a cluster
    /// or a fingerprint) and `UNION` counts a finding two exceptions match once.
    async fn suppressed(&self, now: Timestamp) -> Result<Option<Sql>> {
        let mut active = self.sql(&format!(
            "SELECT {} FROM exceptions WHERE revoked_ms IS NULL AND expires >= ",
            MATCHERS.join(", ")
        ));
        active.bind(day(now.date()));
        let exceptions: Vec<Vec<(&str, String)>> = active
            .fetch_each(self.pool(), |row| {
                let mut given = Vec::new();
                for column in MATCHERS {
                    if let Some(value) = row.opt_text(column)? {
                        given.push((column, value));
                    }
                }
                Ok(given)
            })
            .await?;
        if exceptions.is_empty() {
            return Ok(None);
        }
        if exceptions.len() * MATCHERS.len() >= MAX_BINDS {
            // Too many for one statement: one pass over the findings instead.
            return Ok(Some(self.scan(now, "IS NOT NULL")));
        }
        let mut sql = self.sql("SELECT u.cluster, u.severity, COUNT(*) AS n FROM (");
        for (i, matchers) in exceptions.into_iter().enumerate() {
            if i > 0 {
                sql.push(" UNION ");
            }
            sql.push(
                "SELECT f.cluster, f.fingerprint, f.severity FROM findings f \
                 WHERE f.resolved_ms IS NULL",
            );
            for (column, value) in matchers {
                sql.push(&format!(" AND f.{column} = ")).bind(value);
            }
        }
        sql.push(") u GROUP BY u.cluster, u.severity");
        Ok(Some(sql))
    }

    /// [`Store::clusters`]' open findings counted over every finding (what the kept counts
    /// must equal; slow on a large store, for checks).
    pub async fn counted_open_findings(&self, now: Timestamp) -> Result<OpenCounts> {
        let mut counts = OpenCounts::new();
        fold(self, self.scan(now, "IS NULL"), &mut counts, 1).await?;
        Ok(counts)
    }

    /// Counts open findings per cluster and severity in one pass over the findings, those
    /// whose lowest matching exception active at `now` `test`s (`IS NULL`: unsuppressed).
    fn scan(&self, now: Timestamp, test: &str) -> Sql {
        let mut sql = self.sql("");
        let today = sql.arg(day(now.date()));
        sql.push(&format!(
            "SELECT f.cluster, f.severity, COUNT(*) AS n FROM findings f \
             WHERE f.resolved_ms IS NULL AND {} {test} GROUP BY f.cluster, f.severity",
            matching_exception(&today)
        ));
        sql
    }
}
