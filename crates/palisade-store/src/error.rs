//! The one error type of the store.

/// What a store call can fail with. The server maps each variant to one status:
/// `Unavailable` → 503, `Conflict` → 409, `NotFound` → 404, `Invalid` → 400, `Other` → 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is shutting down (try again later).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The request contradicts what is stored (a snapshot older than the current one, a
    /// duplicate key, a revoked object revoked again).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The named object does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Bad input: `field` is the JSON path of the offending field or query parameter.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// JSON path of the field (`objects[3].data`, `cursor`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Anything else (a bug, a corrupt database, a failed migration).
    #[error("store error: {0}")]
    Other(String),
}

impl StoreError {
    /// An `Invalid` error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// PostgreSQL SQLSTATE classes and codes meaning "the server is not there right now":
/// connection exceptions (08…), operator intervention (57P01 admin shutdown, 57P02 crash
/// shutdown, 57P03 cannot connect now).
fn pg_unavailable(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

/// SQLite primary result codes meaning "another connection holds the lock" (`SQLITE_BUSY`,
/// `SQLITE_LOCKED`) or the file cannot be opened (`SQLITE_CANTOPEN`).
fn sqlite_unavailable(code: &str) -> bool {
    let primary = code.parse::<i64>().map(|c| c & 0xff).unwrap_or(-1);
    matches!(primary, 5 | 6 | 14)
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        use sqlx::Error as E;
        match e {
            E::Io(_)
            | E::Tls(_)
            | E::PoolTimedOut
            | E::PoolClosed
            | E::WorkerCrashed
            | E::Protocol(_) => StoreError::Unavailable(e.to_string()),
            E::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                if pg_unavailable(&code) || sqlite_unavailable(&code) {
                    StoreError::Unavailable(db.message().to_string())
                } else if db.is_unique_violation() || db.is_foreign_key_violation() {
                    StoreError::Conflict(db.message().to_string())
                } else {
                    StoreError::Other(db.message().to_string())
                }
            }
            E::RowNotFound => StoreError::NotFound("row".into()),
            other => StoreError::Other(other.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> StoreError {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => StoreError::from(inner),
            other => StoreError::Other(format!("migration: {other}")),
        }
    }
}

/// Result of every store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
