//! The findings query: filters, status (new/open/resolved/suppressed), keyset pages.

use palisade_api::{FindingQuery, FindingStatus, FindingView, Page};
use palisade_model::finding::Severity;
use palisade_model::time::Timestamp;
use serde_json::Value;
use sqlx::any::AnyRow;

use crate::error::Result;
use crate::values::{Get, day, ms, object_key, page_size, sev_rank, severity, ts};
use crate::{Store, cursor};

/// The lowest id of an exception active on day `today` (a placeholder) matching finding `f`.
pub(crate) fn matching_exception(today: &str) -> String {
    format!(
        "(SELECT MIN(e.id) FROM exceptions e WHERE e.revoked_ms IS NULL AND e.expires >= {today} \
         AND (e.cluster IS NULL OR e.cluster = f.cluster) \
         AND (e.check_id IS NULL OR e.check_id = f.check_id) \
         AND (e.namespace IS NULL OR e.namespace = f.namespace) \
         AND (e.name IS NULL OR e.name = f.name) \
         AND (e.fingerprint IS NULL OR e.fingerprint = f.fingerprint))"
    )
}

/// The current snapshot of finding `f`'s cluster (a subquery rather than a join, so that the
/// planner walks the findings index in page order and stops after one page).
const CURRENT_SEQ: &str = "(SELECT c.current_seq FROM clusters c WHERE c.name = f.cluster)";
/// When finding `f` was last seen: its cluster's current snapshot while it is open (see
/// `history`), the last snapshot that had it once resolved.
const LAST_SEEN: &str = "CASE WHEN f.resolved_ms IS NULL THEN \
     (SELECT c.last_scanned_ms FROM clusters c WHERE c.name = f.cluster) ELSE f.last_seen_ms END";

/// The sort key of findings, worst first: severity rank, cluster, namespace, kind, name,
/// check, fingerprint (unique within a cluster).
const ORDER: &str = "f.sev_rank, f.cluster, f.namespace, f.kind, f.name, f.check_id, f.fingerprint";
/// [`ORDER`] within one cluster.
const ORDER_IN_CLUSTER: &str = "f.sev_rank, f.namespace, f.kind, f.name, f.check_id, f.fingerprint";
const TAG: &str = "findings";

fn key_of(row: &AnyRow) -> Result<Vec<Value>> {
    Ok(vec![
        row.int("sev_rank")?.into(),
        row.text("cluster")?.into(),
        row.text("namespace")?.into(),
        row.text("kind")?.into(),
        row.text("name")?.into(),
        row.text("check_id")?.into(),
        row.text("fingerprint")?.into(),
    ])
}

fn view(row: &AnyRow) -> Result<FindingView> {
    let exception_id = row.opt_int("exception_id")?;
    let resolved = row.opt_int("resolved_ms")?;
    let status = if resolved.is_some() {
        FindingStatus::Resolved
    } else if exception_id.is_some() {
        FindingStatus::Suppressed
    } else if row.opt_int("current_seq")? == Some(row.int("first_seq")?) {
        FindingStatus::New
    } else {
        FindingStatus::Open
    };
    Ok(FindingView {
        cluster: row.text("cluster")?,
        fingerprint: row.text("fingerprint")?,
        check_id: row.text("check_id")?,
        severity: severity(&row.text("severity")?)?,
        title: row.text("title")?,
        message: row.text("message")?,
        object: object_key(row)?,
        container: row.opt_text("container")?,
        path: row.opt_text("path")?,
        status,
        first_seen: ts(row.int("first_seen_ms")?),
        last_seen: ts(row.int("last_seen_ms")?),
        resolved_at: resolved.map(ts),
        exception_id: if resolved.is_some() {
            None
        } else {
            exception_id
        },
    })
}

/// Above this many clusters a page across clusters is one query sorting every matching
/// finding, instead of one index walk per cluster merged.
const MAX_MERGED_CLUSTERS: usize = 200;

