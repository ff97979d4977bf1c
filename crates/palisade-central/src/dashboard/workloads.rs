//! `/ui/workloads` (the sortable, filterable table) and `/ui/workload` (one workload: risk
//! factors, findings with their location, images and vulnerabilities, RBAC power, network
//! reach with the allowing policy rules, runtime alerts and process baseline).

use axum::extract::State;
use maud::{Markup, html};
use palisade_api::{AlertQuery, FindingQuery, WorkloadQuery, WorkloadSort, WorkloadView};
use palisade_model::WorkloadId;
use palisade_netpol::{Analysis, Endpoint};
use palisade_rbac::Principal;
use serde::Deserialize;

use super::layout::{self, UiError, href, no_data, pager, severity, sort_header, text_input};
use super::{Params, UiState, Viewer, cluster_names};
use crate::analyses::{Analysed, analysed};
use crate::graph::blocking;

/// The link to a workload's page.
pub fn link(cluster: &str, w: &WorkloadId) -> String {
    href(
        "/ui/workload",
        &[
            ("cluster", cluster),
            ("namespace", &w.namespace),
            ("kind", &w.kind),
            ("name", &w.name),
        ],
    )
}

/// Workload kinds that have a workload page.
pub fn is_workload_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "CronJob"
            | "Pod"
            | "ReplicationController"
            | "DeploymentConfig"
    )
}

/// How a table's headers sort: the page's path, its parameters and the current sort key.
pub type Sorting<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

/// The workloads table (sortable headers when `sorting` is given).
pub fn table(items: &[WorkloadView], sorting: Option<Sorting<'_>>) -> Markup {
    let header = |key: &str, label: &str| match sorting {
        Some((path, params, current)) => sort_header(path, params, key, label, current),
        None => html! { th scope="col" { (label) } },
    };
    html! {
        div class="scroll" { table {
            thead { tr {
                (header("risk", "Risk"))
                th scope="col" { "Cluster" }
                (header("name", "Workload"))
                th scope="col" { "Images" }
                th scope="col" { "Service account" }
                th scope="col" { "Owner" }
                th scope="col" { "Top risk factors" }
                (header("findings", "Open findings"))
            } }
            tbody { @for w in items { tr {
                td class="num" { (w.risk_score) @if let Some(r) = w.risk_rank { span class="muted" { " #" (r) } } }
                td { (w.cluster) }
                th scope="row" { a href=(link(&w.cluster, &w.id)) { (w.id.namespace) "/" (w.id.kind) "/" (w.id.name) } }
                td { @for i in &w.images { code { (i) } " " } }
                td { (w.service_account.as_deref().unwrap_or("default")) }
                td { (w.owner.as_deref().unwrap_or("—")) }
                td { (w.risk_factors.iter().take(3).cloned().collect::<Vec<_>>().join("; ")) }
                td class="num" { (w.open_findings) }
            } } }
        } }
    }
}

/// `/ui/workloads` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    cluster: Option<String>,
    namespace: Option<String>,
    min_risk: Option<u32>,
    image: Option<String>,
    label: Option<String>,
    sort: Option<WorkloadSort>,
    cursor: Option<String>,
}

/// Rows per page.
const PAGE: u32 = 50;

/// `GET /ui/workloads`.
pub async fn list(
    State(state): State<UiState>,
    viewer: Viewer,
    Params(p): Params<ListParams>,
) -> Result<Markup, UiError> {
    let sort = p.sort.unwrap_or(WorkloadSort::Risk);
    let page = state
        .app
        .store
        .workloads(&WorkloadQuery {
            cluster: p.cluster.clone(),
            namespace: p.namespace.clone(),
            min_risk: p.min_risk,
            image: p.image.clone(),
            label: p.label.clone(),
            sort: Some(sort),
            limit: Some(PAGE),
            cursor: p.cursor.clone(),
        })
        .await?;
    let clusters = cluster_names(&state).await?;
    let cluster_refs: Vec<&str> = clusters.iter().map(String::as_str).collect();
    let min_risk = p.min_risk.map(|r| r.to_string()).unwrap_or_default();
    let sort_name = match sort {
        WorkloadSort::Name => "name",
        WorkloadSort::Risk => "risk",
        WorkloadSort::Findings => "findings",
    };
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let (cluster, namespace, image, label, cursor) = (
        s(&p.cluster),
        s(&p.namespace),
        s(&p.image),
        s(&p.label),
        s(&p.cursor),
    );
    let params: Vec<(&str, &str)> = vec![
        ("cluster", &cluster),
        ("namespace", &namespace),
        ("min_risk", &min_risk),
        ("image", &image),
        ("label", &label),
        ("sort", sort_name),
        ("cursor", &cursor),
    ];
    let body = html! {
        form method="get" action="/ui/workloads" class="filters" {
            (layout::select("cluster", "Cluster", &cluster_refs, &cluster))
            (text_input("namespace", "Namespace", &namespace))
            (text_input("min_risk", "Risk at least", &min_risk))
            (text_input("image", "Image contains", &image))
            (text_input("label", "Label (k or k=v)", &label))
            input type="hidden" name="sort" value=(sort_name);
            button type="submit" { "Filter" }
        }
        @if page.items.is_empty() { (no_data("no workload matches")) }
        @else { (table(&page.items, Some(("/ui/workloads", &params, sort_name)))) }
        (pager("/ui/workloads", &params, page.next.as_deref()))
    };
    Ok(layout::page(&viewer, "Workloads", "/ui/workloads", body))
}

