//! Questions central answers by running Palisade's engines over a cluster's stored objects:
//! the network graph (palisade-netpol's exact reachability, with the observed flows beside it
//! and the allowed edges never observed)
//! and RBAC who-can (palisade-rbac). The objects become an inventory through
//! `palisade_ingest::ingest_value`, as `palisade netpol` and `palisade rbac` read files: there
//! is no second engine. The inventory and the RBAC index are built once per snapshot and
//! shared with the dashboard ([`crate::analyses`]).

use axum::Json;
use axum::extract::{Path, State};
use palisade_api::FlowRecord;
use std::sync::Arc;

use palisade_model::Diagnostic;
use palisade_netpol::{Connection, Connectivity, Endpoint};
use palisade_rbac::{Access, Request};
use serde::{Deserialize, Serialize};

use crate::analyses::Analysed;
use crate::auth::{Caller, READERS};
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use crate::store_error::to_api;

/// The stored objects of `cluster` built (from [`crate::analyses`]), for callers who read
/// everything (404 when the cluster has no snapshot).
async fn analysed(
    state: &AppState,
    caller: &Caller,
    cluster: &str,
) -> Result<Arc<Analysed>, ApiError> {
    caller.require(READERS)?;
    crate::analyses::analysed(state, cluster).await
}

/// Runs CPU-bound engine work off the I/O threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("analysis failed: {e}"),
        )
    })
}

/// `GET /api/v1/clusters/{cluster}/network` parameters.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkQuery {
    /// Only connections from or to a workload of this namespace.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// The network graph of a cluster.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct NetworkGraph {
    /// Cluster.
    pub cluster: String,
    /// What the NetworkPolicies allow (exact, from palisade-netpol).
    #[schemars(schema_with = "crate::openapi::reachability_schema")]
    pub reachability: Connectivity,
    /// What agents observed.
    pub flows: Vec<FlowRecord>,
    /// Allowed connections between two workloads that no flow was ever observed on:
    /// candidates to tighten the policies (an edge to or from an external range is never
    /// listed: flows name outside addresses, not ranges).
    #[schemars(schema_with = "crate::openapi::connections_schema")]
    pub unused: Vec<Connection>,
}

/// The allowed workload-to-workload connections with no observed flow from the source to the
/// destination workload.
fn unused(reachability: &Connectivity, flows: &[FlowRecord]) -> Vec<Connection> {
    let observed: std::collections::HashSet<(
        &palisade_model::WorkloadId,
        &palisade_model::WorkloadId,
    )> = flows
        .iter()
        .filter_map(|f| Some((f.src.as_ref()?, f.dst.as_ref()?)))
        .collect();
    reachability
        .connections
        .iter()
        .filter(|c| match (&c.src, &c.dst) {
            (Endpoint::Workload(s), Endpoint::Workload(d)) => !observed.contains(&(s, d)),
            _ => false,
        })
        .cloned()
        .collect()
}

fn in_namespace(endpoint: &Endpoint, namespace: &str) -> bool {
    matches!(endpoint, Endpoint::Workload(w) if w.namespace == namespace)
}

/// `GET /api/v1/clusters/{cluster}/network`.
pub async fn network(
    State(state): State<AppState>,
    caller: Caller,
    Path(cluster): Path<String>,
    Query(q): Query<NetworkQuery>,
) -> Result<Json<NetworkGraph>, ApiError> {
    let built = analysed(&state, &caller, &cluster).await?;
    let mut flows = state.store.flows(&cluster).await.map_err(to_api)?;
    let mut reachability =
        blocking(move || palisade_netpol::connectivity(&built.inventory)).await?;
    if let Some(ns) = &q.namespace {
        let keep = |c: &Connection| in_namespace(&c.src, ns) || in_namespace(&c.dst, ns);
        reachability.connections.retain(keep);
        reachability.workloads.retain(|w| &w.id.namespace == ns);
        let flow_in =
            |w: &Option<palisade_model::WorkloadId>| w.as_ref().is_some_and(|w| &w.namespace == ns);
        flows.retain(|f| flow_in(&f.src) || flow_in(&f.dst));
    }
    Ok(Json(NetworkGraph {
        cluster,
        unused: unused(&reachability, &flows),
        reachability,
        flows,
    }))
}

/// `GET /api/v1/clusters/{cluster}/rbac/who-can` parameters.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhoCanQuery {
    /// Verb (`get`, `create`, …).
    pub verb: String,
    /// Resource (`secrets`, `deployments.apps`, `pods/exec`) or a non-resource URL (`/metrics`).
    pub resource: String,
    /// Namespace of the request (absent: cluster-wide).
    #[serde(default)]
    pub namespace: Option<String>,
}

/// The subjects granted a request.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct WhoCan {
    /// Cluster.
    pub cluster: String,
    /// Every subject granted the request, with binding, role and rule.
    #[schemars(schema_with = "crate::openapi::access_schema")]
    pub subjects: Vec<Access>,
    /// Problems met reading the RBAC objects.
    pub diagnostics: Vec<Diagnostic>,
}

/// `GET /api/v1/clusters/{cluster}/rbac/who-can`.
pub async fn who_can(
    caller: Caller,
    State(state): State<AppState>,
    Path(cluster): Path<String>,
    Query(q): Query<WhoCanQuery>,
) -> Result<Json<WhoCan>, ApiError> {
    let built = analysed(&state, &caller, &cluster).await?;
    let request = Request::parse(&q.verb, &q.resource, q.namespace.as_deref(), None)
        .map_err(|e| ApiError::bad_field(e.to_string(), "resource"))?;
    let (subjects, diagnostics) = blocking(move || {
        let index = &built.rbac;
        (index.who_can(&request), index.diagnostics().to_vec())
    })
    .await?;
    Ok(Json(WhoCan {
        cluster,
        subjects,
        diagnostics,
    }))
}
