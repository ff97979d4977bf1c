//! The audit log of token and exception changes.

use palisade_api::{AuditEntry, Page};
use palisade_model::time::Timestamp;
use serde_json::Value;
use sqlx::{Any, Transaction};

use crate::error::Result;
use crate::sql::Sql;
use crate::values::{Get, from_json, json, ms, page_size, ts};
use crate::{Store, cursor};

/// Records one change inside the transaction that makes it.
pub(crate) async fn record(
    tx: &mut Transaction<'_, Any>,
    now: Timestamp,
    actor: &str,
    action: &str,
    target: &str,
    detail: &Value,
) -> Result<()> {
    let mut sql = Sql::new("INSERT INTO audit (time_ms, actor, action, target, detail) VALUES (");
    sql.bind(ms(now))
        .push(",")
        .bind(actor.to_string())
        .push(",");
    sql.bind(action.to_string())
        .push(",")
        .bind(target.to_string());
    sql.push(",").bind(json(detail)).push(")");
    sql.execute(&mut **tx).await?;
    Ok(())
}

impl Store {
    /// The audit log, newest first.
    pub async fn audit(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<AuditEntry>> {
        let limit = page_size(limit);
        let mut sql = Sql::new("SELECT id, time_ms, actor, action, target, detail FROM audit");
        if let Some(c) = cursor {
            let key = cursor::decode("audit", 1, c)?;
            sql.push(" WHERE id < ").bind(cursor::int(&key, 0)?);
        }
        sql.push(" ORDER BY id DESC LIMIT ").bind(limit + 1);
        let rows = sql.fetch_all(self.pool()).await?;
        let mut items = rows
            .iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: row.int("id")?,
                    time: ts(row.int("time_ms")?),
                    actor: row.text("actor")?,
                    action: row.text("action")?,
                    target: row.text("target")?,
                    detail: from_json(&row.text("detail")?)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let next = page_next(&mut items, limit, |e| {
            cursor::encode("audit", vec![e.id.into()])
        });
        Ok(Page { items, next })
    }
}

/// Cuts `items` (fetched with one row more than `limit`) to the page and returns the cursor of
/// the next page, made from the page's last row by `key`, when there is one.
pub(crate) fn page_next<T>(
    items: &mut Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> String,
) -> Option<String> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if items.len() > limit {
        items.truncate(limit);
        items.last().map(key)
    } else {
        None
    }
}
