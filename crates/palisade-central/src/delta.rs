//! `POST /api/v1/clusters/{cluster}/delta`: a sensor's changes since its previous push
//! (`palisade_api::Delta`), authenticated and bound to the token's cluster like a snapshot,
//! acknowledged only once the store has committed.

use axum::Json;
use axum::extract::{Path, State};
use palisade_api::{Delta, IngestAck};

use crate::auth::{Caller, SENSOR_WRITERS};
use crate::error::ApiError;
use crate::extract::Body;
use crate::ingest::check_cluster_name;
use crate::state::AppState;
use crate::store_error::to_api;

/// `POST /api/v1/clusters/{cluster}/delta`.
pub async fn delta(
    caller: Caller,
    State(state): State<AppState>,
    Path(cluster): Path<String>,
    Body(delta): Body<Delta>,
) -> Result<Json<IngestAck>, ApiError> {
    check_cluster_name(&cluster)?;
    caller.write(&cluster, SENSOR_WRITERS)?;
    let ack = state
        .store
        .push_delta(&cluster, &delta, state.now())
        .await
        .map_err(to_api)?;
    state.metrics.ingested("deltas", &ack);
    tracing::info!(
        cluster = %cluster,
        delta = %delta.id,
        objects = delta.objects.len(),
        workloads = delta.workloads.len(),
        deleted = delta.deleted.len(),
        accepted = ack.accepted,
        duplicates = ack.duplicates,
        "delta stored"
    );
    Ok(Json(ack))
}