/// `/ui/workload` parameters: the workload's identity.
#[derive(Debug, Deserialize)]
pub struct WorkloadParams {
    cluster: String,
    namespace: String,
    kind: String,
    name: String,
}

/// One allowed connection to or from the workload, with the rules that allow it.
struct Reach {
    other: String,
    other_link: Option<WorkloadId>,
    ports: String,
    rules: Vec<String>,
}

/// What the engines say about one workload.
struct Engines {
    rbac: Vec<(String, String, String)>,
    inbound: Vec<Reach>,
    outbound: Vec<Reach>,
}

/// At most this many connections are explained rule by rule.
const EXPLAINED: usize = 50;

fn engines(built: &Analysed, id: &WorkloadId, sa: &str) -> Engines {
    let inventory = &built.inventory;
    let rbac = built
        .rbac
        .capabilities_of(&Principal::service_account(&id.namespace, sa))
        .into_iter()
        .map(|g| {
            let via = g
                .via
                .iter()
                .map(super::rbac::via)
                .collect::<Vec<_>>()
                .join("; ");
            (
                g.capability.to_string(),
                format!("{} ({})", g.severity, g.scope),
                via,
            )
        })
        .collect();
    let analysis = Analysis::new(inventory);
    let reach = analysis.reachability();
    // Only the rows from or to this workload (the whole list grows with the square of the
    // cluster).
    let focus = analysis
        .universe()
        .find_workload(&format!("{}/{}/{}", id.namespace, id.kind, id.name))
        .ok();
    let connectivity = match focus {
        Some(f) => analysis.connectivity(&reach, Some(f)),
        None => analysis.connectivity_head(None),
    };
    let me = Endpoint::Workload(id.clone());
    let (mut inbound, mut outbound) = (Vec::new(), Vec::new());
    let mut explained = 0;
    for c in &connectivity.connections {
        let (other, list) = if c.dst == me {
            (&c.src, &mut inbound)
        } else if c.src == me {
            (&c.dst, &mut outbound)
        } else {
            continue;
        };
        let rules = if explained < EXPLAINED {
            explained += 1;
            super::network::explain(&analysis, c)
        } else {
            Vec::new()
        };
        list.push(Reach {
            other: other.to_string(),
            other_link: match other {
                Endpoint::Workload(w) => Some(w.clone()),
                Endpoint::External(_) => None,
            },
            ports: c.ports.to_string(),
            rules,
        });
    }
    Engines {
        rbac,
        inbound,
        outbound,
    }
}

fn reach_table(cluster: &str, rows: &[Reach], what: &str) -> Markup {
    html! {
        @if rows.is_empty() { (no_data(&format!("no allowed connection {what}"))) }
        @else { div class="scroll" { table {
            thead { tr { th scope="col" { "Peer" } th scope="col" { "Ports" } th scope="col" { "Allowed by" } } }
            tbody { @for r in rows { tr {
                td { @if let Some(w) = &r.other_link { a href=(link(cluster, w)) { (r.other) } } @else { (r.other) } }
                td { (r.ports) }
                td { @if r.rules.is_empty() { span class="muted" { "not explained (over " (EXPLAINED) " connections)" } } @else { (r.rules.join("; ")) } }
            } } }
        } } }
    }
}

