//! The one table of routes: the router is built from it and so is the OpenAPI document
//! (`/api/v1/openapi.json`), so the two cannot disagree.

use axum::Extension;
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, Uri};
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, delete, get, post};
use serde_json::Value;
use tower_http::decompression::RequestDecompressionLayer;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::{graph, health, ingest, metrics, query, responses, runtime_policy};

/// One route as documented.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// HTTP method.
    pub method: Method,
    /// Path, with `{name}` for path parameters (axum's and OpenAPI's syntax alike).
    pub path: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Roles allowed (`none` for no token).
    pub roles: &'static str,
    /// Query parameters.
    pub query: &'static [&'static str],
    /// Request body schema (a `palisade_api` type name).
    pub body: Option<&'static str>,
    /// Response schema.
    pub response: &'static str,
}

const WORKLOAD_PARAMS: &[&str] = &[
    "cluster",
    "namespace",
    "min_risk",
    "image",
    "label",
    "sort",
    "limit",
    "cursor",
];

fn endpoint(
    method: Method,
    path: &'static str,
    summary: &'static str,
    roles: &'static str,
    query: &'static [&'static str],
    body: Option<&'static str>,
    response: &'static str,
) -> Endpoint {
    Endpoint {
        method,
        path,
        summary,
        roles,
        query,
        body,
        response,
    }
}

