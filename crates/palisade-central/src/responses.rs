//! `GET /api/v1/responses`: what the runtime agents did about alerts (the push is
//! `POST /api/v1/clusters/{cluster}/responses`, in [`crate::ingest`]).

use axum::Json;
use axum::extract::State;
use palisade_api::{ResponseQuery, ResponseView};

use crate::auth::{Caller, READERS};
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use crate::store_error::to_api;

/// `GET /api/v1/responses?cluster=&limit=`: newest first.
pub async fn responses(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ResponseQuery>,
) -> Result<Json<Vec<ResponseView>>, ApiError> {
    caller.require(READERS)?;
    Ok(Json(state.store.responses(&q).await.map_err(to_api)?))
}
