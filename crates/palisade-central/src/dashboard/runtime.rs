//! `/ui/runtime`: the alerts timeline (by hour, newest first), process baselines and the
//! responses agents report in their alerts.

use std::collections::BTreeMap;

use axum::extract::State;
use maud::{Markup, html};
use palisade_api::AlertQuery;
use serde::Deserialize;

use super::layout::{self, UiError, no_data, pager, severity, text_input};
use super::{Params, UiState, Viewer, cluster_names, parse_severity, workloads};

/// `/ui/runtime` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct RuntimeParams {
    cluster: Option<String>,
    namespace: Option<String>,
    severity: Option<String>,
    rule: Option<String>,
    cursor: Option<String>,
}

/// `GET /ui/runtime`.
pub async fn page(
    State(state): State<UiState>,
    viewer: Viewer,
    Params(p): Params<RuntimeParams>,
) -> Result<Markup, UiError> {
    let store = &state.app.store;
    let alerts = store
        .alerts(&AlertQuery {
            cluster: p.cluster.clone(),
            namespace: p.namespace.clone(),
            severity: parse_severity(p.severity.as_deref())?,
            rule: p.rule.clone(),
            since: None,
            limit: Some(100),
            cursor: p.cursor.clone(),
        })
        .await?;
    let clusters = cluster_names(&state).await?;
    let mut baselines = Vec::new();
    for c in clusters
        .iter()
        .filter(|c| p.cluster.as_ref().is_none_or(|w| w == *c))
    {
        for b in store.baselines(c).await? {
            baselines.push((c.clone(), b));
        }
    }
    let mut by_hour: BTreeMap<String, Vec<&palisade_api::AlertView>> = BTreeMap::new();
    for a in &alerts.items {
        let t = a.alert.time.rfc3339();
        by_hour
            .entry(t.get(..13).unwrap_or(&t).to_string())
            .or_default()
            .push(a);
    }
    let responses: Vec<_> = alerts
        .items
        .iter()
        .filter_map(|a| a.alert.detail.get("response").map(|r| (a, r.to_string())))
        .collect();
    let refs: Vec<&str> = clusters.iter().map(String::as_str).collect();
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let (cluster, namespace, sev, rule, cursor) = (
        s(&p.cluster),
        s(&p.namespace),
        s(&p.severity),
        s(&p.rule),
        s(&p.cursor),
    );
    let params: Vec<(&str, &str)> = vec![
        ("cluster", &cluster),
        ("namespace", &namespace),
        ("severity", &sev),
        ("rule", &rule),
        ("cursor", &cursor),
    ];
    let body = html! {
        form method="get" action="/ui/runtime" class="filters" {
            (layout::select("cluster", "Cluster", &refs, &cluster))
            (text_input("namespace", "Namespace", &namespace))
            (layout::select("severity", "Severity at least", &layout::severity_names(), &sev))
            (text_input("rule", "Rule", &rule))
            button type="submit" { "Filter" }
        }
        section aria-labelledby="h-timeline" {
            h2 id="h-timeline" { "Alerts timeline" }
            @if by_hour.is_empty() { (no_data("no runtime alert stored (agents push them with palisade agent run)")) }
            @for (hour, list) in by_hour.iter().rev() {
                h3 { time { (hour) ":00Z" } " — " (list.len()) " alerts" }
                ul class="plain" { @for a in list { li {
                    (severity(a.alert.severity)) " " (a.alert.time.rfc3339()) " " (a.cluster) " "
                    @if let Some(w) = &a.alert.workload { a href=(workloads::link(&a.cluster, w)) { (w.namespace_first()) } " " }
                    strong { (a.alert.rule) } ": " (a.alert.message)
                } } }
            }
            (pager("/ui/runtime", &params, alerts.next.as_deref()))
        }
        section aria-labelledby="h-responses" {
            h2 id="h-responses" { "Responses (kill / replace)" }
            @if responses.is_empty() { (no_data("no alert on this page reports a response")) }
            @else { ul class="plain" { @for (a, r) in &responses { li { (a.alert.time.rfc3339()) " " strong { (a.alert.rule) } ": " code { (r) } } } } }
        }
        section aria-labelledby="h-baselines" {
            h2 id="h-baselines" { "Process baselines" }
            @if baselines.is_empty() { (no_data("no baseline pushed")) }
            @else { div class="scroll" { table {
                thead { tr { th scope="col" { "Cluster" } th scope="col" { "Workload" } th scope="col" { "Container" } th scope="col" { "State" } th scope="col" { "Processes" } th scope="col" { "Updated" } } }
                tbody { @for (c, b) in &baselines { tr {
                    td { (c) } td { a href=(workloads::link(c, &b.workload)) { (b.workload.namespace_first()) } } td { (b.container) }
                    td { @if b.locked { "locked" } @else { "learning" } } td { (b.processes.join(", ")) } td { (b.updated_at.rfc3339()) }
                } } }
            } } }
        }
    };
    Ok(layout::page(&viewer, "Runtime", "/ui/runtime", body))
}
