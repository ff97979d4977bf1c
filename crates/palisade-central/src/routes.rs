//! The one table of routes: the router is built from it and so is the OpenAPI document
//! (`/api/v1/openapi.json`), so the two cannot disagree.

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, Uri};
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, delete, get, post};
use serde_json::{Map, Value, json};
use tower_http::decompression::RequestDecompressionLayer;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::{graph, health, ingest, metrics, query};

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
                "admin, analyst",
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
                "admin, analyst",
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
/// gzip decoding, a JSON 404 for unknown paths.
pub fn router(state: AppState, body_limit: usize) -> Router {
    let mut router = Router::new();
    for (endpoint, handler) in table() {
        router = router.route(endpoint.path, handler);
    }
    router
        .route_layer(from_fn_with_state(state.metrics.clone(), metrics::track))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestDecompressionLayer::new())
        .with_state(state)
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
    Json(document())
}

/// The OpenAPI 3.1 document of every endpoint in [`table`].
pub fn document() -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for e in endpoints() {
        let mut parameters: Vec<Value> = e
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        parameters.extend(e.query.iter().map(|name| {
            json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}})
        }));
        let mut op = json!({
            "summary": e.summary,
            "description": format!("Roles: {}.", e.roles),
            "parameters": parameters,
            "responses": {
                "200": {"description": "Success", "content": {"application/json": {"schema": schema_ref(e.response, &mut schemas)}}},
                "default": {"description": "Error", "content": {"application/json": {"schema": schema_ref("ErrorBody", &mut schemas)}}},
            },
        });
        if e.roles == "none" {
            op["security"] = json!([]);
        }
        if let Some(body) = e.body {
            op["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": schema_ref(body, &mut schemas)}},
            });
        }
        let path = paths
            .entry(e.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        path[e.method.as_str().to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Palisade central",
            "version": "v1",
            "description": "Scans, sensors, admission webhooks and runtime agents push; analysts query. Bodies are the types of the palisade-api crate; errors are ErrorBody (400 names the field).",
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
    })
}

/// A `$ref` to the named schema (`X[]` is an array of X), registering it.
fn schema_ref(name: &str, schemas: &mut Map<String, Value>) -> Value {
    if let Some(item) = name.strip_suffix("[]") {
        return json!({"type": "array", "items": schema_ref(item, schemas)});
    }
    let key: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    schemas.entry(key.clone()).or_insert_with(|| {
        json!({"type": "object", "description": format!("palisade_api::{name} (JSON, see the crate's documentation)")})
    });
    json!({"$ref": format!("#/components/schemas/{key}")})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_every_route_once_with_its_parameters() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let table = endpoints();
        let documented: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|methods| methods.as_object().unwrap().len())
            .sum();
        assert_eq!(documented, table.len());
        for e in &table {
            let op = &doc["paths"][e.path][e.method.as_str().to_ascii_lowercase()];
            assert!(op.is_object(), "{} {}", e.method, e.path);
            let params = op["parameters"].as_array().unwrap();
            for name in e.query {
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == *name && p["in"] == "query")
                );
            }
            if e.path.contains("{cluster}") {
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == "cluster" && p["in"] == "path")
                );
            }
            // Every schema referenced is defined.
            let text = op.to_string();
            for reference in text.split("#/components/schemas/").skip(1) {
                let name = reference.split('"').next().unwrap();
                assert!(doc["components"]["schemas"][name].is_object(), "{name}");
            }
        }
        // Only /healthz goes without a token.
        let open: Vec<_> = table.iter().filter(|e| e.roles == "none").collect();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].path, "/healthz");
    }
}
