//! Opaque page cursors: the sort key of a page's last row, tagged with the query kind it
//! belongs to, as URL-safe base64 of a JSON array.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use palisade_api::Page;
use serde_json::Value;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};

/// A cursor for the rows after the one whose sort key is `key`.
pub(crate) fn encode(tag: &str, key: Vec<Value>) -> String {
    let mut all = Vec::with_capacity(key.len() + 1);
    all.push(Value::String(tag.to_string()));
    all.extend(key);
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&all).unwrap_or_default())
}

/// The sort key in `cursor`, which must have been made for `tag` with `len` values.
pub(crate) fn decode(tag: &str, len: usize, cursor: &str) -> Result<Vec<Value>> {
    let bad = || StoreError::invalid("cursor", "not a cursor of this query");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let mut all: Vec<Value> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if all.len() != len + 1 || all[0] != Value::String(tag.to_string()) {
        return Err(bad());
    }
    all.remove(0);
    Ok(all)
}

/// Key element `i` as text.
pub(crate) fn text(key: &[Value], i: usize) -> Result<String> {
    key.get(i)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| StoreError::invalid("cursor", "not a cursor of this query"))
}

/// Key element `i` as an integer.
pub(crate) fn int(key: &[Value], i: usize) -> Result<i64> {
    key.get(i)
        .and_then(Value::as_i64)
        .ok_or_else(|| StoreError::invalid("cursor", "not a cursor of this query"))
}

/// The page of `rows` (fetched with one row more than `limit`): each row made a `T` by
/// `view`, and the cursor of the next page (the sort key of the page's last row, by `key`)
/// when the extra row came back.
pub(crate) fn page<T>(
    rows: &[AnyRow],
    limit: i64,
    tag: &str,
    key: impl Fn(&AnyRow) -> Result<Vec<Value>>,
    view: impl Fn(&AnyRow) -> Result<T>,
) -> Result<Page<T>> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let shown = &rows[..rows.len().min(limit)];
    let next = match shown.last() {
        Some(last) if rows.len() > limit => Some(encode(tag, key(last)?)),
        _ => None,
    };
    Ok(Page {
        items: shown.iter().map(view).collect::<Result<Vec<T>>>()?,
        next,
    })
}
