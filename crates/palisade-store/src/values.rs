//! How API values are stored: instants as milliseconds, severities with their rank, JSON as
//! text, and reading columns back.

use palisade_api::ObjectKey;
use palisade_model::finding::Severity;
use palisade_model::time::{Date, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};

/// An instant as stored.
pub(crate) fn ms(t: Timestamp) -> i64 {
    t.unix_ms()
}

/// A stored instant.
pub(crate) fn ts(ms: i64) -> Timestamp {
    Timestamp::from_unix_ms(ms)
}

/// 0 for critical … 4 for info: ascending order is worst first.
pub(crate) fn sev_rank(s: Severity) -> i64 {
    match s {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Info => 4,
    }
}

/// A stored severity name.
pub(crate) fn severity(name: &str) -> Result<Severity> {
    Severity::ALL
        .into_iter()
        .find(|s| s.as_str() == name)
        .ok_or_else(|| StoreError::Other(format!("stored severity {name:?} is unknown")))
}

/// A value as JSON text.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> String {
    // Serializing the API's plain data types to a string cannot fail.
    serde_json::to_string(value).expect("serializing plain data to JSON")
}

/// JSON text back into a value.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Other(format!("stored JSON: {e}")))
}

/// A day as stored (`YYYY-MM-DD`, which orders like the days).
pub(crate) fn day(d: Date) -> String {
    d.to_string()
}

/// A stored day.
pub(crate) fn parse_day(text: &str) -> Result<Date> {
    Date::parse(text).map_err(|e| StoreError::Other(format!("stored day: {e}")))
}

/// The namespace column of an object ('' for cluster-scoped ones).
pub(crate) fn ns_column(namespace: &Option<String>) -> &str {
    namespace.as_deref().unwrap_or("")
}

/// Reads columns by name, mapping decode errors to [`StoreError::Other`].
pub(crate) trait Get {
    /// A text column.
    fn text(&self, col: &str) -> Result<String>;
    /// A nullable text column.
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    /// A BIGINT column.
    fn int(&self, col: &str) -> Result<i64>;
    /// A nullable BIGINT column.
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
}

impl Get for AnyRow {
    fn text(&self, col: &str) -> Result<String> {
        self.try_get(col).map_err(StoreError::from)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        self.try_get(col).map_err(StoreError::from)
    }
    fn int(&self, col: &str) -> Result<i64> {
        self.try_get(col).map_err(StoreError::from)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        self.try_get(col).map_err(StoreError::from)
    }
}

/// The object named by the `kind`, `namespace` ('' = none) and `name` columns.
pub(crate) fn object_key(row: &AnyRow) -> Result<ObjectKey> {
    let namespace = row.text("namespace")?;
    Ok(ObjectKey {
        kind: row.text("kind")?,
        namespace: (!namespace.is_empty()).then_some(namespace),
        name: row.text("name")?,
    })
}

/// A page size: `limit` or the default, clamped to `1..=MAX_PAGE`.
pub(crate) fn page_size(limit: Option<u32>) -> i64 {
    i64::from(
        limit
            .unwrap_or(palisade_api::DEFAULT_PAGE)
            .clamp(1, palisade_api::MAX_PAGE),
    )
}
