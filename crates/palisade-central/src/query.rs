//! The read endpoints and the exception and token endpoints (see the tables in
//! `palisade_api::query` and `palisade_api::token`).

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use palisade_api::Role;
use palisade_api::{
    AlertQuery, AlertView, AuditEntry, ClusterView, ExceptionCreate, ExceptionView, FindingQuery,
    FindingView, ImageQuery, ImageView, Page, TokenCreate, TokenCreated, TokenInfo, WorkloadQuery,
    WorkloadSort, WorkloadView,
};
use palisade_store::StoreError;
use serde::Deserialize;

use crate::auth::{ADMINS, CLUSTER_READERS, Caller, EXCEPTION_WRITERS, READERS, STATE_READERS};
use crate::body::read_json;
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use crate::store_error::to_api;

/// The answer of a handler that needs one of `roles` and one store call (`work` does nothing
/// until awaited, so the role is checked first).
async fn answer<T>(
    caller: &Caller,
    roles: &[Role],
    work: impl Future<Output = Result<T, StoreError>>,
) -> Result<Json<T>, ApiError> {
    caller.require(roles)?;
    Ok(Json(work.await.map_err(to_api)?))
}

/// `GET /api/v1/clusters`: every cluster, or a cluster-bound token's own.
pub async fn clusters(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ClusterView>>, ApiError> {
    let only = caller.read(None, CLUSTER_READERS)?;
    let mut clusters = state.store.clusters(state.now()).await.map_err(to_api)?;
    if let Some(own) = only {
        clusters.retain(|c| c.name == own);
    }
    Ok(Json(clusters))
}

/// `GET /api/v1/workloads`.
pub async fn workloads(
    State(state): State<AppState>,
    caller: Caller,
    Query(mut q): Query<WorkloadQuery>,
) -> Result<Json<Page<WorkloadView>>, ApiError> {
    q.cluster = caller.read(q.cluster.take(), STATE_READERS)?;
    Ok(Json(state.store.workloads(&q).await.map_err(to_api)?))
}

/// `GET /api/v1/risk`: workloads, riskiest first.
pub async fn risk(
    State(state): State<AppState>,
    caller: Caller,
    Query(mut q): Query<WorkloadQuery>,
) -> Result<Json<Page<WorkloadView>>, ApiError> {
    if q.sort.is_some_and(|s| s != WorkloadSort::Risk) {
        return Err(ApiError::bad_field(
            "the risk ranking is always sorted by risk",
            "sort",
        ));
    }
    q.sort = Some(WorkloadSort::Risk);
    workloads(State(state), caller, Query(q)).await
}

/// `GET /api/v1/findings`.
pub async fn findings(
    State(state): State<AppState>,
    caller: Caller,
    Query(mut q): Query<FindingQuery>,
) -> Result<Json<Page<FindingView>>, ApiError> {
    q.cluster = caller.read(q.cluster.take(), STATE_READERS)?;
    Ok(Json(
        state
            .store
            .findings(&q, state.now())
            .await
            .map_err(to_api)?,
    ))
}

/// `GET /api/v1/images`.
pub async fn images(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ImageQuery>,
) -> Result<Json<Page<ImageView>>, ApiError> {
    answer(&caller, READERS, state.store.images(&q)).await
}

/// `GET /api/v1/alerts`.
pub async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AlertQuery>,
) -> Result<Json<Page<AlertView>>, ApiError> {
    answer(&caller, READERS, state.store.alerts(&q)).await
}

/// `GET /api/v1/audit` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Rows per page.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /api/v1/audit`.
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let work = state.store.audit(q.limit, q.cursor.as_deref());
    answer(&caller, ADMINS, work).await
}

/// `GET /api/v1/exceptions`.
pub async fn exceptions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ExceptionView>>, ApiError> {
    answer(&caller, READERS, state.store.exceptions()).await
}

/// `POST /api/v1/exceptions` (audited with the token's name).
pub async fn create_exception(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> Result<(StatusCode, Json<ExceptionView>), ApiError> {
    caller.require(EXCEPTION_WRITERS)?;
    let spec: ExceptionCreate = read_json(request).await?;
    let view = state
        .store
        .create_exception(&spec, caller.name(), state.now())
        .await
        .map_err(to_api)?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `DELETE /api/v1/exceptions/{id}` (audited).
pub async fn revoke_exception(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ExceptionView>, ApiError> {
    caller.require(EXCEPTION_WRITERS)?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_field("an exception id is a number", "id"))?;
    let work = state.store.revoke_exception(id, caller.name(), state.now());
    answer(&caller, EXCEPTION_WRITERS, work).await
}

/// `GET /api/v1/tokens`: every token without its secret.
pub async fn tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    answer(&caller, ADMINS, state.store.list_tokens()).await
}

/// 400 unless a cluster is given exactly for the roles bound to one.
pub fn check_token_request(request: &TokenCreate) -> Result<(), ApiError> {
    if request.name.trim().is_empty() {
        return Err(ApiError::bad_field("a token needs a name", "name"));
    }
    match (&request.cluster, request.role.is_cluster_bound()) {
        (None, true) => Err(ApiError::bad_field(
            format!("a {} token needs a cluster", request.role),
            "cluster",
        )),
        (Some(_), false) => Err(ApiError::bad_field(
            format!("a {} token is not bound to a cluster", request.role),
            "cluster",
        )),
        (Some(c), true) => crate::ingest::check_cluster_name(c),
        (None, false) => Ok(()),
    }
}

/// `POST /api/v1/tokens`: the secret is in this answer only.
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    caller.require(ADMINS)?;
    let request: TokenCreate = read_json(request).await?;
    check_token_request(&request)?;
    let created = state
        .store
        .create_token(&request, caller.name(), state.now())
        .await
        .map_err(to_api)?;
    tracing::info!(token = %created.info.id, role = %created.info.role, "token created");
    Ok((StatusCode::CREATED, Json(created)))
}

/// `DELETE /api/v1/tokens/{id}`.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(ADMINS)?;
    state
        .store
        .revoke_token(&id, caller.name(), state.now())
        .await
        .map_err(to_api)?;
    tracing::info!(token = %id, "token revoked");
    Ok(StatusCode::NO_CONTENT)
}
