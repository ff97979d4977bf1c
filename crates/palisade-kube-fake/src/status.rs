//! `Status` objects: how the API server reports failures (and the body of a 410 watch event).

use serde_json::{Value, json};

/// A failed request: HTTP status code plus the `Status` object sent as its body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code (`404`, `409`, …).
    pub code: u16,
    /// The `Status` object.
    pub body: Value,
}

impl ApiError {
    /// A failure with `code`, machine `reason` and human `message`.
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            body: json!({
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": message.into(),
                "reason": reason,
                "code": code,
            }),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    /// 404 Not Found for `plural` `name` (or the path when `name` is empty).
    pub fn not_found(plural: &str, name: &str) -> ApiError {
        ApiError::new(404, "NotFound", format!("{plural} \"{name}\" not found"))
    }

    /// 410 Gone: the resource version asked for has been compacted.
    pub fn expired(message: impl Into<String>) -> ApiError {
        ApiError::new(410, "Expired", message)
    }
}
