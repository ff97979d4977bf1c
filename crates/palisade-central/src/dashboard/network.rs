//! `/ui/network`: the cluster's allowed connections (palisade-netpol, exact) folded by
//! namespace with palisade-netpol's shared aggregation and drawing (the same picture as
//! `palisade netpol reach --group namespaces --format svg`); a namespace expands into its
//! workloads by a link; an edge links to its explanation (the workload connections behind it
//! and the policy rules that allow them); observed flows are listed beside; the picture
//! downloads as SVG from `/ui/network.svg`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use palisade_netpol::aggregate::{self, Aggregate, Links, NodeKind};
use palisade_netpol::{Analysis, Connection, Direction, Endpoint, Listing, Target};
use serde::Deserialize;

use super::layout::{self, UiError, href, no_data};
use super::{Params, UiState, Viewer, cluster_names, workloads};
use crate::analyses::analysed;
use crate::graph::blocking;

/// The rules that allow connection `c` (on its first port): each side's allowing policy rules,
/// or that the side is not isolated.
pub fn explain(analysis: &Analysis<'_>, c: &Connection) -> Vec<String> {
    let target = |e: &Endpoint| -> Option<Target> {
        match e {
            Endpoint::Workload(w) => analysis
                .target(&format!("{}/{}/{}", w.namespace, w.kind, w.name))
                .ok(),
            Endpoint::External(r) => Some(Target::Ip(r.first_addr())),
        }
    };
    let (Some(s), Some(d), Some(r)) = (target(&c.src), target(&c.dst), c.ports.ranges().next())
    else {
        return Vec::new();
    };
    let Ok(v) = analysis.can(s, d, r.start.max(1), r.protocol) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for side in [&v.egress, &v.ingress] {
        let dir = match side.direction {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        };
        if side.allowing_rules.is_empty() {
            out.push(format!("{dir}: not isolated (no policy selects it)"));
        }
        for rule in &side.allowing_rules {
            out.push(format!("{} spec.{dir}[{}]", rule.policy, rule.rule));
        }
    }
    out
}

/// `/ui/network` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct NetworkParams {
    cluster: Option<String>,
    expand: Option<String>,
    src: Option<String>,
    dst: Option<String>,
}

struct UiLinks {
    cluster: String,
    expand: String,
}

impl Links for UiLinks {
    fn node(&self, g: &Aggregate, i: usize) -> Option<String> {
        let n = &g.nodes[i];
        match n.kind {
            NodeKind::Namespace => Some(href(
                "/ui/network",
                &[("cluster", &self.cluster), ("expand", &n.id)],
            )),
            NodeKind::Workload => {
                let mut parts = n.id.splitn(3, '/');
                let (ns, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
                Some(workloads::link(
                    &self.cluster,
                    &palisade_model::WorkloadId::new(ns, kind, name),
                ))
            }
            NodeKind::External => None,
        }
    }

    fn edge(&self, g: &Aggregate, i: usize) -> Option<String> {
        let e = &g.edges[i];
        Some(
            href(
                "/ui/network",
                &[
                    ("cluster", &self.cluster),
                    ("expand", &self.expand),
                    ("src", &g.nodes[e.src].id),
                    ("dst", &g.nodes[e.dst].id),
                ],
            ) + "#edge",
        )
    }
}

/// One aggregated edge explained.
struct EdgeDetail {
    src: String,
    dst: String,
    rows: Vec<(String, String, String, Vec<String>)>,
    total: usize,
}

struct Drawn {
    svg: String,
    namespaces: usize,
    edges: usize,
    detail: Option<EdgeDetail>,
}

/// Rows listed for one edge; the first [`EXPLAINED`] are explained rule by rule.
const LISTED: usize = 200;
const EXPLAINED: usize = 30;

fn draw(
    inventory: &palisade_model::Inventory,
    cluster: &str,
    expand: Option<&str>,
    edge: Option<(&str, &str)>,
    inline: bool,
) -> Drawn {
    let analysis = Analysis::new(inventory);
    let reach = analysis.reachability();
    // From the class pairs: the workload-level list grows with the square of the cluster.
    let listing = Listing::new(&analysis, &reach, None);
    let head = analysis.connectivity_head(None);
    let g = aggregate::aggregate_classes(&head, &listing, expand);
    let title = match expand {
        Some(ns) => format!("Allowed connections in {cluster} (namespace {ns} expanded)"),
        None => format!("Allowed connections in {cluster}, by namespace"),
    };
    let svg = if inline {
        aggregate::svg(
            &g,
            &title,
            &UiLinks {
                cluster: cluster.to_string(),
                expand: expand.unwrap_or("").to_string(),
            },
            true,
        )
    } else {
        aggregate::svg(&g, &title, &aggregate::NoLinks, false)
    };
    let detail = edge.map(|(s, d)| {
        let (connections, total) = aggregate::edge_connections(&listing, expand, s, d, LISTED);
        let rows = connections
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let rules = if i < EXPLAINED {
                    explain(&analysis, x)
                } else {
                    Vec::new()
                };
                (
                    x.src.to_string(),
                    x.dst.to_string(),
                    x.ports.to_string(),
                    rules,
                )
            })
            .collect();
        EdgeDetail {
            src: s.to_string(),
            dst: d.to_string(),
            rows,
            total,
        }
    });
    Drawn {
        svg,
        namespaces: g
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Namespace)
            .count(),
        edges: g.edges.len(),
        detail,
    }
}