/// `GET /ui/workload`.
pub async fn detail(
    State(state): State<UiState>,
    viewer: Viewer,
    Params(p): Params<WorkloadParams>,
) -> Result<Markup, UiError> {
    let store = &state.app.store;
    let id = WorkloadId::new(p.namespace.clone(), p.kind.clone(), p.name.clone());
    let w = store.workload(&p.cluster, &id).await?.ok_or_else(|| {
        UiError::not_found(format!(
            "no workload {} in cluster {}",
            id.namespace_first(),
            p.cluster
        ))
    })?;
    // The namespace's findings page by page (the query has no object filter), this object's
    // kept.
    let mut findings = Vec::new();
    let mut query = FindingQuery {
        cluster: Some(p.cluster.clone()),
        namespace: Some(p.namespace.clone()),
        limit: Some(palisade_api::MAX_PAGE),
        ..FindingQuery::default()
    };
    loop {
        let page = store.findings(&query, state.app.now()).await?;
        findings.extend(
            page.items
                .into_iter()
                .filter(|f| f.object.kind == p.kind && f.object.name == p.name),
        );
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => break,
        }
    }
    let mut images = Vec::new();
    for reference in &w.images {
        images.push(store.image(reference, Some(&p.cluster)).await?);
    }
    let alerts = store
        .alerts(&AlertQuery {
            cluster: Some(p.cluster.clone()),
            namespace: Some(p.namespace.clone()),
            limit: Some(palisade_api::MAX_PAGE),
            ..AlertQuery::default()
        })
        .await?;
    let alerts: Vec<_> = alerts
        .items
        .into_iter()
        .filter(|a| a.alert.workload.as_ref() == Some(&id))
        .collect();
    let baselines: Vec<_> = store
        .baselines(&p.cluster)
        .await?
        .into_iter()
        .filter(|b| b.workload == id)
        .collect();
    let built = analysed(&state.app, &p.cluster).await?;
    let sa = w
        .service_account
        .clone()
        .unwrap_or_else(|| "default".into());
    let (id2, sa2) = (id.clone(), sa.clone());
    let eng = blocking(move || engines(&built, &id2, &sa2)).await?;
    let cluster = &p.cluster;
    let title = format!("{}/{}/{}", id.namespace, id.kind, id.name);
    let body = html! {
        p { "Cluster " strong { (cluster) } ", service account " code { (sa) } ", owner " (w.owner.as_deref().unwrap_or("not declared")) "." }
        section aria-labelledby="h-risk" {
            h2 id="h-risk" { "Risk " (w.risk_score) @if let Some(r) = w.risk_rank { " (rank " (r) " in its cluster)" } }
            @if w.risk_factors.is_empty() { (no_data("the sender did not rank this workload")) }
            @else { ul { @for f in &w.risk_factors { li { (f) } } } }
        }
        section aria-labelledby="h-findings" {
            h2 id="h-findings" { "Findings (" (findings.len()) ")" }
            @if findings.is_empty() { (no_data("no open finding on this workload")) }
            @else { div class="scroll" { table {
                thead { tr { th scope="col" { "Severity" } th scope="col" { "Check" } th scope="col" { "What" } th scope="col" { "Where" } th scope="col" { "Status" } } }
                tbody { @for f in &findings { tr {
                    td { (severity(f.severity)) }
                    td { a href=(href("/ui/policies", &[("check", &f.check_id)])) { (f.check_id) } br; (f.title) }
                    td { (f.message) }
                    td { "live object " code { (f.object.kind) "/" (f.object.name) }
                        @if let Some(c) = &f.container { ", container " code { (c) } }
                        @if let Some(path) = &f.path { ", field " code { (path) } } }
                    td { (format!("{:?}", f.status).to_lowercase()) }
                } } }
            } }
            p class="hint" { "Snapshots carry the live object and field path; file:line positions are not stored in central (no data)." } }
        }
        section aria-labelledby="h-images" {
            h2 id="h-images" { "Images" }
            @for i in &images {
                h3 { code { (i.reference) } }
                @if i.vulnerabilities.is_empty() { (no_data("no vulnerability known for this image (scan with --registry to learn them)")) }
                @else { div class="scroll" { table {
                    thead { tr { th scope="col" { "Severity" } th scope="col" { "Vulnerability" } th scope="col" { "Package" } th scope="col" { "Fixed in" } } }
                    tbody { @for v in &i.vulnerabilities { tr {
                        td { (severity(v.severity)) } td { (v.id) } td { (v.package) " " (v.version) } td { (v.fixed.as_deref().unwrap_or("no fix")) }
                    } } }
                } } }
            }
        }
        section aria-labelledby="h-rbac" {
            h2 id="h-rbac" { "RBAC power of " code { (id.namespace) "/" (sa) } }
            @if eng.rbac.is_empty() { (no_data("no risky capability is granted to this service account")) }
            @else { div class="scroll" { table {
                thead { tr { th scope="col" { "Capability" } th scope="col" { "Severity (scope)" } th scope="col" { "Granted by" } } }
                tbody { @for (cap, sev, via) in &eng.rbac { tr { td { (cap) } td { (sev) } td { (via) } } } }
            } } }
        }
        section aria-labelledby="h-in" {
            h2 id="h-in" { "Reachable from (" (eng.inbound.len()) ")" }
            (reach_table(cluster, &eng.inbound, "to this workload"))
            h2 id="h-out" { "Can reach (" (eng.outbound.len()) ")" }
            (reach_table(cluster, &eng.outbound, "from this workload"))
        }
        section aria-labelledby="h-alerts" {
            h2 id="h-alerts" { "Runtime alerts" }
            @if alerts.is_empty() { (no_data("no runtime alert for this workload")) }
            @else { ul class="plain" { @for a in &alerts { li { (severity(a.alert.severity)) " " (a.alert.time.rfc3339()) " " strong { (a.alert.rule) } ": " (a.alert.message) } } } }
            h2 id="h-baseline" { "Process baseline" }
            @if baselines.is_empty() { (no_data("no baseline pushed by an agent")) }
            @else { ul { @for b in &baselines { li { "container " code { (b.container) } @if b.locked { " (locked)" } ": " (b.processes.join(", ")) } } } }
        }
    };
    Ok(layout::page(&viewer, &title, "/ui/workloads", body))
}
