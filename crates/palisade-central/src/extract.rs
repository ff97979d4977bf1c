//! Request bodies and query strings, parsed strictly: a bad field is a 400 naming its JSON path
//! (`workloads[3].id.name`), an unknown query parameter a 400 naming it, a body over the limit a
//! 413 (the limit applies after gzip decoding, so a small compressed bomb is refused too).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body of type `T`.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send + 'static> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        crate::body::read_json(req).await.map(Body)
    }
}

/// Parses `bytes` as JSON `T`; the error names the field's path. Tracking the path wraps every
/// value of a 100 MB snapshot, so a body is parsed without it first and again with it only
/// when it is refused.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(_) => parse_json_naming_the_field(bytes),
    }
}

/// [`parse_json`]'s second pass: the same parse, tracking where it is.
pub(crate) fn parse_json_naming_the_field<T: DeserializeOwned>(
    bytes: &[u8],
) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // The path ends with an unknown field's name, except at the top level.
        let field = match unknown_field(&message) {
            Some(name) if path == "." => name.to_string(),
            _ => path,
        };
        ApiError::bad_field(format!("invalid request body: {message}"), field)
    })?;
    de.end()
        .map_err(|e| ApiError::bad_field(format!("invalid request body: {e}"), "."))?;
    Ok(value)
}

/// Query-string parameters of type `T` (a struct with `deny_unknown_fields`).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or("")).map(Query)
    }
}

/// Parses a query string into `T`: an unknown parameter or a bad value is a 400 naming the
/// parameter.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = unknown_field(&message).map_or(path, str::to_string);
        ApiError::bad_field(format!("invalid query parameter: {message}"), field)
    })
}

/// The name in serde's "unknown field `name`, expected …" message.
fn unknown_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use palisade_api::{FindingQuery, Snapshot};

    use super::*;

    #[test]
    fn query_errors_name_the_parameter() {
        let q: FindingQuery = parse_query("cluster=prod&severity=high&limit=5").unwrap();
        assert_eq!(q.cluster.as_deref(), Some("prod"));
        assert_eq!(q.limit, Some(5));
        for (query, field) in [
            ("cluster=prod&colour=red", "colour"),
            ("severity=extreme", "severity"),
            ("limit=-1", "limit"),
            ("since=yesterday", "since"),
        ] {
            let e = parse_query::<FindingQuery>(query).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{query}");
            assert_eq!(
                e.body.field.as_deref(),
                Some(field),
                "{query}: {:?}",
                e.body
            );
        }
        // Percent-encoding is decoded.
        let q: FindingQuery = parse_query("cluster=a%20b").unwrap();
        assert_eq!(q.cluster.as_deref(), Some("a b"));
    }

    #[test]
    fn body_errors_name_the_field_path() {
        let base = r#"{"id":"s","scanned_at":"2026-12-01T00:00:00Z","tool_version":"t","source":"m","findings":[],"workloads":"#;
        let e = parse_json::<Snapshot>(
            format!(r#"{base}[{{"id":{{"namespace":"a","kind":"Pod","name":5}}}}]}}"#).as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.body.field.as_deref(), Some("workloads[0].id.name"));
        let e = parse_json::<Snapshot>(format!(r#"{base}[],"extra":1}}"#).as_bytes()).unwrap_err();
        assert_eq!(e.body.field.as_deref(), Some("extra"));
        let e = parse_json::<Snapshot>(format!(r#"{base}[]}} trailing"#).as_bytes()).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(parse_json::<Snapshot>(format!("{base}[]}}").as_bytes()).is_ok());
    }
}
