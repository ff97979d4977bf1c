//! `/ui/images`: images with their vulnerabilities, filtered by cluster, severity and
//! reference, paginated.

use axum::extract::State;
use maud::{Markup, html};
use palisade_api::ImageQuery;
use palisade_model::finding::Severity;
use serde::Deserialize;

use super::layout::{self, UiError, href, no_data, pager, severity, text_input};
use super::{Params, UiState, Viewer, cluster_names, parse_severity};

/// `/ui/images` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ImageParams {
    cluster: Option<String>,
    severity: Option<String>,
    /// Only references containing this text (on the page shown).
    q: Option<String>,
    cursor: Option<String>,
}

/// `GET /ui/images`.
pub async fn page(
    State(state): State<UiState>,
    viewer: Viewer,
    Params(p): Params<ImageParams>,
) -> Result<Markup, UiError> {
    let page = state
        .app
        .store
        .images(&ImageQuery {
            cluster: p.cluster.clone(),
            severity: parse_severity(p.severity.as_deref())?,
            limit: Some(50),
            cursor: p.cursor.clone(),
        })
        .await?;
    let q = p.q.clone().unwrap_or_default();
    let items: Vec<_> = page
        .items
        .iter()
        .filter(|i| i.reference.contains(&q))
        .collect();
    let clusters = cluster_names(&state).await?;
    let refs: Vec<&str> = clusters.iter().map(String::as_str).collect();
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let (cluster, sev, cursor) = (s(&p.cluster), s(&p.severity), s(&p.cursor));
    let params: Vec<(&str, &str)> = vec![
        ("cluster", &cluster),
        ("severity", &sev),
        ("q", &q),
        ("cursor", &cursor),
    ];
    let sevs: Vec<Severity> = Severity::ALL.iter().rev().copied().collect();
    let body = html! {
        form method="get" action="/ui/images" class="filters" {
            (layout::select("cluster", "Cluster", &refs, &cluster))
            (layout::select("severity", "With a vulnerability at least", &layout::severity_names(), &sev))
            (text_input("q", "Reference contains", &q))
            button type="submit" { "Filter" }
        }
        @if items.is_empty() { (no_data("no image matches")) }
        @else { div class="scroll" { table {
            thead { tr {
                th scope="col" { "Image" } th scope="col" { "Clusters" } th scope="col" { "Workloads" }
                @for s in &sevs { th scope="col" { (severity(*s)) } }
                th scope="col" { "Fixable" } th scope="col" { "Worst" }
            } }
            tbody { @for i in &items {
                @let count = |s: Severity| i.vulnerabilities.iter().filter(|v| v.severity == s).count();
                tr {
                    th scope="row" { code { (i.reference) } @if let Some(d) = &i.digest { br; span class="muted" { (d) } } }
                    td { (i.clusters.join(", ")) }
                    td class="num" { a href=(href("/ui/workloads", &[("image", &i.reference)])) { (i.workloads) } }
                    @for s in &sevs { td class="num" { (count(*s)) } }
                    td class="num" { (i.vulnerabilities.iter().filter(|v| v.fixed.is_some()).count()) }
                    td { @for v in i.vulnerabilities.iter().take(3) { (severity(v.severity)) " " (v.id) " (" (v.package) @if let Some(f) = &v.fixed { ", fixed in " (f) } ") " br; } }
                }
            } }
        } } }
        @if page.items.iter().all(|i| i.vulnerabilities.is_empty()) && !page.items.is_empty() {
            p class="hint" { "No vulnerabilities are stored: scans learn them with --registry and a vulnerability database." }
        }
        (pager("/ui/images", &params, page.next.as_deref()))
    };
    Ok(layout::page(
        &viewer,
        "Images & vulnerabilities",
        "/ui/images",
        body,
    ))
}
