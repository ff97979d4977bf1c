//! The connectivity list aggregated by namespace, and its drawing as a self-contained SVG:
//! namespaces are nodes, an edge between two namespaces counts the workload connections it
//! stands for; one namespace can be expanded into its workloads. Shared by
//! `palisade netpol reach --group namespaces --format svg` and central's dashboard, so both draw
//! the same picture.
//!
//! Pure: text in, text out. Every label is XML-escaped here; a caller embedding the SVG in HTML
//! needs no further escaping.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::connectivity::{Connection, Connectivity, Endpoint};
use crate::listing::Listing;
use crate::ports::PortSet;

/// The node every external address range is folded into.
pub const EXTERNAL: &str = "external";

/// What a node stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A namespace (all of its workloads).
    Namespace,
    /// One workload of the expanded namespace (`namespace/kind/name`).
    Workload,
    /// Every external address range.
    External,
}

/// One node of the aggregated graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggNode {
    /// Stable id: the namespace, `namespace/kind/name` or [`EXTERNAL`].
    pub id: String,
    /// What it is.
    pub kind: NodeKind,
    /// Workloads it stands for (external: address ranges).
    pub members: usize,
    /// Of those, workloads no NetworkPolicy isolates for ingress (every pod may reach them).
    pub unprotected: usize,
}

/// One aggregated edge: every allowed connection from a workload of `src` to one of `dst`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggEdge {
    /// Index of the source node.
    pub src: usize,
    /// Index of the destination node.
    pub dst: usize,
    /// Workload-level connections it stands for.
    pub connections: usize,
    /// Every member of `src` reaches every member of `dst` on every port (no policy narrows
    /// anything between the two).
    pub allow_all: bool,
    /// Union of the destination ports.
    pub ports: PortSet,
}

/// A connectivity list folded by namespace.
#[derive(Debug, Clone, Default)]
pub struct Aggregate {
    /// Nodes: namespaces sorted, the expanded namespace's workloads, external last.
    pub nodes: Vec<AggNode>,
    /// Edges, by source then destination.
    pub edges: Vec<AggEdge>,
}

impl Aggregate {
    /// The node with id `id`.
    pub fn node(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// The edge from node id `src` to node id `dst`.
    pub fn edge(&self, src: &str, dst: &str) -> Option<&AggEdge> {
        let (s, d) = (self.node(src)?, self.node(dst)?);
        self.edges.iter().find(|e| e.src == s && e.dst == d)
    }

    /// Whether endpoint `e` belongs to node `node`.
    pub fn contains(&self, node: usize, e: &Endpoint) -> bool {
        let n = &self.nodes[node];
        match (e, &n.kind) {
            (Endpoint::External(_), NodeKind::External) => true,
            (Endpoint::Workload(w), NodeKind::Namespace) => w.namespace == n.id,
            (Endpoint::Workload(w), NodeKind::Workload) => workload_id(w) == n.id,
            _ => false,
        }
    }
}

fn workload_id(w: &palisade_model::WorkloadId) -> String {
    format!("{}/{}/{}", w.namespace, w.kind, w.name)
}

/// The node key of an endpoint: namespaces first, then the expanded namespace's workloads,
/// external last.
fn key_of(e: &Endpoint, expand: Option<&str>) -> (u8, String) {
    match e {
        Endpoint::Workload(w) if Some(w.namespace.as_str()) == expand => (1, workload_id(w)),
        Endpoint::Workload(w) => (0, w.namespace.clone()),
        Endpoint::External(_) => (2, EXTERNAL.to_string()),
    }
}

/// The nodes of `c`'s workloads and external ranges, with the index of every node key.
fn nodes(c: &Connectivity, expand: Option<&str>) -> (Vec<AggNode>, BTreeMap<(u8, String), usize>) {
    let mut nodes: BTreeMap<(u8, String), AggNode> = BTreeMap::new();
    let mut add = |key: (u8, String), unprotected: bool| {
        let kind = match key.0 {
            0 => NodeKind::Namespace,
            1 => NodeKind::Workload,
            _ => NodeKind::External,
        };
        let node = nodes.entry(key.clone()).or_insert(AggNode {
            id: key.1,
            kind,
            members: 0,
            unprotected: 0,
        });
        node.members += 1;
        node.unprotected += usize::from(unprotected);
    };
    for w in &c.workloads {
        add(
            key_of(&Endpoint::Workload(w.id.clone()), expand),
            !w.ingress_isolated,
        );
    }
    for r in &c.external_ranges {
        add(key_of(&Endpoint::External(*r), expand), false);
    }
    let index = nodes
        .keys()
        .enumerate()
        .map(|(i, k)| (k.clone(), i))
        .collect();
    (nodes.into_values().collect(), index)
}

/// Edges being summed: connections, ports, and connections on every port.
#[derive(Default)]
struct Edges(BTreeMap<(usize, usize), (AggEdge, usize)>);

impl Edges {
    fn add(&mut self, s: usize, d: usize, count: usize, ports: &PortSet) {
        let (edge, all) = self.0.entry((s, d)).or_insert((
            AggEdge {
                src: s,
                dst: d,
                connections: 0,
                allow_all: false,
                ports: PortSet::empty(),
            },
            0,
        ));
        edge.connections += count;
        edge.ports = edge.ports.union(ports);
        if ports.is_all() {
            *all += count;
        }
    }

