//! Rendering of `palisade netpol` results: text, JSON, CSV, Graphviz dot, a self-contained SVG
//! and the YAML of generated policies.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use palisade_netpol::aggregate::{truncate, xml};
use palisade_netpol::{
    ChangeKind, Connectivity, Diff, Endpoint, Exposure, Generated, PortSet, SideState, SideVerdict,
    Verdict,
};

use crate::render::csv;

pub mod listing;

/// Output format of `reach` and `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// One line per connection (`txt` and `text` are accepted too).
    #[value(name = "table", alias = "txt", alias = "text")]
    Txt,
    /// JSON document (format in docs/network-policy.md).
    Json,
    /// One row per connection and port range.
    Csv,
    /// Graphviz dot.
    Dot,
    /// Self-contained SVG picture.
    Svg,
}

/// Output format of `can` and `exposure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people (`txt` and `text` are accepted too).
    #[value(name = "table", alias = "txt", alias = "text")]
    Txt,
    /// JSON document.
    Json,
}

/// `palisade netpol reach` output.
pub fn reach(c: &Connectivity, format: GraphFormat) -> anyhow::Result<String> {
    Ok(match format {
        GraphFormat::Json => serde_json::to_string_pretty(c)? + "\n",
        GraphFormat::Txt => {
            let mut out = reach_header(c, c.connections.len() as u64);
            if c.connections.is_empty() {
                out.push_str("no connection is allowed\n");
            }
            for conn in &c.connections {
                let _ = writeln!(out, "{} -> {} : {}", conn.src, conn.dst, conn.ports);
            }
            out
        }
        GraphFormat::Csv => {
            let mut out = String::from("src_type,src,dst_type,dst,protocol,port_start,port_end\n");
            for conn in &c.connections {
                for r in conn.ports.ranges() {
                    let _ = writeln!(
                        out,
                        "{},{},{},{},{},{},{}",
                        kind(&conn.src),
                        csv::field(&conn.src.to_string()),
                        kind(&conn.dst),
                        csv::field(&conn.dst.to_string()),
                        r.protocol,
                        r.start,
                        r.end
                    );
                }
            }
            out
        }
        GraphFormat::Dot | GraphFormat::Svg => {
            let mut g = Graph::default();
            for conn in &c.connections {
                let s = g.node(&conn.src);
                let d = g.node(&conn.dst);
                g.edges.push(Edge {
                    src: s,
                    dst: d,
                    label: conn.ports.to_string(),
                    color: "#44617b",
                });
            }
            if format == GraphFormat::Dot {
                g.dot("reach")
            } else {
                g.svg("Allowed connections")
            }
        }
    })
}

/// The first line of the `reach` text listing: problem sizes and the number of rows.
fn reach_header(c: &Connectivity, connections: u64) -> String {
    let s = &c.stats;
    format!(
        "# {} workloads in {} namespaces, {} NetworkPolicies; {} reach classes, {} external ranges; {connections} connections\n",
        s.workloads, s.namespaces, s.policies, s.reach_classes, s.ip_cells,
    )
}

