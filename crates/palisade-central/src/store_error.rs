//! Store errors as HTTP answers: unavailable → 503, conflict → 409, not found → 404, invalid
//! → 400 with the field; anything else → 500 with a generic sentence (the cause is logged).

use axum::http::StatusCode;
use palisade_store::StoreError;

use crate::error::ApiError;

/// The answer for a store error.
pub fn to_api(error: StoreError) -> ApiError {
    match error {
        StoreError::Unavailable(_) => {
            tracing::warn!(error = %error, "store unavailable");
            ApiError::unavailable()
        }
        StoreError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, message),
        StoreError::NotFound(message) => ApiError::not_found(message),
        StoreError::Invalid { field, message } => ApiError::bad_field(message, field),
        other => {
            tracing::error!(error = %other, "store error");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error (see central's log)",
            )
        }
    }
}
