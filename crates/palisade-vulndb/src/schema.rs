//! Schema creation and versioning (embedded sqlx migrations plus a `schema_version` row).

use std::path::Path;

use sqlx::SqlitePool;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use palisade_model::time::{Clock, SystemClock};

use crate::{DbError, SCHEMA_VERSION};

fn migrator() -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        1,
        "initial".into(),
        MigrationType::Simple,
        sqlx::SqlSafeStr::into_sql_str(include_str!("../migrations/0001_initial.sql")),
        false,
    )])
}

/// Refuses databases of a newer schema, applies migrations and records metadata.
pub(crate) async fn prepare(pool: &SqlitePool, path: &Path) -> Result<(), DbError> {
    let sql_err = |source| DbError::Sql {
        path: path.to_path_buf(),
        source,
    };
    let has_meta: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
            .fetch_optional(pool)
            .await
            .map_err(sql_err)?;
    if has_meta.is_some() {
        let found: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'schema_version'")
                .fetch_optional(pool)
                .await
                .map_err(sql_err)?;
        if let Some(found) = found.and_then(|v| v.parse::<i64>().ok())
            && found > SCHEMA_VERSION
        {
            return Err(DbError::NewerSchema {
                path: path.to_path_buf(),
                found,
            });
        }
    }
    migrator()
        .run(pool)
        .await
        .map_err(|source| DbError::Migrate {
            path: path.to_path_buf(),
            source,
        })?;
    sqlx::query("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)")
        .bind(SCHEMA_VERSION.to_string())
        .execute(pool)
        .await
        .map_err(sql_err)?;
    sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)")
        .bind(SystemClock.now().rfc3339())
        .execute(pool)
        .await
        .map_err(sql_err)?;
    Ok(())
}
