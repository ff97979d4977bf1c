//! The audit log of token and exception changes.

use palisade_api::{AuditEntry, Page};
use palisade_model::time::Timestamp;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Encode, Transaction, Type};

use crate::dialect::Backend;
use crate::error::{Result, StoreError};
use crate::sql::Sql;
use crate::values::{Get, from_json, json, ms, page_size, ts};
use crate::{Store, cursor};

/// Records one change inside the transaction that makes it.
pub(crate) async fn record(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    now: Timestamp,
    actor: &str,
    action: &str,
    target: &str,
    detail: &Value,
) -> Result<()> {
    let mut sql = Sql::new(
        backend,
        "INSERT INTO audit (time_ms, actor, action, target, detail) VALUES (",
    );
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

/// Revokes row `id` of the `{noun}s` table (its `revoked_ms` and `revoked_by` columns) in one
/// transaction with its audit entry (`{noun}.revoke`); returns the row (its `columns`) made a
/// value by `view`. An unknown id is [`StoreError::NotFound`], a revoked one
/// [`StoreError::Conflict`].
pub(crate) async fn revoke<I, T>(
    store: &Store,
    noun: &str,
    columns: &str,
    id: I,
    actor: &str,
    now: Timestamp,
    view: impl Fn(&AnyRow) -> Result<T>,
) -> Result<T>
where
    I: for<'q> Encode<'q, Any> + Type<Any> + Clone + std::fmt::Display + Send + 'static,
{
    let mut tx = store.pool().begin().await?;
    let mut sql = store.sql(&format!("UPDATE {noun}s SET revoked_ms = "));
    sql.bind(ms(now))
        .push(", revoked_by = ")
        .bind(actor.to_string());
    sql.push(" WHERE revoked_ms IS NULL AND id = ")
        .bind(id.clone());
    let changed = sql.execute(&mut *tx).await?;
    let mut sql = store.sql(&format!("SELECT {columns} FROM {noun}s WHERE id = "));
    sql.bind(id.clone());
    let Some(row) = sql.fetch_optional(&mut *tx).await? else {
        return Err(StoreError::NotFound(format!("{noun} {id}")));
    };
    if changed == 0 {
        return Err(StoreError::Conflict(format!(
            "{noun} {id} is already revoked"
        )));
    }
    let action = format!("{noun}.revoke");
    record(
        &mut tx,
        store.backend(),
        now,
        actor,
        &action,
        &id.to_string(),
        &Value::Null,
    )
    .await?;
    tx.commit().await?;
    view(&row)
}

impl Store {
    /// The audit log, newest first.
    pub async fn audit(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<AuditEntry>> {
        let limit = page_size(limit);
        let mut sql = self.sql("SELECT id, time_ms, actor, action, target, detail FROM audit");
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
