//! The push endpoints (see the table in `palisade_api::ingest`): authenticated, bound to the
//! token's cluster, acknowledged only once the store has committed. The caller's role and
//! cluster are checked before the body is read: a refused push never costs its body.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use palisade_api::{
    AdmissionBatch, AlertBatch, BaselineBatch, Delta, FlowBatch, IngestAck, ResponseBatch,
    Snapshot, SnapshotHeader,
};

use crate::auth::{AGENT_WRITERS, Caller, SENSOR_WRITERS};
use crate::body::read_json;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store_error::to_api;

/// The largest cluster name accepted in a path.
const MAX_CLUSTER_NAME: usize = 253;

/// 400 unless `cluster` is a usable cluster name (1–253 characters, no control characters).
pub fn check_cluster_name(cluster: &str) -> Result<(), ApiError> {
    if cluster.is_empty()
        || cluster.len() > MAX_CLUSTER_NAME
        || cluster.chars().any(char::is_control)
    {
        return Err(ApiError::bad_field(
            "a cluster name has 1 to 253 characters and no control characters",
            "cluster",
        ));
    }
    Ok(())
}

/// `POST /api/v1/clusters/{cluster}/snapshots`: one JSON [`Snapshot`], or a snapshot stream
/// (`Content-Type: application/x-ndjson`, stored while it arrives; see [`crate::stream`]).
pub async fn snapshot(
    caller: Caller,
    State(state): State<AppState>,
    Path(cluster): Path<String>,
    request: Request,
) -> Result<Json<IngestAck>, ApiError> {
    check_cluster_name(&cluster)?;
    caller.write(&cluster, SENSOR_WRITERS)?;
    let started = std::time::Instant::now();
    let streamed = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case(palisade_api::stream::CONTENT_TYPE)
        });
    let (ack, header, read) = if streamed {
        let (ack, header) = crate::stream::push(&state, &cluster, request).await?;
        (ack, header, None)
    } else {
        let snapshot: Snapshot = read_json(request).await?;
        let read = started.elapsed();
        let ack = state
            .store
            .push_snapshot(&cluster, &snapshot, state.now())
            .await
            .map_err(to_api)?;
        (ack, SnapshotHeader::of(&snapshot), Some(read))
    };
    state.metrics.ingested("snapshots", &ack);
    let elapsed = started.elapsed();
    tracing::info!(
        cluster = %cluster,
        snapshot = %header.id,
        streamed,
        workloads = header.counts.workloads,
        findings = header.counts.findings,
        accepted = ack.accepted,
        duplicates = ack.duplicates,
        // A stream is read and stored at once: only the whole is timed.
        read_ms = read.map(|r| r.as_millis() as u64),
        total_ms = elapsed.as_millis() as u64,
        "snapshot stored"
    );
    Ok(Json(ack))
}

/// A push handler for one batch type: name check, role and cluster check (before the body is
/// read), one store call, the ingest counter.
macro_rules! batch_handler {
    ($(#[$doc:meta])* $name:ident, $batch:ty, $method:ident, $roles:expr, $kind:literal) => {
        $(#[$doc])*
        pub async fn $name(
            caller: Caller,
            State(state): State<AppState>,
            Path(cluster): Path<String>,
            request: Request,
        ) -> Result<Json<IngestAck>, ApiError> {
            check_cluster_name(&cluster)?;
            caller.write(&cluster, $roles)?;
            let batch: $batch = read_json(request).await?;
            let ack = state
                .store
                .$method(&cluster, &batch, state.now())
                .await
                .map_err(to_api)?;
            state.metrics.ingested($kind, &ack);
            Ok(Json(ack))
        }
    };
}

batch_handler!(
    /// `POST /api/v1/clusters/{cluster}/alerts`.
    alerts, AlertBatch, push_alerts, AGENT_WRITERS, "alerts"
);
batch_handler!(
    /// `POST /api/v1/clusters/{cluster}/flows`.
    flows, FlowBatch, push_flows, AGENT_WRITERS, "flows"
);
batch_handler!(
    /// `POST /api/v1/clusters/{cluster}/baselines`.
    baselines, BaselineBatch, push_baselines, AGENT_WRITERS, "baselines"
);
batch_handler!(
    /// `POST /api/v1/clusters/{cluster}/responses`.
    responses, ResponseBatch, push_responses, AGENT_WRITERS, "responses"
);
batch_handler!(
    /// `POST /api/v1/clusters/{cluster}/admission`.
    admission, AdmissionBatch, push_admission, SENSOR_WRITERS, "admission"
);
batch_handler!(
    /// `POST /api/v1/clusters/{cluster}/delta`: a sensor's changes since its previous push.
    delta, Delta, push_delta, SENSOR_WRITERS, "deltas"
);