/// `palisade netpol diff` output.
pub fn diff(d: &Diff, format: GraphFormat) -> anyhow::Result<String> {
    let word = |k: ChangeKind| match k {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Changed => "changed",
    };
    Ok(match format {
        GraphFormat::Json => serde_json::to_string_pretty(d)? + "\n",
        GraphFormat::Txt => {
            let count = |k| d.changes.iter().filter(|c| c.change == k).count();
            let mut out = format!(
                "# {} added, {} removed, {} changed\n",
                count(ChangeKind::Added),
                count(ChangeKind::Removed),
                count(ChangeKind::Changed)
            );
            for w in &d.only_in_old {
                let _ = writeln!(out, "# workload only in OLD: {}", w.namespace_first());
            }
            for w in &d.only_in_new {
                let _ = writeln!(out, "# workload only in NEW: {}", w.namespace_first());
            }
            if d.changes.is_empty() {
                out.push_str("no connection changes\n");
            }
            for c in &d.changes {
                let detail = match c.change {
                    ChangeKind::Added => format!("+ {}", c.after),
                    ChangeKind::Removed => format!("- {}", c.before),
                    ChangeKind::Changed => {
                        let mut parts = Vec::new();
                        if !c.added.is_empty() {
                            parts.push(format!("+ {}", c.added));
                        }
                        if !c.removed.is_empty() {
                            parts.push(format!("- {}", c.removed));
                        }
                        parts.join("; ")
                    }
                };
                let _ = writeln!(
                    out,
                    "{:<7} {} -> {} : {detail}",
                    word(c.change),
                    c.src,
                    c.dst
                );
            }
            out
        }
        GraphFormat::Csv => {
            let mut out =
                String::from("change,src_type,src,dst_type,dst,before,after,added,removed\n");
            for c in &d.changes {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{}",
                    word(c.change),
                    kind(&c.src),
                    csv::field(&c.src.to_string()),
                    kind(&c.dst),
                    csv::field(&c.dst.to_string()),
                    csv::field(&c.before.to_string()),
                    csv::field(&c.after.to_string()),
                    csv::field(&c.added.to_string()),
                    csv::field(&c.removed.to_string()),
                );
            }
            out
        }
        GraphFormat::Dot | GraphFormat::Svg => {
            let mut g = Graph::default();
            for c in &d.changes {
                let s = g.node(&c.src);
                let t = g.node(&c.dst);
                let (label, color) = match c.change {
                    ChangeKind::Added => (format!("+ {}", c.after), "#2e7d32"),
                    ChangeKind::Removed => (format!("- {}", c.before), "#c62828"),
                    ChangeKind::Changed => (format!("+ {} / - {}", c.added, c.removed), "#ef6c00"),
                };
                g.edges.push(Edge {
                    src: s,
                    dst: t,
                    label,
                    color,
                });
            }
            if format == GraphFormat::Dot {
                g.dot("diff")
            } else {
                g.svg("Connection changes (green added, red removed, orange changed)")
            }
        }
    })
}

/// `palisade netpol can` output.
pub fn can(v: &Verdict, format: Format) -> anyhow::Result<String> {
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(v)?);
    }
    let mut out = format!(
        "{}: {} -> {} on {}/{}\n",
        if v.allowed { "allowed" } else { "denied" },
        v.src,
        v.dst,
        v.port,
        v.protocol
    );
    side(&mut out, "egress of", &v.src, &v.egress, v);
    side(&mut out, "ingress of", &v.dst, &v.ingress, v);
    Ok(out)
}

fn side(out: &mut String, what: &str, who: &Endpoint, s: &SideVerdict, v: &Verdict) {
    let _ = write!(out, "  {what} {who}: ");
    match s.state {
        SideState::External => out.push_str("external address, no policy applies\n"),
        SideState::NotIsolated => out.push_str("not isolated (no policy selects it), allowed\n"),
        SideState::Isolated => {
            let names: Vec<String> = s
                .policies
                .iter()
                .map(|p| {
                    format!(
                        "{}/{} ({})",
                        p.namespace.as_deref().unwrap_or(""),
                        p.name,
                        p.source
                    )
                })
                .collect();
            let _ = writeln!(out, "isolated by {}", names.join(", "));
            if s.allowing_rules.is_empty() {
                let _ = writeln!(
                    out,
                    "    denied: no rule of these policies allows {}/{} {} {}",
                    v.port,
                    v.protocol,
                    if what.starts_with("egress") {
                        "to"
                    } else {
                        "from"
                    },
                    if what.starts_with("egress") {
                        &v.dst
                    } else {
                        &v.src
                    }
                );
            }
            for r in &s.allowing_rules {
                let _ = writeln!(
                    out,
                    "    allowed by NetworkPolicy {}/{} spec.{}[{}] ({})",
                    r.policy.namespace.as_deref().unwrap_or(""),
                    r.policy.name,
                    r.direction.field(),
                    r.rule,
                    r.policy.source
                );
            }
        }
    }
}

