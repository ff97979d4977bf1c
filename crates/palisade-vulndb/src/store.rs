//! SQL access: writing advisory batches, reading candidates and status.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use palisade_vuln::{Advisory, PackageKey, SourceKind};
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use palisade_model::time::{Clock, SystemClock};

use crate::{DbError, DbStatus, SourceInfo};

/// Names per query of an `IN (…)` list (SQLite allows 32766 parameters; keep statements small).
const IN_CHUNK: usize = 400;

pub(crate) fn sql_err(path: &Path) -> impl Fn(sqlx::Error) -> DbError + '_ {
    move |source| DbError::Sql {
        path: path.to_path_buf(),
        source,
    }
}

fn decode(path: &Path, id: &str, json: &str) -> Result<Advisory, DbError> {
    serde_json::from_str(json).map_err(|e| DbError::CorruptRecord {
        path: path.to_path_buf(),
        id: id.to_string(),
        reason: e.to_string(),
    })
}

/// Whether records of this source are merged with a stored record of the same id (secdb and
/// tracker data spread one advisory over several files) or replace it (an OSV record is whole).
fn merges(kind: SourceKind) -> bool {
    !matches!(kind, SourceKind::Osv)
}

/// Rows per multi-row `INSERT` (5 parameters each, well under SQLite's parameter limit).
const INSERT_ROWS: usize = 150;

/// The `(source, id)` keys already stored.
pub(crate) async fn stored_keys(
    conn: &mut SqliteConnection,
    path: &Path,
) -> Result<HashSet<(String, String)>, DbError> {
    let err = sql_err(path);
    let mut keys = HashSet::new();
    for row in sqlx::query("SELECT source, id FROM advisories")
        .fetch_all(&mut *conn)
        .await
        .map_err(&err)?
    {
        keys.insert((
            row.try_get("source").map_err(&err)?,
            row.try_get("id").map_err(&err)?,
        ));
    }
    Ok(keys)
}