    fn finish(self, nodes: Vec<AggNode>) -> Aggregate {
        let edges = self
            .0
            .into_values()
            .map(|(mut e, all)| {
                let full = nodes[e.src].members * nodes[e.dst].members;
                e.allow_all = full > 0 && all >= full;
                e
            })
            .collect();
        Aggregate { nodes, edges }
    }
}

/// Folds `c` by namespace; the workloads of namespace `expand` stay separate nodes.
pub fn aggregate(c: &Connectivity, expand: Option<&str>) -> Aggregate {
    let (nodes, index) = nodes(c, expand);
    let mut edges = Edges::default();
    for conn in &c.connections {
        if let (Some(&s), Some(&d)) = (
            index.get(&key_of(&conn.src, expand)),
            index.get(&key_of(&conn.dst, expand)),
        ) {
            edges.add(s, d, 1, &conn.ports);
        }
    }
    edges.finish(nodes)
}

/// [`aggregate`] from the class pairs of `listing` and the workloads and ranges of `head`
/// (`Analysis::connectivity_head`): the same graph without listing every workload pair, so
/// its cost follows the number of class pairs, not the square of the cluster.
pub fn aggregate_classes(
    head: &Connectivity,
    listing: &Listing<'_, '_>,
    expand: Option<&str>,
) -> Aggregate {
    let (nodes, index) = nodes(head, expand);
    let node_of: Vec<Option<usize>> = (0..listing.endpoint_count())
        .map(|rank| index.get(&key_of(&listing.endpoint(rank), expand)).copied())
        .collect();
    let count = |ranks: &[usize]| {
        let mut by_node: BTreeMap<usize, usize> = BTreeMap::new();
        for n in ranks.iter().filter_map(|&r| node_of[r]) {
            *by_node.entry(n).or_default() += 1;
        }
        by_node
    };
    let mut edges = Edges::default();
    let _ = listing.for_each_class_pair(|pair| -> Result<(), ()> {
        let ports = listing.port_set(pair.ports);
        let dst = count(pair.dst);
        for (s, cs) in count(pair.src) {
            for (&d, &cd) in &dst {
                edges.add(s, d, cs * cd, ports);
            }
        }
        Ok(())
    });
    edges.finish(nodes)
}

/// The workload-level connections behind edge `src` → `dst` (node ids) of the graph
/// `aggregate_classes(head, listing, expand)` draws: at most `max`, and how many there are.
pub fn edge_connections(
    listing: &Listing<'_, '_>,
    expand: Option<&str>,
    src: &str,
    dst: &str,
    max: usize,
) -> (Vec<Connection>, usize) {
    let in_node = |rank: usize, id: &str| key_of(&listing.endpoint(rank), expand).1 == id;
    let mut rows = Vec::new();
    let mut total = 0;
    let _ = listing.for_each_class_pair(|pair| -> Result<(), ()> {
        let srcs: Vec<usize> = pair
            .src
            .iter()
            .copied()
            .filter(|&r| in_node(r, src))
            .collect();
        if srcs.is_empty() {
            return Ok(());
        }
        let dsts: Vec<usize> = pair
            .dst
            .iter()
            .copied()
            .filter(|&r| in_node(r, dst))
            .collect();
        total += srcs.len() * dsts.len();
        for &s in &srcs {
            for &d in &dsts {
                if rows.len() < max {
                    rows.push(Connection {
                        src: listing.endpoint(s),
                        dst: listing.endpoint(d),
                        ports: listing.port_set(pair.ports).clone(),
                    });
                }
            }
        }
        Ok(())
    });
    (rows, total)
}

/// Where the drawing's nodes and edges link to (the dashboard's drill-down); `None` for a
/// standalone picture.
pub trait Links {
    /// The link of node `i`.
    fn node(&self, graph: &Aggregate, i: usize) -> Option<String>;
    /// The link of edge `i`.
    fn edge(&self, graph: &Aggregate, i: usize) -> Option<String>;
}

/// No links: a standalone picture.
pub struct NoLinks;

impl Links for NoLinks {
    fn node(&self, _: &Aggregate, _: usize) -> Option<String> {
        None
    }
    fn edge(&self, _: &Aggregate, _: usize) -> Option<String> {
        None
    }
}

const BOX_W: f64 = 190.0;
const BOX_H: f64 = 40.0;
const MARGIN: f64 = 30.0;
const TOP: f64 = 50.0;

/// The graph drawn as an SVG document: nodes on a circle (their ids, workload counts and
/// unprotected counts as text), edges as curves with their connection counts; allow-all edges
/// dashed and red, unprotected nodes red-bordered (both also said in words in the tooltips and
/// the legend: colour is never the only signal). Without an `<?xml` prolog when `inline`.
pub fn svg(graph: &Aggregate, title: &str, links: &dyn Links, inline: bool) -> String {
    let n = graph.nodes.len().max(1);
    // Adjacent boxes on the circle at least a box width apart (the chord 2r·sin(π/n)).
    let radius = if n < 2 {
        160.0
    } else {
        ((BOX_W + 20.0) / (2.0 * (std::f64::consts::PI / n as f64).sin())).max(160.0)
    };
    // Room for the self-loops drawn outside the circle.
    const LOOP: f64 = 60.0;
    let (cx, cy) = (
        MARGIN + BOX_W / 2.0 + radius + LOOP,
        TOP + BOX_H / 2.0 + radius + LOOP,
    );
    let width = 2.0 * cx;
    let height = cy + radius + BOX_H / 2.0 + LOOP + 30.0;
    let pos: Vec<(f64, f64)> = (0..graph.nodes.len())
        .map(|i| {
            let a = -std::f64::consts::FRAC_PI_2 + i as f64 * std::f64::consts::TAU / n as f64;
            (cx + radius * a.cos(), cy + radius * a.sin())
        })
        .collect();
    let mut out = String::new();
    if !inline {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"{t}\">\n<title>{t}</title>\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555\"/></marker></defs>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{MARGIN}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{t}</text>",
        t = xml(title)
    );
    for (i, e) in graph.edges.iter().enumerate() {
        let (s, d) = (&graph.nodes[e.src], &graph.nodes[e.dst]);
        let tip = format!(
            "{} -> {}: {} connection{} on {}{}",
            s.id,
            d.id,
            e.connections,
            if e.connections == 1 { "" } else { "s" },
            e.ports,
            if e.allow_all {
                " (allow-all: nothing restricts it)"
            } else {
                ""
            }
        );
        let (stroke, dash) = if e.allow_all {
            ("#b3261e", " stroke-dasharray=\"6 4\"")
        } else {
            ("#44617b", "")
        };
        let (sx, sy) = pos[e.src];
        let (dx, dy) = pos[e.dst];
        let (path, lx, ly) = if e.src == e.dst {
            // A loop on the outside of the circle.
            let (ox, oy) = ((sx - cx) / radius, (sy - cy) / radius);
            let (bx, by) = (sx + ox * (BOX_H / 2.0 + 4.0), sy + oy * (BOX_H / 2.0 + 4.0));
            let (px, py) = (-oy, ox);
            let far = 55.0;
            (
                format!(
                    "M {:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {:.1} {:.1}",
                    bx - px * 12.0,
                    by - py * 12.0,
                    bx + ox * far - px * 30.0,
                    by + oy * far - py * 30.0,
                    bx + ox * far + px * 30.0,
                    by + oy * far + py * 30.0,
                    bx + px * 12.0,
                    by + py * 12.0
                ),
                bx + ox * far * 0.8,
                by + oy * far * 0.8,
            )
        } else {
            // Curved to the right of the direction of travel, so a pair of opposite edges
            // stays apart; ends pulled back to the boxes' borders.
            let (vx, vy) = (dx - sx, dy - sy);
            let len = (vx * vx + vy * vy).sqrt().max(1.0);
            let (ux, uy) = (vx / len, vy / len);
            let back = |x: f64, y: f64, sign: f64| {
                // Distance from the centre to the box border along the direction.
                let t =
                    ((BOX_W / 2.0) / ux.abs().max(1e-6)).min((BOX_H / 2.0) / uy.abs().max(1e-6));
                (x + sign * ux * (t + 3.0), y + sign * uy * (t + 3.0))
            };
            let (x1, y1) = back(sx, sy, 1.0);
            let (x2, y2) = back(dx, dy, -1.0);
            let bend = (len * 0.12).min(40.0);
            let (mx, my) = ((x1 + x2) / 2.0 - uy * bend, (y1 + y2) / 2.0 + ux * bend);
            (
                format!("M {x1:.1} {y1:.1} Q {mx:.1} {my:.1} {x2:.1} {y2:.1}"),
                (x1 + x2) / 4.0 + mx / 2.0,
                (y1 + y2) / 4.0 + my / 2.0,
            )
        };
        let body = format!(
            "<title>{}</title><path d=\"{path}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{:.1}\"{dash} marker-end=\"url(#arrow)\"/><text x=\"{lx:.1}\" y=\"{ly:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{stroke}\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">{}{}</text>",
            xml(&tip),
            1.2 + (e.connections as f64).log2().min(6.0) * 0.4,
            e.connections,
            if e.allow_all { " all" } else { "" }
        );
        wrap(&mut out, "edge", links.edge(graph, i), &body);
    }
    for (i, node) in graph.nodes.iter().enumerate() {
        let (x, y) = pos[i];
        let (fill, word) = match node.kind {
            NodeKind::Namespace => ("#e8f0fe", "workload"),
            NodeKind::Workload => ("#eef7ee", "workload"),
            NodeKind::External => ("#fff4e5", "range"),
        };
        let members = format!(
            "{} {word}{}",
            node.members,
            if node.members == 1 { "" } else { "s" }
        );
        let status = if node.unprotected > 0 {
            format!(", {} unprotected", node.unprotected)
        } else {
            String::new()
        };
        let (stroke, width) = if node.unprotected > 0 {
            ("#b3261e", 2.5)
        } else {
            ("#5a6b7b", 1.0)
        };
        let label = match node.kind {
            NodeKind::Workload => node.id.split_once('/').map_or(&*node.id, |(_, r)| r),
            _ => &node.id,
        };
        let body = format!(
            "<title>{}: {members}{status}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"5\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{width}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#333\">{}</text>",
            xml(&node.id),
            x - BOX_W / 2.0,
            y - BOX_H / 2.0,
            x,
            y - 4.0,
            xml(&truncate(label, 28)),
            x,
            y + 12.0,
            xml(&format!("{members}{status}"))
        );
        wrap(&mut out, "node", links.node(graph, i), &body);
    }
    if graph.nodes.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"{MARGIN}\" y=\"{TOP}\">nothing to show</text>"
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"{:.1}\" font-size=\"11\" fill=\"#333\">Edges: allowed workload connections (count). Red dashed \"all\": allow-all. Red border: has unprotected workloads.</text>\n</svg>",
        height - 16.0
    );
    out
}

