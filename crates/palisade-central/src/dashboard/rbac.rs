//! `/ui/rbac`: the who-can explorer (verb, resource, namespace; palisade-rbac over the stored
//! objects, as `GET …/rbac/who-can`) and the cluster's risky grants.

use axum::extract::State;
use maud::{Markup, html};
use palisade_rbac::Request;
use serde::Deserialize;

use super::layout::{self, UiError, no_data, severity, text_input};
use super::{Params, UiState, Viewer, cluster_names, workloads};
use crate::analyses::analysed;
use crate::graph::blocking;

/// `/ui/rbac` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct RbacParams {
    cluster: Option<String>,
    verb: Option<String>,
    resource: Option<String>,
    namespace: Option<String>,
}

fn subject(s: &palisade_model::api::Subject) -> String {
    match &s.namespace {
        Some(ns) => format!("{} {ns}/{}", s.kind, s.name),
        None => format!("{} {}", s.kind, s.name),
    }
}

/// `Binding name → Role name`.
pub fn via(v: &palisade_rbac::Via) -> String {
    format!(
        "{} {} → {} {}",
        v.binding.kind, v.binding.name, v.role.kind, v.role.name
    )
}

/// `GET /ui/rbac`.
pub async fn page(
    State(state): State<UiState>,
    viewer: Viewer,
    Params(p): Params<RbacParams>,
) -> Result<Markup, UiError> {
    let clusters = cluster_names(&state).await?;
    let Some(cluster) = p.cluster.clone().or_else(|| clusters.first().cloned()) else {
        return Ok(layout::page(
            &viewer,
            "RBAC",
            "/ui/rbac",
            no_data("nothing has been pushed yet"),
        ));
    };
    let request = match (&p.verb, &p.resource) {
        (Some(verb), Some(resource)) => Some(
            Request::parse(verb, resource, p.namespace.as_deref(), None)
                .map_err(|e| UiError::bad_request(e.to_string()))?,
        ),
        _ => None,
    };
    let built = analysed(&state.app, &cluster).await?;
    let (who, risky) = blocking(move || {
        let index = &built.rbac;
        let who = request.map(|r| {
            index
                .who_can(&r)
                .into_iter()
                .map(|a| (subject(&a.subject), a.scope.to_string(), via(&a.via)))
                .collect::<Vec<_>>()
        });
        (who, index.risky(&built.inventory))
    })
    .await?;
    let refs: Vec<&str> = clusters.iter().map(String::as_str).collect();
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let body = html! {
        section aria-labelledby="h-who" {
            h2 id="h-who" { "Who can" }
            form method="get" action="/ui/rbac" class="filters" {
                (layout::select("cluster", "Cluster", &refs, &cluster))
                (text_input("verb", "Verb", &s(&p.verb)))
                (text_input("resource", "Resource", &s(&p.resource)))
                (text_input("namespace", "Namespace (empty: cluster-wide)", &s(&p.namespace)))
                button type="submit" { "Ask" }
            }
            @match &who {
                None => p class="hint" { "For example verb " code { "get" } ", resource " code { "secrets" } "." },
                Some(rows) if rows.is_empty() => (no_data("no subject is granted this request")),
                Some(rows) => div class="scroll" { table {
                    thead { tr { th scope="col" { "Subject" } th scope="col" { "Scope" } th scope="col" { "Granted by" } } }
                    tbody { @for (sub, scope, v) in rows { tr { td { (sub) } td { (scope) } td { (v) } } } }
                } },
            }
        }
        section aria-labelledby="h-risky" {
            h2 id="h-risky" { "Risky grants in " (cluster) }
            @if risky.is_empty() { (no_data("no risky grant")) }
            @else { div class="scroll" { table {
                thead { tr { th scope="col" { "Severity" } th scope="col" { "Subject" } th scope="col" { "Capability" } th scope="col" { "Scope" } th scope="col" { "Granted by" } th scope="col" { "Workloads running as it" } } }
                tbody { @for g in &risky { tr {
                    td { (severity(g.severity)) }
                    td { (subject(&g.subject)) }
                    td { (g.capability) @if g.restricted_to_names { " (named objects only)" } }
                    td { (g.scope) }
                    td { (g.via.iter().map(via).collect::<Vec<_>>().join("; ")) }
                    td { @for w in &g.workloads { a href=(workloads::link(&cluster, &w.workload)) { (w.workload.namespace_first()) } " " } }
                } } }
            } } }
        }
    };
    Ok(layout::page(&viewer, "RBAC", "/ui/rbac", body))
}