/// Appends one `SELECT` of findings (columns, `query`'s filters, `cluster` when given).
fn push_select(
    sql: &mut crate::sql::Sql,
    query: &FindingQuery,
    cluster: Option<&str>,
    now: Timestamp,
) {
    let today = sql.arg(day(now.date()));
    let exception = matching_exception(&today);
    sql.push(&format!(
        "SELECT f.cluster, f.fingerprint, f.check_id, f.severity, f.sev_rank, f.title, \
         f.message, f.kind, f.namespace, f.name, f.container, f.path, f.first_seen_ms, \
         {LAST_SEEN} AS last_seen_ms, f.resolved_ms, f.first_seq, \
         {CURRENT_SEQ} AS current_seq, \
         {exception} AS exception_id FROM findings f WHERE 1 = 1"
    ));
    sql.filter(" AND f.cluster = ", cluster.map(str::to_string));
    sql.filter(" AND f.namespace = ", query.namespace.clone());
    sql.filter(" AND f.check_id = ", query.check.clone());
    if query.namespace.is_some() {
        // The severities as a list, not a range: the (cluster, sev_rank, namespace, …)
        // index then seeks each severity's part of the namespace (SQLite scanned the whole
        // cluster's findings and sorted them: 33 ms against 3 ms at 200,000 findings).
        let worst = query.severity.map_or(sev_rank(Severity::Info), sev_rank);
        sql.push(" AND f.sev_rank IN (");
        for rank in 0..=worst {
            sql.push(if rank == 0 { "" } else { "," }).bind(rank);
        }
        sql.push(")");
    } else {
        sql.filter(" AND f.sev_rank <= ", query.severity.map(sev_rank));
    }
    sql.filter(" AND f.first_seen_ms >= ", query.since.map(ms));
    if query.status == Some(FindingStatus::Resolved) {
        sql.push(" AND f.resolved_ms IS NOT NULL");
    } else {
        // Each placeholder is used once: the day is bound again for this test.
        let today = sql.arg(day(now.date()));
        let suppressed = query.status == Some(FindingStatus::Suppressed);
        sql.push(&format!(
            " AND f.resolved_ms IS NULL AND {} IS {}NULL",
            matching_exception(&today),
            if suppressed { "NOT " } else { "" }
        ));
        let first_seen_in = match query.status {
            Some(FindingStatus::New) => "=",
            Some(FindingStatus::Open) => "<>",
            _ => "",
        };
        if !first_seen_in.is_empty() {
            sql.push(&format!(" AND f.first_seq {first_seen_in} {CURRENT_SEQ}"));
        }
    }
}

/// Appends `AND (ORDER_IN_CLUSTER) > (key without its cluster)`.
fn push_after_in_cluster(sql: &mut crate::sql::Sql, key: &[Value]) -> Result<()> {
    sql.push(&format!(" AND ({ORDER_IN_CLUSTER}) > ("));
    sql.bind(cursor::int(key, 0)?);
    for i in 2..7 {
        sql.push(",").bind(cursor::text(key, i)?);
    }
    sql.push(")");
    Ok(())
}

impl Store {
    /// Findings with their history, filtered and paginated (worst first, then cluster,
    /// namespace, kind, name, check); exceptions are those active at `now`. Without a status
    /// filter: new and open findings (not suppressed ones).
    ///
    /// One cluster's page walks the `(cluster, sev_rank, namespace, …)` index. A page across
    /// clusters walks it once per cluster (each walk stops after a page) and merges the walks:
    /// there is no second index ordered by severity first, which would cost every push a
    /// fifth of its time (docs/benchmarks.md).
    pub async fn findings(
        &self,
        query: &FindingQuery,
        now: Timestamp,
    ) -> Result<Page<FindingView>> {
        let limit = page_size(query.limit);
        let key = match &query.cursor {
            Some(c) => Some(cursor::decode(TAG, 7, c)?),
            None => None,
        };
        let mut sql = self.sql("");
        if let Some(cluster) = &query.cluster {
            push_select(&mut sql, query, Some(cluster), now);
            if let Some(key) = &key {
                push_after_in_cluster(&mut sql, key)?;
            }
            sql.push(&format!(" ORDER BY {ORDER_IN_CLUSTER} LIMIT "))
                .bind(limit + 1);
        } else {
            let clusters = self.cluster_names().await?;
            if clusters.is_empty() {
                return cursor::page(&[], limit, TAG, key_of, view);
            }
            if clusters.len() > MAX_MERGED_CLUSTERS {
                push_select(&mut sql, query, None, now);
                if let Some(key) = &key {
                    sql.push(&format!(" AND ({ORDER}) > ("));
                    sql.bind(cursor::int(key, 0)?);
                    for i in 1..7 {
                        sql.push(",").bind(cursor::text(key, i)?);
                    }
                    sql.push(")");
                }
            } else {
                sql.push("SELECT * FROM (");
                for (i, cluster) in clusters.iter().enumerate() {
                    sql.push(if i == 0 {
                        "SELECT * FROM ("
                    } else {
                        " UNION ALL SELECT * FROM ("
                    });
                    push_select(&mut sql, query, Some(cluster), now);
                    if let Some(key) = &key {
                        // After the cursor in the order (severity, cluster, …): in the
                        // cursor's cluster, after its key; in a later cluster, from its
                        // severity on; in an earlier one, from the next severity on.
                        let at = cursor::text(key, 1)?;
                        match cluster.cmp(&at) {
                            std::cmp::Ordering::Equal => push_after_in_cluster(&mut sql, key)?,
                            std::cmp::Ordering::Greater => {
                                sql.push(" AND f.sev_rank >= ").bind(cursor::int(key, 0)?);
                            }
                            std::cmp::Ordering::Less => {
                                sql.push(" AND f.sev_rank > ").bind(cursor::int(key, 0)?);
                            }
                        }
                    }
                    sql.push(&format!(" ORDER BY {ORDER_IN_CLUSTER} LIMIT "))
                        .bind(limit + 1);
                    sql.push(&format!(") m{i}"));
                }
                sql.push(") f");
            }
            sql.push(&format!(" ORDER BY {ORDER} LIMIT "))
                .bind(limit + 1);
        }
        let rows = sql.fetch_all(self.pool()).await?;
        cursor::page(&rows, limit, TAG, key_of, view)
    }
}