fn wrap(out: &mut String, class: &str, link: Option<String>, body: &str) {
    match link {
        Some(href) => {
            let _ = writeln!(
                out,
                "<a href=\"{}\" class=\"{class}\"><g>{body}</g></a>",
                xml(&href)
            );
        }
        None => {
            let _ = writeln!(out, "<g class=\"{class}\">{body}</g>");
        }
    }
}

/// `s` cut to `max` characters, an ellipsis marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// `s` escaped for XML text and attribute values.
pub fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use palisade_model::WorkloadId;

    use super::*;
    use crate::connectivity::{Connection, WorkloadSummary};

    fn w(ns: &str, name: &str) -> WorkloadId {
        WorkloadId::new(ns, "Deployment", name)
    }

    fn connectivity() -> Connectivity {
        let summary = |id: WorkloadId, isolated| WorkloadSummary {
            id,
            ingress_isolated: isolated,
            egress_isolated: false,
        };
        let conn = |s: WorkloadId, d: WorkloadId, ports| Connection {
            src: Endpoint::Workload(s),
            dst: Endpoint::Workload(d),
            ports,
        };
        Connectivity {
            stats: Default::default(),
            workloads: vec![
                summary(w("a", "x"), false),
                summary(w("a", "y"), true),
                summary(w("b", "<z>"), true),
            ],
            external_ranges: vec![],
            connections: vec![
                conn(w("a", "x"), w("b", "<z>"), PortSet::all()),
                conn(
                    w("a", "y"),
                    w("b", "<z>"),
                    PortSet::single(crate::Protocol::Tcp, 80),
                ),
                conn(w("b", "<z>"), w("a", "x"), PortSet::all()),
                conn(w("a", "y"), w("a", "x"), PortSet::all()),
            ],
            diagnostics: vec![],
        }
    }

    #[test]
    fn namespaces_fold_with_counts_and_allow_all() {
        let g = aggregate(&connectivity(), None);
        let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!((g.nodes[0].members, g.nodes[0].unprotected), (2, 1));
        let ab = g.edge("a", "b").unwrap();
        assert_eq!(ab.connections, 2);
        assert!(!ab.allow_all, "one of the two is port 80 only");
        let ba = g.edge("b", "a").unwrap();
        assert_eq!(ba.connections, 1);
        assert!(!ba.allow_all, "b reaches only one of a's two workloads");
        let aa = g.edge("a", "a").unwrap();
        assert_eq!(aa.connections, 1);

        let expanded = aggregate(&connectivity(), Some("b"));
        let ids: Vec<&str> = expanded.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["a", "b/Deployment/<z>"]);
        let e = expanded.edge("b/Deployment/<z>", "a").unwrap();
        assert_eq!(e.connections, 1);
    }

    #[test]
    fn class_pairs_fold_to_the_same_graph_as_the_connection_list() {
        // The demo cluster: 8 namespaces, policies, external ranges.
        let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo-cluster");
        let inventory =
            palisade_ingest::ingest_paths(&[demo], &palisade_ingest::Limits::default()).inventory;
        let analysis = crate::Analysis::new(&inventory);
        let reach = analysis.reachability();
        let listing = Listing::new(&analysis, &reach, None);
        let head = analysis.connectivity_head(None);
        let full = analysis.connectivity(&reach, None);
        for expand in [None, Some("shop")] {
            let a = aggregate(&full, expand);
            let b = aggregate_classes(&head, &listing, expand);
            assert_eq!(a.nodes, b.nodes);
            assert_eq!(a.edges, b.edges);
            assert!(a.edges.len() > 10);
            for e in &a.edges {
                let (s, d) = (&a.nodes[e.src].id, &a.nodes[e.dst].id);
                let (rows, total) = edge_connections(&listing, expand, s, d, 10);
                assert_eq!(total, e.connections, "{s} -> {d}");
                assert_eq!(rows.len(), total.min(10));
                assert!(
                    rows.iter()
                        .all(|r| a.contains(e.src, &r.src) && a.contains(e.dst, &r.dst))
                );
            }
        }
    }

    #[test]
    fn the_drawing_escapes_and_marks_in_words() {
        let g = aggregate(&connectivity(), Some("b"));
        let svg = svg(&g, "t<&>", &NoLinks, false);
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("t&lt;&amp;&gt;"));
        assert!(svg.contains("Deployment/&lt;z&gt;"));
        assert!(!svg.contains("<z>"));
        assert!(svg.contains("1 unprotected"));
        assert_eq!(svg.matches("marker-end=").count(), g.edges.len());
    }
}