/// Writes advisories (with the source they came from) inside the import's transaction.
/// `stored` holds the keys already in the database and is updated: only those need merging and
/// old rows deleted.
pub(crate) async fn write_batch(
    tx: &mut SqliteConnection,
    path: &Path,
    batch: Vec<(Advisory, String)>,
    stored: &mut HashSet<(String, String)>,
) -> Result<u64, DbError> {
    let err = sql_err(path);
    // The same id twice in one batch: a later whole record replaces, merge kinds merge.
    let mut position: HashMap<(SourceKind, String), usize> = HashMap::new();
    let mut unique: Vec<(Advisory, String)> = Vec::with_capacity(batch.len());
    for (advisory, origin) in batch {
        let key = (advisory.source, advisory.id.clone());
        match position.get(&key) {
            Some(&i) if merges(advisory.source) => unique[i].0.merge_from(advisory),
            Some(&i) => unique[i] = (advisory, origin),
            None => {
                position.insert(key, unique.len());
                unique.push((advisory, origin));
            }
        }
    }
    let batch = unique;
    let mut rows: Vec<(&'static str, String, Option<String>, String, String)> =
        Vec::with_capacity(batch.len());
    let mut affected_rows: Vec<(&'static str, String, String, String)> = Vec::new();
    for (mut advisory, origin) in batch {
        let source = advisory.source.as_str();
        let key = (source.to_string(), advisory.id.clone());
        if stored.contains(&key) {
            if merges(advisory.source) {
                let existing: Option<String> =
                    sqlx::query_scalar("SELECT record FROM advisories WHERE source = ? AND id = ?")
                        .bind(source)
                        .bind(&advisory.id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(&err)?;
                if let Some(json) = existing {
                    let mut old = decode(path, &advisory.id, &json)?;
                    old.merge_from(advisory);
                    advisory = old;
                }
            }
            sqlx::query("DELETE FROM affected WHERE source = ? AND advisory_id = ?")
                .bind(source)
                .bind(&advisory.id)
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
            sqlx::query("DELETE FROM advisories WHERE source = ? AND id = ?")
                .bind(source)
                .bind(&advisory.id)
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
        }
        let json = serde_json::to_string(&advisory).map_err(|e| DbError::CorruptRecord {
            path: path.to_path_buf(),
            id: advisory.id.clone(),
            reason: e.to_string(),
        })?;
        let mut keys: BTreeSet<(String, String)> = BTreeSet::new();
        for a in &advisory.affected {
            let (eco, _) = palisade_vuln::release::split_ecosystem(&a.ecosystem);
            keys.insert((eco.as_str().to_string(), eco.normalize_name(&a.name)));
        }
        for (eco, name) in keys {
            affected_rows.push((source, advisory.id.clone(), eco, name));
        }
        rows.push((
            source,
            advisory.id.clone(),
            advisory.modified.clone(),
            origin,
            json,
        ));
        stored.insert(key);
    }
    let written = rows.len() as u64;
    for chunk in rows.chunks(INSERT_ROWS) {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO advisories (source, id, modified, origin, record) ");
        qb.push_values(chunk, |mut b, (source, id, modified, origin, json)| {
            b.push_bind(*source)
                .push_bind(id)
                .push_bind(modified)
                .push_bind(origin)
                .push_bind(json);
        });
        qb.build().execute(&mut *tx).await.map_err(&err)?;
    }
    for chunk in affected_rows.chunks(INSERT_ROWS) {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO affected (source, advisory_id, ecosystem, name) ");
        qb.push_values(chunk, |mut b, (source, id, eco, name)| {
            b.push_bind(*source)
                .push_bind(id)
                .push_bind(eco)
                .push_bind(name);
        });
        qb.build().execute(&mut *tx).await.map_err(&err)?;
    }
    Ok(written)
}

/// Records an import of a source.
pub(crate) async fn record_source(
    conn: &mut SqliteConnection,
    path: &Path,
    name: &str,
    records: u64,
) -> Result<(), DbError> {
    let err = sql_err(path);
    let now = SystemClock.now().rfc3339();
    sqlx::query("INSERT OR REPLACE INTO sources (name, records, imported_at) VALUES (?, ?, ?)")
        .bind(name)
        .bind(i64::try_from(records).unwrap_or(i64::MAX))
        .bind(&now)
        .execute(&mut *conn)
        .await
        .map_err(&err)?;
    sqlx::query("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_import_at', ?)")
        .bind(&now)
        .execute(&mut *conn)
        .await
        .map_err(&err)?;
    Ok(())
}

/// Every advisory affecting one of `keys`.
pub(crate) async fn advisories_for(
    pool: &SqlitePool,
    path: &Path,
    keys: &[PackageKey],
) -> Result<Vec<Advisory>, DbError> {
    let err = sql_err(path);
    let mut by_ecosystem: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for k in keys {
        by_ecosystem
            .entry(k.ecosystem.as_str())
            .or_default()
            .push(&k.name);
    }
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut rows: Vec<(String, String)> = Vec::new();
    for (ecosystem, names) in by_ecosystem {
        for chunk in names.chunks(IN_CHUNK) {
            let placeholders = vec!["?"; chunk.len()].join(",");
            let sql = format!(
                "SELECT source, id, record FROM advisories WHERE (source, id) IN \
                 (SELECT source, advisory_id FROM affected WHERE ecosystem = ? AND name IN ({placeholders}))"
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(ecosystem);
            for name in chunk {
                q = q.bind(*name);
            }
            for row in q.fetch_all(pool).await.map_err(&err)? {
                let source: String = row.try_get("source").map_err(&err)?;
                let id: String = row.try_get("id").map_err(&err)?;
                if !seen.insert((source, id.clone())) {
                    continue;
                }
                rows.push((id, row.try_get("record").map_err(&err)?));
            }
        }
    }
    decode_all(path, &rows)
}

/// Decodes stored records, on two threads when there are many.
fn decode_all(path: &Path, rows: &[(String, String)]) -> Result<Vec<Advisory>, DbError> {
    let decode_chunk = |chunk: &[(String, String)]| -> Result<Vec<Advisory>, DbError> {
        chunk
            .iter()
            .map(|(id, json)| decode(path, id, json))
            .collect()
    };
    if rows.len() < 256 {
        return decode_chunk(rows);
    }
    let (first, second) = rows.split_at(rows.len() / 2);
    let (a, b) = std::thread::scope(|scope| {
        let handle = scope.spawn(|| decode_chunk(second));
        let a = decode_chunk(first);
        let b = handle.join().unwrap_or_else(|_| {
            Err(DbError::CorruptRecord {
                path: path.to_path_buf(),
                id: String::new(),
                reason: "decoder thread panicked".into(),
            })
        });
        (a, b)
    });
    let mut out = a?;
    out.extend(b?);
    Ok(out)
}

/// Metadata and counts.
pub(crate) async fn status(pool: &SqlitePool, path: &Path) -> Result<DbStatus, DbError> {
    let err = sql_err(path);
    let meta = |key: &'static str| async move {
        sqlx::query_scalar::<_, String>("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(pool)
            .await
    };
    let schema_version = meta("schema_version")
        .await
        .map_err(&err)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let created_at = meta("created_at").await.map_err(&err)?;
    let last_import_at = meta("last_import_at").await.map_err(&err)?;
    let advisories: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM advisories")
        .fetch_one(pool)
        .await
        .map_err(&err)?;
    let mut by_source_kind = BTreeMap::new();
    for row in sqlx::query("SELECT source, COUNT(*) AS n FROM advisories GROUP BY source")
        .fetch_all(pool)
        .await
        .map_err(&err)?
    {
        let n: i64 = row.try_get("n").map_err(&err)?;
        by_source_kind.insert(
            row.try_get::<String, _>("source").map_err(&err)?,
            n.max(0) as u64,
        );
    }
    let mut by_ecosystem = BTreeMap::new();
    for row in sqlx::query(
        "SELECT ecosystem, COUNT(*) AS n FROM (SELECT DISTINCT ecosystem, source, advisory_id FROM affected) GROUP BY ecosystem",
    )
    .fetch_all(pool)
    .await
    .map_err(&err)?
    {
        let n: i64 = row.try_get("n").map_err(&err)?;
        by_ecosystem.insert(row.try_get::<String, _>("ecosystem").map_err(&err)?, n.max(0) as u64);
    }
    let mut sources = Vec::new();
    for row in sqlx::query("SELECT name, records, imported_at FROM sources ORDER BY name")
        .fetch_all(pool)
        .await
        .map_err(&err)?
    {
        let records: i64 = row.try_get("records").map_err(&err)?;
        sources.push(SourceInfo {
            name: row.try_get("name").map_err(&err)?,
            records: records.max(0) as u64,
            imported_at: row.try_get("imported_at").map_err(&err)?,
        });
    }
    let file_size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(DbStatus {
        path: path.to_path_buf(),
        file_size,
        schema_version,
        created_at,
        last_import_at,
        advisories: advisories.max(0) as u64,
        by_source_kind,
        by_ecosystem,
        sources,
    })
}
