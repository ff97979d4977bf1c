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
        cursor::page(
            &rows,
            limit,
            "audit",
            |row| Ok(vec![row.int("id")?.into()]),
            |row| {
                Ok(AuditEntry {
                    id: row.int("id")?,
                    time: ts(row.int("time_ms")?),
                    actor: row.text("actor")?,
                    action: row.text("action")?,
                    target: row.text("target")?,
                    detail: from_json(&row.text("detail")?)?,
                })
            },
        )
    }
}
