//! Every error answer: a status and a [`palisade_api::ErrorBody`].

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use palisade_api::ErrorBody;

/// An error response: a status and the body saying why (never a token or secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorBody,
    /// The request's body was left partly unread, so the connection must close after this
    /// answer (`Connection: close` tells an HTTP/1.1 client not to reuse it).
    pub close_connection: bool,
}

impl ApiError {
    /// An error with a status and a sentence.
    pub fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody::new(error),
            close_connection: false,
        }
    }

    /// 400 blaming `field`.
    pub fn bad_field(error: impl Into<String>, field: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            body: ErrorBody::field(error, field),
            close_connection: false,
        }
    }

    /// 401: no token, or one central does not accept.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a valid bearer token is required (Authorization: Bearer <token>)",
        )
    }

    /// 403 with the reason.
    pub fn forbidden(error: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, error)
    }

    /// 404 with the reason.
    pub fn not_found(error: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, error)
    }

    /// 503: the store cannot be reached.
    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database is unavailable; try again later",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, 5.into());
        }
        if self.close_connection {
            // RFC 9112 §9.6: an HTTP/1.1 client must not send another request on this
            // connection. HTTP/2 drops the header (only the stream ends).
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}