async fn pick_cluster(
    state: &UiState,
    wanted: Option<String>,
) -> Result<(Vec<String>, Option<String>), UiError> {
    let clusters = cluster_names(state).await?;
    let cluster = wanted.or_else(|| clusters.first().cloned());
    Ok((clusters, cluster))
}

/// `GET /ui/network`.
pub async fn page(
    State(state): State<UiState>,
    viewer: Viewer,
    Params(p): Params<NetworkParams>,
) -> Result<Markup, UiError> {
    let (clusters, cluster) = pick_cluster(&state, p.cluster).await?;
    let Some(cluster) = cluster else {
        let body = no_data("nothing has been pushed yet");
        return Ok(layout::page(&viewer, "Network", "/ui/network", body));
    };
    let built = analysed(&state.app, &cluster).await?;
    let flows = state.app.store.flows(&cluster).await?;
    let (c2, expand, src, dst) = (
        cluster.clone(),
        p.expand.clone(),
        p.src.clone(),
        p.dst.clone(),
    );
    let drawn = blocking(move || {
        let edge = src.as_deref().zip(dst.as_deref());
        draw(&built.inventory, &c2, expand.as_deref(), edge, true)
    })
    .await?;
    let refs: Vec<&str> = clusters.iter().map(String::as_str).collect();
    let expand = p.expand.unwrap_or_default();
    let body = html! {
        form method="get" action="/ui/network" class="filters" {
            (layout::select("cluster", "Cluster", &refs, &cluster))
            button type="submit" { "Show" }
        }
        p {
            (drawn.namespaces) " namespaces, " (drawn.edges) " aggregated edges. "
            @if !expand.is_empty() { "Namespace " strong { (expand) } " is expanded into its workloads. " a href=(href("/ui/network", &[("cluster", &cluster)])) { "Collapse" } ". " }
            @else { "Select a namespace to expand it into its workloads; select an edge to see the connections and the rules behind it. " }
            a href=(href("/ui/network.svg", &[("cluster", &cluster), ("expand", &expand)])) download { "Download as SVG" }
        }
        figure class="graph" { (layout::trusted_svg(drawn.svg)) }
        @if let Some(d) = &drawn.detail {
            section id="edge" aria-labelledby="h-edge" {
                h2 id="h-edge" { (d.src) " → " (d.dst) ": " (d.total) " connections" }
                div class="scroll" { table {
                    thead { tr { th scope="col" { "From" } th scope="col" { "To" } th scope="col" { "Ports" } th scope="col" { "Allowed by" } } }
                    tbody { @for (s, t, ports, rules) in &d.rows { tr {
                        td { (s) } td { (t) } td { (ports) }
                        td { @if rules.is_empty() { span class="muted" { "not explained here (use palisade netpol can)" } } @else { (rules.join("; ")) } }
                    } } }
                } }
                @if d.total > d.rows.len() { p class="hint" { "First " (d.rows.len()) " of " (d.total) " listed." } }
            }
        }
        section aria-labelledby="h-flows" {
            h2 id="h-flows" { "Observed flows" }
            @if flows.is_empty() { (no_data("no flows pushed by an agent for this cluster")) }
            @else { div class="scroll" { table {
                thead { tr { th scope="col" { "From" } th scope="col" { "To" } th scope="col" { "Port" } th scope="col" { "Count" } th scope="col" { "Last seen" } } }
                tbody { @for f in flows.iter().take(500) { tr {
                    td { @if let Some(w) = &f.src { (w.namespace_first()) } @else { (f.src_address.as_deref().unwrap_or("?")) } }
                    td { @if let Some(w) = &f.dst { (w.namespace_first()) } @else { (f.dst_address.as_deref().unwrap_or("?")) } }
                    td { (f.port) "/" (f.protocol) } td class="num" { (f.count) } td { (f.last_seen.rfc3339()) }
                } } }
            } } }
        }
    };
    Ok(layout::page(&viewer, "Network", "/ui/network", body))
}

/// `GET /ui/network.svg`: the picture as a standalone SVG file.
pub async fn download(
    State(state): State<UiState>,
    _viewer: Viewer,
    Params(p): Params<NetworkParams>,
) -> Result<Response, UiError> {
    let (_, cluster) = pick_cluster(&state, p.cluster).await?;
    let cluster = cluster.ok_or_else(|| UiError::not_found("no cluster has been pushed"))?;
    let built = analysed(&state.app, &cluster).await?;
    let (c2, expand) = (cluster.clone(), p.expand.clone());
    let drawn =
        blocking(move || draw(&built.inventory, &c2, expand.as_deref(), None, false)).await?;
    let disposition = format!(
        "attachment; filename=\"network-{}.svg\"",
        cluster.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        drawn.svg,
    )
        .into_response())
}