/// Every route with its handler.
pub fn table() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    use Method as M;
    vec![
        (
            endpoint(M::GET, "/healthz", "Liveness", "none", &[], None, "Status"),
            get(health::healthz),
        ),
        (
            endpoint(
                M::GET,
                "/readyz",
                "Readiness: the store answers (503 when not)",
                "any",
                &[],
                None,
                "Status",
            ),
            get(health::readyz),
        ),
        (
            endpoint(
                M::GET,
                "/metrics",
                "Prometheus metrics",
                "any",
                &[],
                None,
                "Metrics",
            ),
            get(metrics::page),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/openapi.json",
                "This document",
                "any",
                &[],
                None,
                "OpenApi",
            ),
            get(openapi),
        ),
        (
            endpoint(
                M::POST,
                "/api/v1/clusters/{cluster}/snapshots",
                "Push a cluster snapshot (replaces its state)",
                "admin, sensor (own cluster)",
                &[],
                Some("Snapshot"),
                "IngestAck",
            ),
            post(ingest::snapshot),
        ),
        (
            endpoint(
                M::POST,
                "/api/v1/clusters/{cluster}/alerts",
                "Push runtime alerts",
                "admin, agent (own cluster)",
                &[],
                Some("AlertBatch"),
                "IngestAck",
            ),
            post(ingest::alerts),
        ),
        (
            endpoint(
                M::POST,
                "/api/v1/clusters/{cluster}/flows",
                "Push observed flows",
                "admin, agent (own cluster)",
                &[],
                Some("FlowBatch"),
                "IngestAck",
            ),
            post(ingest::flows),
        ),
        (
            endpoint(
                M::POST,
                "/api/v1/clusters/{cluster}/baselines",
                "Push process baselines",
                "admin, agent (own cluster)",
                &[],
                Some("BaselineBatch"),
                "IngestAck",
            ),
            post(ingest::baselines),
        ),
        (
            endpoint(
                M::POST,
                "/api/v1/clusters/{cluster}/responses",
                "Push runtime responses (kill, stop, delete-pod, restart-workload) and outcomes",
                "admin, agent (own cluster)",
                &[],
                Some("ResponseBatch"),
                "IngestAck",
            ),
            post(ingest::responses),
        ),
        (
            endpoint(
                M::POST,
                "/api/v1/clusters/{cluster}/admission",
                "Push admission decisions",
                "admin, sensor (own cluster)",
                &[],
                Some("AdmissionBatch"),
                "IngestAck",
            ),
            post(ingest::admission),
        ),
        (
            endpoint(
                M::POST,
                "/api/v1/clusters/{cluster}/delta",
                "Push a sensor's changes since its previous push",
                "admin, sensor (own cluster)",
                &[],
                Some("Delta"),
                "IngestAck",
            ),
            post(ingest::delta),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/clusters",
                "Clusters and their summaries",
                "admin, analyst, sensor and agent (own cluster)",
                &[],
                None,
                "ClusterView[]",
            ),
            get(query::clusters),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/workloads",
                "Workloads (filter, sort, paginate)",
                "admin, analyst, sensor (own cluster)",
                WORKLOAD_PARAMS,
                None,
                "Page<WorkloadView>",
            ),
            get(query::workloads),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/risk",
                "The risk ranking",
                "admin, analyst, sensor (own cluster)",
                WORKLOAD_PARAMS,
                None,
                "Page<WorkloadView>",
            ),
            get(query::risk),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/findings",
                "Findings with their history",
                "admin, analyst, sensor (own cluster)",
                &[
                    "cluster",
                    "namespace",
                    "check",
                    "severity",
                    "status",
                    "since",
                    "limit",
                    "cursor",
                ],
                None,
                "Page<FindingView>",
            ),
            get(query::findings),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/images",
                "Images with their vulnerabilities",
                "admin, analyst",
                &["cluster", "severity", "limit", "cursor"],
                None,
                "Page<ImageView>",
            ),
            get(query::images),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/alerts",
                "Runtime alerts, newest first",
                "admin, analyst",
                &[
                    "cluster",
                    "namespace",
                    "severity",
                    "rule",
                    "since",
                    "limit",
                    "cursor",
                ],
                None,
                "Page<AlertView>",
            ),
            get(query::alerts),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/responses",
                "Runtime responses and their outcomes, newest first",
                "admin, analyst",
                &["cluster", "limit"],
                None,
                "ResponseView[]",
            ),
            get(responses::responses),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/runtime-policy",
                "The RuntimePolicy of the stored alerts and baselines (palisade scan --runtime-policy)",
                "admin, analyst, sensor and agent (own cluster)",
                &["cluster"],
                None,
                "RuntimePolicy",
            ),
            get(runtime_policy::runtime_policy),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/clusters/{cluster}/network",
                "Reachability (netpol engine) and observed flows",
                "admin, analyst",
                &["namespace"],
                None,
                "NetworkGraph",
            ),
            get(graph::network),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/clusters/{cluster}/rbac/who-can",
                "Subjects granted a request (rbac engine)",
                "admin, analyst",
                &["verb", "resource", "namespace"],
                None,
                "WhoCan",
            ),
            get(graph::who_can),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/exceptions",
                "Exceptions",
                "admin, analyst",
                &[],
                None,
                "ExceptionView[]",
            ),
            get(query::exceptions),
        ),
        (
            endpoint(
                M::POST,
                "/api/v1/exceptions",
                "Create an exception (audited)",
                "admin",
                &[],
                Some("ExceptionCreate"),
                "ExceptionView",
            ),
            post(query::create_exception),
        ),
        (
            endpoint(
                M::DELETE,
                "/api/v1/exceptions/{id}",
                "Revoke an exception (audited)",
                "admin",
                &[],
                None,
                "ExceptionView",
            ),
            delete(query::revoke_exception),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/audit",
                "Audit log, newest first",
                "admin",
                &["limit", "cursor"],
                None,
                "Page<AuditEntry>",
            ),
            get(query::audit),
        ),
        (
            endpoint(
                M::GET,
                "/api/v1/tokens",
                "Tokens (never their secrets)",
                "admin",
                &[],
                None,
                "TokenInfo[]",
            ),
            get(query::tokens),
        ),
        (
            endpoint(
                M::POST,
                "/api/v1/tokens",
                "Create a token (its secret is in this answer only)",
                "admin",
                &[],
                Some("TokenCreate"),
                "TokenCreated",
            ),
            post(query::create_token),
        ),
        (
            endpoint(
                M::DELETE,
                "/api/v1/tokens/{id}",
                "Revoke a token",
                "admin",
                &[],
                None,
                "Empty",
            ),
            delete(query::revoke_token),
        ),
    ]
}

/// The endpoints, without handlers.
pub fn endpoints() -> Vec<Endpoint> {
    table().into_iter().map(|(e, _)| e).collect()
}

/// The router of every endpoint: request metrics and access log, a body limit applied after
/// gzip decoding, a JSON 404 for unknown paths; and the dashboard (`/ui`, `/`).
pub fn router(state: AppState, body_limit: usize, stream_limit: u64) -> Router {
    let mut router = Router::new();
    for (endpoint, handler) in table() {
        router = router.route(endpoint.path, handler);
    }
    router
        .route_layer(from_fn_with_state(state.metrics.clone(), metrics::track))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(Extension(crate::body::BodyLimit(body_limit)))
        .layer(Extension(crate::stream::StreamLimit(stream_limit)))
        .layer(RequestDecompressionLayer::new())
        // Outermost, so what it drains is the body as sent (not decompressed).
        .layer(axum::middleware::from_fn(crate::body::drain_unread))
        .with_state(state.clone())
        .merge(crate::dashboard::router(state))
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route {method} {}", uri.path()))
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not take {method}", uri.path()),
    )
}

/// `GET /api/v1/openapi.json`.
async fn openapi(State(_state): State<AppState>, _caller: Caller) -> Json<Value> {
    Json(crate::openapi::document())
}
