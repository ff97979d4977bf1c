//! Probes: `/healthz` (the process answers; no token) and `/readyz` (the store answers).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /healthz`: 200 while the process serves. The only route without a token.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when the store answers a ping, 503 when it does not (the token check
/// itself needs the store, so an outage is a 503 before the ping).
pub async fn readyz(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok((StatusCode::OK, Json(json!({"status": "ready"})))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the store does not answer");
            Err(ApiError::unavailable())
        }
    }
}
