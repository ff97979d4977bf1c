//! Palisade central's durable store: what scans, sensors, admission webhooks and runtime
//! agents pushed, kept in one embedded SQLite file (the default) or in PostgreSQL, and the
//! answers to central's queries, in `palisade_api`'s wire types.
//!
//! One set of queries serves both back ends: sqlx's `Any` driver, placeholders numbered for
//! PostgreSQL and anonymous for SQLite (see `sql`), portable SQL (`ON CONFLICT … DO UPDATE`,
//! `RETURNING`, row-value comparisons) and a tiny [`dialect`] table for the schema's column
//! types and one string function. The schema (`migrations/`) is applied at [`Store::open`].
//!
//! Invariants:
//! * Every push is one transaction: when the call returns `Ok` it is durable (SQLite
//!   `synchronous=FULL`, PostgreSQL's commit), and a push that fails leaves nothing behind.
//! * Every push is idempotent: a repeat is acknowledged as duplicates and changes nothing.
//! * A snapshot older than the cluster's current one never replaces it
//!   ([`StoreError::Conflict`]).
//! * Token secrets are never stored or logged: only their SHA-256.
//! * Instants are stored with millisecond precision.
//! * The store never reads the clock: every call that needs "now" takes it.

pub mod dialect;
pub mod error;

mod audit;
mod batches;
mod counts;
mod cursor;
mod dashboard;
mod delta;
mod exceptions;
mod findings;
mod history;
mod open;
mod queries;
mod responses;
mod retention;
mod runtime;
mod runtime_facts;
mod snapshot;
mod sql;
mod tokens;
mod values;

use sqlx::AnyPool;

pub use counts::OpenCounts;
pub use dashboard::Trend;
pub use dialect::Backend;
pub use error::{Result, StoreError};
pub use retention::{PruneReport, Retention};
pub use runtime_facts::RuntimeFacts;
pub use snapshot::{SnapshotPart, SnapshotParts};
pub use tokens::TOKEN_PREFIX;

/// A handle on the store: cheap to clone (a connection pool inside), usable from any task.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Opens (creating when needed) the store at `url_or_path`: `postgres://…` for PostgreSQL,
    /// a `sqlite:` URL or a file path for SQLite (WAL, `synchronous=FULL`, a busy timeout and
    /// foreign keys on; the file's directory is created). Applies pending migrations.
    pub async fn open(url_or_path: &str) -> Result<Store> {
        let target = open::Target::parse(url_or_path)?;
        let pool = open::connect(&target).await?;
        Ok(Store {
            pool,
            backend: target.backend,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Readiness: `Ok` when the database answers a query now.
    pub async fn ping(&self) -> Result<()> {
        self.sql("SELECT 1").fetch_optional(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection (waits for calls in progress).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A statement for this store's back end.
    pub(crate) fn sql(&self, text: &str) -> sql::Sql {
        sql::Sql::new(self.backend, text)
    }
}
