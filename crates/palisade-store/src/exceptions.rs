//! Exceptions: accepted risks that suppress matching findings until they expire.

use palisade_api::{ExceptionCreate, ExceptionView};
use palisade_model::time::Timestamp;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::values::{Get, day, ms, parse_day, ts};
use crate::{Store, audit};

const COLUMNS: &str = "id, cluster, check_id, namespace, name, fingerprint, reason, expires, \
                       created_by, created_ms, revoked_ms, revoked_by";

fn view(row: &AnyRow) -> Result<ExceptionView> {
    Ok(ExceptionView {
        id: row.int("id")?,
        spec: ExceptionCreate {
            cluster: row.opt_text("cluster")?,
            check: row.opt_text("check_id")?,
            namespace: row.opt_text("namespace")?,
            name: row.opt_text("name")?,
            fingerprint: row.opt_text("fingerprint")?,
            reason: row.text("reason")?,
            expires: parse_day(&row.text("expires")?)?,
        },
        created_by: row.text("created_by")?,
        created_at: ts(row.int("created_ms")?),
        revoked_at: row.opt_int("revoked_ms")?.map(ts),
        revoked_by: row.opt_text("revoked_by")?,
    })
}

/// A matcher given as an empty string would match nothing (or, worse, be read as absent).
fn validate(req: &ExceptionCreate) -> Result<()> {
    if req.reason.trim().is_empty() {
        return Err(StoreError::invalid("reason", "must not be empty"));
    }
    let matchers = [
        ("cluster", &req.cluster),
        ("check", &req.check),
        ("namespace", &req.namespace),
        ("name", &req.name),
        ("fingerprint", &req.fingerprint),
    ];
    for (field, value) in matchers {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(StoreError::invalid(field, "must not be empty when given"));
        }
    }
    if matchers[1..].iter().all(|(_, v)| v.is_none()) {
        return Err(StoreError::invalid(
            "check",
            "give at least one of check, namespace, name or fingerprint",
        ));
    }
    Ok(())
}

impl Store {
    /// Creates an exception (audited as `actor`): the reason must not be empty and at least
    /// one of check, namespace, name or fingerprint must be given. It suppresses matching
    /// open findings through its `expires` day (UTC).
    pub async fn create_exception(
        &self,
        req: &ExceptionCreate,
        actor: &str,
        now: Timestamp,
    ) -> Result<ExceptionView> {
        validate(req)?;
        let mut tx = self.pool().begin().await?;
        let mut sql = self.sql(
            "INSERT INTO exceptions (cluster, check_id, namespace, name, fingerprint, reason, \
             expires, created_by, created_ms) VALUES (",
        );
        sql.bind(req.cluster.clone())
            .push(",")
            .bind(req.check.clone());
        sql.push(",").bind(req.namespace.clone()).push(",");
        sql.bind(req.name.clone())
            .push(",")
            .bind(req.fingerprint.clone());
        sql.push(",").bind(req.reason.clone()).push(",");
        sql.bind(day(req.expires)).push(",").bind(actor.to_string());
        sql.push(",").bind(ms(now));
        sql.push(&format!(") RETURNING {COLUMNS}"));
        let row = sql
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::Other("no exception returned".into()))?;
        let created = view(&row)?;
        let target = created.id.to_string();
        audit::record(
            &mut tx,
            self.backend(),
            now,
            actor,
            "exception.create",
            &target,
            &serde_json::to_value(req).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Every exception (revoked and expired ones included), newest first.
    pub async fn exceptions(&self) -> Result<Vec<ExceptionView>> {
        self.sql(&format!(
            "SELECT {COLUMNS} FROM exceptions ORDER BY id DESC"
        ))
        .fetch_each(self.pool(), view)
        .await
    }

    /// Revokes exception `id` (audited as `actor`); revoking it again is a conflict.
    pub async fn revoke_exception(
        &self,
        id: i64,
        actor: &str,
        now: Timestamp,
    ) -> Result<ExceptionView> {
        audit::revoke(self, "exception", COLUMNS, id, actor, now, view).await
    }
}