/// `palisade netpol exposure` output.
pub fn exposure(e: &Exposure, format: Format) -> anyhow::Result<String> {
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(e)?);
    }
    let yes_no = |b: bool| if b { "yes" } else { "NO" };
    let mut rows = vec![[
        "WORKLOAD".to_string(),
        "INGRESS-ISOLATED".into(),
        "EGRESS-ISOLATED".into(),
        "REACHED-BY (wl/ns)".into(),
        "REACHES (wl/ns)".into(),
        "EXTERNAL-IN".into(),
        "EXTERNAL-OUT".into(),
        "PUBLISHED".into(),
    ]];
    for w in &e.workloads {
        let ext = |v: &[palisade_netpol::ExternalAccess]| -> String {
            if v.is_empty() {
                "-".into()
            } else {
                let mut ports = PortSet::empty();
                for x in v {
                    ports = ports.union(&x.ports);
                }
                format!("{} ranges: {}", v.len(), ports)
            }
        };
        let published: Vec<String> = w
            .published
            .iter()
            .map(|p| {
                format!(
                    "{} {}{}",
                    p.kind,
                    p.via.name,
                    if p.admitted_by_policy {
                        ""
                    } else {
                        " (blocked by policy)"
                    }
                )
            })
            .collect();
        rows.push([
            w.workload.namespace_first().to_string(),
            yes_no(w.ingress_isolated).into(),
            yes_no(w.egress_isolated).into(),
            format!(
                "{}/{}",
                w.reachable_from_workloads, w.reachable_from_namespaces
            ),
            format!("{}/{}", w.can_reach_workloads, w.can_reach_namespaces),
            ext(&w.external_ingress),
            ext(&w.external_egress),
            if published.is_empty() {
                "-".into()
            } else {
                published.join(", ")
            },
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "# {} workloads in {} namespaces\n",
        e.workloads_total, e.namespaces_total
    );
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    Ok(out)
}

/// `palisade netpol generate` output: a YAML stream of NetworkPolicies.
pub fn generated(g: &Generated) -> anyhow::Result<String> {
    let mut out = String::from("# Generated by palisade netpol generate from observed flows.\n");
    for p in &g.policies {
        out.push_str("---\n");
        if !p.selects.is_empty() {
            let names: Vec<String> = p
                .selects
                .iter()
                .map(|w| w.namespace_first().to_string())
                .collect();
            let _ = writeln!(out, "# selects {}", names.join(", "));
        }
        out.push_str(&serde_saphyr::to_string(&p.manifest())?);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

fn kind(e: &Endpoint) -> &'static str {
    match e {
        Endpoint::Workload(_) => "workload",
        Endpoint::External(_) => "external",
    }
}

/// A drawing of endpoints grouped by namespace (external ranges in their own group).
#[derive(Default)]
struct Graph {
    nodes: Vec<Node>,
    index: BTreeMap<String, usize>,
    edges: Vec<Edge>,
}

struct Node {
    id: String,
    group: String,
    label: String,
}

struct Edge {
    src: usize,
    dst: usize,
    label: String,
    color: &'static str,
}

const EXTERNAL_GROUP: &str = "external";

impl Graph {
    fn node(&mut self, e: &Endpoint) -> usize {
        let id = e.to_string();
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        let (group, label) = match e {
            Endpoint::Workload(w) => (w.namespace.clone(), format!("{}/{}", w.kind, w.name)),
            Endpoint::External(r) => (EXTERNAL_GROUP.to_string(), r.to_string()),
        };
        self.nodes.push(Node {
            id: id.clone(),
            group,
            label,
        });
        self.index.insert(id, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    /// Groups in drawing order: namespaces sorted, external last; nodes sorted inside.
    fn groups(&self) -> Vec<(String, Vec<usize>)> {
        let mut groups: BTreeMap<(bool, String), Vec<usize>> = BTreeMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            groups
                .entry((n.group == EXTERNAL_GROUP, n.group.clone()))
                .or_default()
                .push(i);
        }
        groups
            .into_iter()
            .map(|((_, g), mut v)| {
                v.sort_by(|a, b| self.nodes[*a].label.cmp(&self.nodes[*b].label));
                (g, v)
            })
            .collect()
    }

    fn dot(&self, name: &str) -> String {
        let mut out = format!(
            "digraph {name} {{\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n"
        );
        for (gi, (group, nodes)) in self.groups().iter().enumerate() {
            let _ = writeln!(
                out,
                "  subgraph cluster_{gi} {{\n    label={};",
                dot_str(group)
            );
            for &n in nodes {
                let _ = writeln!(
                    out,
                    "    {} [label={}];",
                    dot_str(&self.nodes[n].id),
                    dot_str(&self.nodes[n].label)
                );
            }
            out.push_str("  }\n");
        }
        for e in &self.edges {
            let _ = writeln!(
                out,
                "  {} -> {} [label={}, color=\"{}\"];",
                dot_str(&self.nodes[e.src].id),
                dot_str(&self.nodes[e.dst].id),
                dot_str(&e.label),
                e.color
            );
        }
        out.push_str("}\n");
        out
    }

    /// A layered drawing: one column per namespace (external ranges last), boxes stacked in each
    /// column, edges as curves from the right side of the source to the left side of the
    /// destination; ports in each edge's tooltip and, for small graphs, as a label.
    fn svg(&self, title: &str) -> String {
        const BOX_W: f64 = 230.0;
        const BOX_H: f64 = 26.0;
        const COL_GAP: f64 = 170.0;
        const ROW_GAP: f64 = 12.0;
        const TOP: f64 = 60.0;
        const LEFT: f64 = 20.0;
        let groups = self.groups();
        let mut pos = vec![(0.0, 0.0); self.nodes.len()];
        let mut height: f64 = TOP;
        for (gi, (_, nodes)) in groups.iter().enumerate() {
            let x = LEFT + gi as f64 * (BOX_W + COL_GAP);
            for (ri, &n) in nodes.iter().enumerate() {
                let y = TOP + ri as f64 * (BOX_H + ROW_GAP);
                pos[n] = (x, y);
                height = height.max(y + BOX_H);
            }
        }
        let width = LEFT * 2.0 + groups.len().max(1) as f64 * (BOX_W + COL_GAP) - COL_GAP + 90.0;
        let height = height + 30.0;
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n<title>{}</title>\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555\"/></marker></defs>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{LEFT}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
            xml(title),
            xml(title)
        );
        for (gi, (group, _)) in groups.iter().enumerate() {
            let x = LEFT + gi as f64 * (BOX_W + COL_GAP);
            let _ = writeln!(
                out,
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-weight=\"bold\" fill=\"#333\">{}</text>",
                TOP - 10.0,
                xml(group)
            );
        }
        let label_edges = self.edges.len() <= 60;
        for e in &self.edges {
            let (sx, sy) = pos[e.src];
            let (dx, dy) = pos[e.dst];
            let tooltip = format!(
                "{} -> {}: {}",
                self.nodes[e.src].id, self.nodes[e.dst].id, e.label
            );
            let (path, lx, ly) = if e.src == e.dst {
                let (x, y) = (sx + BOX_W, sy + BOX_H / 2.0);
                (
                    format!(
                        "M {x:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {x:.1} {:.1}",
                        y - 6.0,
                        x + 40.0,
                        y - 30.0,
                        x + 40.0,
                        y + 30.0,
                        y + 6.0
                    ),
                    x + 34.0,
                    y,
                )
            } else {
                let (ys, yd) = (sy + BOX_H / 2.0, dy + BOX_H / 2.0);
                // Forward edges leave right and enter left; backward edges leave left and enter
                // right; edges inside one column bulge out to the right.
                let (x1, x2, c1, c2) = if dx > sx {
                    let bend = ((dx - sx - BOX_W) / 2.0).max(40.0);
                    (sx + BOX_W, dx, sx + BOX_W + bend, dx - bend)
                } else if dx < sx {
                    let bend = ((sx - dx - BOX_W) / 2.0).max(40.0);
                    (sx, dx + BOX_W, sx - bend, dx + BOX_W + bend)
                } else {
                    let bulge = 40.0 + (ys - yd).abs() / 4.0;
                    (
                        sx + BOX_W,
                        dx + BOX_W,
                        sx + BOX_W + bulge,
                        dx + BOX_W + bulge,
                    )
                };
                (
                    format!(
                        "M {x1:.1} {ys:.1} C {c1:.1} {ys:.1}, {c2:.1} {yd:.1}, {x2:.1} {yd:.1}"
                    ),
                    (c1 + c2) / 2.0,
                    (ys + yd) / 2.0,
                )
            };
            let _ = writeln!(
                out,
                "<g><title>{}</title><path d=\"{path}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.4\" marker-end=\"url(#arrow)\"/>{}</g>",
                xml(&tooltip),
                e.color,
                if label_edges {
                    format!(
                        "<text x=\"{lx:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{}\" text-anchor=\"middle\">{}</text>",
                        ly - 3.0,
                        e.color,
                        xml(&e.label)
                    )
                } else {
                    String::new()
                }
            );
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let (x, y) = pos[i];
            let fill = if n.group == EXTERNAL_GROUP {
                "#fff4e5"
            } else {
                "#e8f0fe"
            };
            let _ = writeln!(
                out,
                "<g><title>{}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"4\" fill=\"{fill}\" stroke=\"#5a6b7b\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
                xml(&n.id),
                x + 8.0,
                y + 17.0,
                xml(&truncate(&n.label, 34))
            );
        }
        if self.nodes.is_empty() {
            let _ = writeln!(out, "<text x=\"{LEFT}\" y=\"{TOP}\">nothing to show</text>");
        }
        out.push_str("</svg>\n");
        out
    }
}

fn dot_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
