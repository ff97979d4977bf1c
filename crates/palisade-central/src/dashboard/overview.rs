//! `/ui/`: clusters by severity with the trend of their latest snapshot, the top risks, the
//! alerts of the last 24 hours and the images with fixable critical vulnerabilities.

use axum::extract::State;
use maud::{Markup, html};
use palisade_api::{AlertQuery, ImageQuery, WorkloadQuery, WorkloadSort};
use palisade_model::finding::Severity;
use palisade_model::time::Timestamp;

use super::layout::{self, UiError, href, no_data, severity};
use super::{UiState, Viewer, workloads};

/// `GET /ui/`.
pub async fn page(State(state): State<UiState>, viewer: Viewer) -> Result<Markup, UiError> {
    let store = &state.app.store;
    let now = state.app.now();
    let clusters = store.clusters(now).await?;
    let trends = store.trends().await?;
    let top = store
        .workloads(&WorkloadQuery {
            sort: Some(WorkloadSort::Risk),
            limit: Some(10),
            ..WorkloadQuery::default()
        })
        .await?;
    let day_ago = Timestamp::from_unix_ms(now.unix_ms() - 24 * 3600 * 1000);
    let alerts = store
        .alerts(&AlertQuery {
            since: Some(day_ago),
            limit: Some(20),
            ..AlertQuery::default()
        })
        .await?;
    let images = store
        .images(&ImageQuery {
            severity: Some(Severity::Critical),
            limit: Some(50),
            ..ImageQuery::default()
        })
        .await?;
    let fixable: Vec<_> = images
        .items
        .iter()
        .filter_map(|i| {
            let n = i
                .vulnerabilities
                .iter()
                .filter(|v| v.severity == Severity::Critical && v.fixed.is_some())
                .count();
            (n > 0).then_some((i, n))
        })
        .collect();
    let sevs: Vec<Severity> = Severity::ALL.iter().rev().copied().collect();
    let body = html! {
        section aria-labelledby="h-clusters" {
            h2 id="h-clusters" { "Clusters" }
            @if clusters.is_empty() { (no_data("nothing has been pushed yet (palisade scan DIR --push URL)")) }
            @else {
                div class="scroll" { table {
                    thead { tr {
                        th scope="col" { "Cluster" } th scope="col" { "Last snapshot" } th scope="col" { "Workloads" }
                        @for s in &sevs { th scope="col" { (severity(*s)) } }
                        th scope="col" { "New" } th scope="col" { "Resolved" }
                    } }
                    tbody { @for c in &clusters {
                        @let trend = trends.iter().find(|t| t.cluster == c.name);
                        tr {
                            th scope="row" { a href=(href("/ui/workloads", &[("cluster", &c.name)])) { (c.name) } }
                            td { @if let Some(t) = c.last_snapshot_at { (t.rfc3339()) } @else { "never" } }
                            td class="num" { (c.workloads) }
                            @for s in &sevs {
                                td class="num" { a href=(href("/ui/findings", &[("cluster", &c.name), ("severity", s.as_str())])) { (c.open_findings.get(s).copied().unwrap_or(0)) } }
                            }
                            td class="num" { a href=(href("/ui/findings", &[("cluster", &c.name), ("status", "new")])) { (trend.map_or(0, |t| t.new)) } }
                            td class="num" { a href=(href("/ui/findings", &[("cluster", &c.name), ("status", "resolved")])) { (trend.map_or(0, |t| t.resolved)) } }
                        }
                    } }
                } }
                p class="hint" { "Open findings (exceptions applied) per severity; new and resolved compare each cluster's latest snapshot with the one before." }
            }
        }
        section aria-labelledby="h-risk" {
            h2 id="h-risk" { "Top risks" }
            @if top.items.is_empty() { (no_data("no workloads stored")) }
            @else { (workloads::table(&top.items, None)) }
        }
        section aria-labelledby="h-alerts" {
            h2 id="h-alerts" { "Runtime alerts, last 24 hours" }
            @if alerts.items.is_empty() { (no_data("no runtime alert in the last 24 hours (agents push them)")) }
            @else { ul class="plain" { @for a in &alerts.items { li {
                (severity(a.alert.severity)) " " time { (a.alert.time.rfc3339()) } " " (a.cluster) " "
                @if let Some(w) = &a.alert.workload { a href=(workloads::link(&a.cluster, w)) { (w.namespace_first()) } " " }
                strong { (a.alert.rule) } ": " (a.alert.message)
            } } } }
            p { a href="/ui/runtime" { "All runtime data" } }
        }
        section aria-labelledby="h-images" {
            h2 id="h-images" { "Images with fixable critical vulnerabilities" }
            @if fixable.is_empty() { (no_data("no stored image has a critical vulnerability with a fix (images carry vulnerabilities when the scan used --registry)")) }
            @else { ul class="plain" { @for (i, n) in &fixable { li {
                a href=(href("/ui/images", &[("q", &i.reference)])) { code { (i.reference) } } " — " (n) " fixable critical, " (i.workloads) " workloads"
            } } } }
        }
    };
    Ok(layout::page(&viewer, "Overview", "/ui/", body))
}
