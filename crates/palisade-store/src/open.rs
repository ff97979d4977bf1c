//! Opening a store: the connection pool of either back end and the schema migrations.

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, AssertSqlSafe, ConnectOptions, Executor, SqlSafeStr};

use crate::dialect::Backend;
use crate::error::{Result, StoreError};

/// The portable migrations, in order: (version, description, text with `@ID@`/`@TEXT@`).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (
        2,
        "findings digest",
        include_str!("../migrations/0002_findings_digest.sql"),
    ),
    (
        3,
        "responses",
        include_str!("../migrations/0003_responses.sql"),
    ),
    (
        4,
        "cluster counts",
        include_str!("../migrations/0004_cluster_counts.sql"),
    ),
    (
        5,
        "one findings order",
        include_str!("../migrations/0005_one_findings_order.sql"),
    ),
];

/// How long a call waits for a free connection (or for PostgreSQL to answer a connect) before
/// the store reports itself unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long SQLite waits for another writer's lock.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

/// Page cache per connection: a snapshot push rewrites hundreds of megabytes of pages, and
/// SQLite's default (2 MiB) spills them to the WAL in the middle of the transaction.
const SQLITE_CACHE_KIB: u32 = 65_536;

/// Reads through a memory map (shared, reclaimable file pages) instead of copies; bounded so
/// that the mapped pages, which count in the resident set, stay well under central's 1 GB.
const SQLITE_MMAP_BYTES: u64 = 256 << 20;

/// Where a store lives, decided from the text given to [`crate::Store::open`].
pub(crate) struct Target {
    pub(crate) backend: Backend,
    pub(crate) url: String,
}

impl Target {
    /// `postgres://…` / `postgresql://…` is PostgreSQL; `sqlite:…` a SQLite URL; anything else
    /// a SQLite file path (its directory is created).
    pub(crate) fn parse(url_or_path: &str) -> Result<Target> {
        if url_or_path.starts_with("postgres://") || url_or_path.starts_with("postgresql://") {
            return Ok(Target {
                backend: Backend::Postgres,
                url: url_or_path.to_string(),
            });
        }
        if url_or_path.starts_with("sqlite:") {
            return Ok(Target {
                backend: Backend::Sqlite,
                url: url_or_path.to_string(),
            });
        }
        if url_or_path.is_empty() {
            return Err(StoreError::invalid("database", "empty path"));
        }
        let path = Path::new(url_or_path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Ok(Target {
            backend: Backend::Sqlite,
            url: options.to_url_lossy().to_string(),
        })
    }
}

/// Opens the pool and applies the migrations.
pub(crate) async fn connect(target: &Target) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let options: AnyConnectOptions = target
        .url
        .parse()
        .map_err(|e: sqlx::Error| StoreError::invalid("database", e.to_string()))?;
    let pool = match target.backend {
        Backend::Sqlite => AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    // Per connection: WAL (persistent, but cheap to repeat), every commit
                    // synced before it returns, waits instead of failing on a held lock, and
                    // foreign keys checked.
                    conn.execute(sqlite_pragmas()).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(StoreError::from)?,
        Backend::Postgres => AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(StoreError::from)?,
    };
    migrator(target.backend).run(&pool).await?;
    Ok(pool)
}

fn sqlite_pragmas() -> impl SqlSafeStr {
    AssertSqlSafe(format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -{SQLITE_CACHE_KIB}; PRAGMA mmap_size = {SQLITE_MMAP_BYTES}; \
         PRAGMA temp_store = MEMORY;"
    ))
}

/// The migrations of `backend`: the portable texts with the dialect's types filled in.
fn migrator(backend: Backend) -> Migrator {
    let dialect = backend.dialect();
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                AssertSqlSafe(dialect.schema(sql)).into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}
