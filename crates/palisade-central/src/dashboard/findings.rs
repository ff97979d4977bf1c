//! `/ui/findings`: findings filtered by cluster, check, severity, namespace and status, grouped
//! by check or by object; each links to its workload and (for admins) to an exception form.

use axum::extract::State;
use maud::{Markup, html};
use palisade_api::{FindingQuery, FindingStatus, FindingView};
use serde::Deserialize;

use super::layout::{self, UiError, href, no_data, pager, severity, text_input};
use super::{Params, UiState, Viewer, cluster_names, parse_severity, workloads};

/// `/ui/findings` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct FindingParams {
    cluster: Option<String>,
    namespace: Option<String>,
    check: Option<String>,
    severity: Option<String>,
    status: Option<FindingStatus>,
    group: Option<String>,
    cursor: Option<String>,
}

/// Rows per page.
const PAGE: u32 = 100;

fn status_name(s: FindingStatus) -> &'static str {
    match s {
        FindingStatus::New => "new",
        FindingStatus::Open => "open",
        FindingStatus::Resolved => "resolved",
        FindingStatus::Suppressed => "suppressed",
    }
}

fn object_label(f: &FindingView) -> String {
    match &f.object.namespace {
        Some(ns) => format!("{ns}/{}/{}", f.object.kind, f.object.name),
        None => format!("{}/{}", f.object.kind, f.object.name),
    }
}

/// The link to the exception form prefilled from finding `f`.
pub fn exception_link(f: &FindingView) -> String {
    href(
        "/ui/exceptions/new",
        &[
            ("cluster", &f.cluster),
            ("check", &f.check_id),
            ("namespace", f.object.namespace.as_deref().unwrap_or("")),
            ("name", &f.object.name),
            ("fingerprint", &f.fingerprint),
        ],
    )
}

fn row(f: &FindingView, editor: bool) -> Markup {
    html! { tr {
        td { (severity(f.severity)) }
        td { a href=(href("/ui/policies", &[("check", &f.check_id)])) { (f.check_id) } " " (f.title) }
        td {
            @if let (Some(ns), true) = (&f.object.namespace, workloads::is_workload_kind(&f.object.kind)) {
                a href=(workloads::link(&f.cluster, &palisade_model::WorkloadId::new(ns.clone(), f.object.kind.clone(), f.object.name.clone()))) { (object_label(f)) }
            } @else { (object_label(f)) }
            @if let Some(c) = &f.container { " container " code { (c) } }
        }
        td { (f.message) }
        td { (f.cluster) }
        td { (status_name(f.status)) @if let Some(e) = f.exception_id { " (exception " (e) ")" } }
        td { (f.first_seen.rfc3339()) }
        @if editor { td { @if f.status != FindingStatus::Resolved { a href=(exception_link(f)) { "Create exception" } } } }
    } }
}

/// `GET /ui/findings`.
pub async fn page(
    State(state): State<UiState>,
    viewer: Viewer,
    Params(p): Params<FindingParams>,
) -> Result<Markup, UiError> {
    let sev = parse_severity(p.severity.as_deref())?;
    let mut page = state
        .app
        .store
        .findings(
            &FindingQuery {
                cluster: p.cluster.clone(),
                namespace: p.namespace.clone(),
                check: p.check.clone(),
                severity: sev,
                status: p.status,
                since: None,
                limit: Some(PAGE),
                cursor: p.cursor.clone(),
            },
            state.app.now(),
        )
        .await?;
    let group = p.group.clone().unwrap_or_default();
    // Grouping orders this page's rows by the group key (stable: worst first inside a group).
    match group.as_str() {
        "check" => page.items.sort_by(|a, b| a.check_id.cmp(&b.check_id)),
        "object" => page.items.sort_by_key(object_label),
        _ => {}
    }
    let key = |f: &FindingView| match group.as_str() {
        "check" => format!("{} {}", f.check_id, f.title),
        "object" => object_label(f),
        _ => String::new(),
    };
    let clusters = cluster_names(&state).await?;
    let refs: Vec<&str> = clusters.iter().map(String::as_str).collect();
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let (cluster, namespace, check, severity_s, cursor) = (
        s(&p.cluster),
        s(&p.namespace),
        s(&p.check),
        s(&p.severity),
        s(&p.cursor),
    );
    let status = p.status.map(status_name).unwrap_or("");
    let params: Vec<(&str, &str)> = vec![
        ("cluster", &cluster),
        ("namespace", &namespace),
        ("check", &check),
        ("severity", &severity_s),
        ("status", status),
        ("group", &group),
        ("cursor", &cursor),
    ];
    let editor = viewer.edits_exceptions();
    let columns = if editor { 8 } else { 7 };
    let body = html! {
        form method="get" action="/ui/findings" class="filters" {
            (layout::select("cluster", "Cluster", &refs, &cluster))
            (text_input("check", "Check", &check))
            (layout::select("severity", "Severity at least", &layout::severity_names(), &severity_s))
            (text_input("namespace", "Namespace", &namespace))
            (layout::select("status", "Status", &["new", "open", "resolved", "suppressed"], status))
            (layout::select("group", "Group by", &["check", "object"], &group))
            button type="submit" { "Filter" }
        }
        p class="hint" { "Without a status: new and open findings (suppressed ones are under status suppressed)." }
        @if page.items.is_empty() { (no_data("no finding matches")) }
        @else { div class="scroll" { table {
            thead { tr {
                th scope="col" { "Severity" } th scope="col" { "Check" } th scope="col" { "Object" } th scope="col" { "What" }
                th scope="col" { "Cluster" } th scope="col" { "Status" } th scope="col" { "First seen" }
                @if editor { th scope="col" { "Exception" } }
            } }
            tbody {
                @for (i, f) in page.items.iter().enumerate() {
                    @if !group.is_empty() && (i == 0 || key(&page.items[i - 1]) != key(f)) {
                        tr class="group" { th scope="rowgroup" colspan=(columns) { (key(f)) } }
                    }
                    (row(f, editor))
                }
            }
        } } }
        (pager("/ui/findings", &params, page.next.as_deref()))
    };
    Ok(layout::page(&viewer, "Findings", "/ui/findings", body))
}
