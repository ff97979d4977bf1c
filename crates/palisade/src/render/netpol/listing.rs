//! `palisade netpol reach` written row by row from a [`Listing`]: endpoint names and port sets
//! are formatted once each, then every row is a handful of byte copies into a buffer that goes
//! to the output a chunk at a time. Memory does not depend on the number of rows; the bytes are
//! those of the collected rendering ([`super::reach`] of [`Analysis::connectivity`], with text
//! escaped as `output::emit_text` does).
//!
//! [`Analysis::connectivity`]: palisade_netpol::Analysis::connectivity

use std::convert::Infallible;
use std::io::{self, Write};
use std::ops::Range;

use palisade_model::terminal::escape_keep_lines;
use palisade_netpol::{Connectivity, Endpoint, Listing, PortSet};
use serde::Serialize;

use super::{GraphFormat, kind, reach_header};
use crate::render::csv;

/// Bytes gathered before one write to the output.
const CHUNK: usize = 1 << 20;

/// Rows formatted by one thread at a time (8 MB of JSON, under 1 MB of text).
const BLOCK_ROWS: u64 = 8192;

/// The top-level member of the JSON document the rows replace (with an empty list).
const CONNECTIONS_MEMBER: &str = "\n  \"connections\": []";

/// A buffered output that writes whole chunks.
struct Out<'w> {
    w: &'w mut dyn Write,
    buf: Vec<u8>,
}

impl<'w> Out<'w> {
    fn new(w: &'w mut dyn Write) -> Self {
        Out {
            w,
            buf: Vec::with_capacity(CHUNK + 64 * 1024),
        }
    }

    /// Appends the parts of one row.
    fn row(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        if self.buf.len() >= CHUNK {
            self.w.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered, then `text`.
    fn block(&mut self, text: &[u8]) -> io::Result<()> {
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        self.w.write_all(text)
    }

    fn finish(self) -> io::Result<()> {
        self.w.write_all(&self.buf)
    }
}

/// The `reach` listing of one analysis, ready to be written.
pub struct Reach<'r, 'l, 'a> {
    /// The rows.
    pub listing: &'r Listing<'l, 'a>,
    /// [`Analysis::connectivity_head`] for the listing's focus.
    ///
    /// [`Analysis::connectivity_head`]: palisade_netpol::Analysis::connectivity_head
    pub head: &'r Connectivity,
}

impl Reach<'_, '_, '_> {
    /// Writes the `txt`, `csv` or `json` listing (other formats draw graphs: see
    /// [`super::reach`]).
    pub fn write(&self, format: GraphFormat, w: &mut dyn Write) -> io::Result<()> {
        write_rows(self, format, w)
    }

    /// Writes the listing grouped by class pair (`--group classes`): one line (`txt`) or one
    /// `class_pairs` entry (`json`) per pair of reach classes, with their members.
    pub fn write_grouped(&self, format: GraphFormat, w: &mut dyn Write) -> io::Result<()> {
        write_class_pairs(self, format, w)
    }
}

fn write_rows(r: &Reach, format: GraphFormat, w: &mut dyn Write) -> io::Result<()> {
    let (listing, head) = (r.listing, r.head);
    let endpoints = || (0..listing.endpoint_count()).map(|r| listing.endpoint(r));
    let port_sets = || (0..listing.port_set_count()).map(|i| listing.port_set(i));
    let mut out = Out::new(w);
    match format {
        GraphFormat::Txt => {
            let count = listing.row_count();
            out.row(&[reach_header(head, count).as_bytes()])?;
            if count == 0 {
                out.row(&[b"no connection is allowed\n"])?;
            }
            let rows = Rows {
                names: endpoints().map(|e| text(&e.to_string())).collect(),
                between: " -> ",
                tails: port_sets()
                    .map(|p| vec![format!(" : {}\n", text(&p.to_string()))])
                    .collect(),
            };
            rows.write(listing, &mut out, "", "")?;
        }
        GraphFormat::Csv => {
            out.row(&[b"src_type,src,dst_type,dst,protocol,port_start,port_end\n"])?;
            let rows = Rows {
                names: endpoints()
                    .map(|e| format!("{},{}", kind(&e), csv::field(&e.to_string())))
                    .collect(),
                between: ",",
                // One line per port range.
                tails: port_sets()
                    .map(|p| {
                        p.ranges()
                            .map(|r| format!(",{},{},{}\n", r.protocol, r.start, r.end))
                            .collect()
                    })
                    .collect(),
            };
            rows.write(listing, &mut out, "", "")?;
        }
        GraphFormat::Json => {
            let (before, after) = json_head(head)?;
            out.row(&[before.as_bytes(), b"\n  \"connections\": "])?;
            if listing.row_count() == 0 {
                out.row(&[b"[]"])?;
            } else {
                // Values inside a connection are indented by three levels.
                let rows = Rows {
                    names: endpoints()
                        .map(|e| pretty(&e, 6))
                        .collect::<io::Result<_>>()?,
                    between: ",\n      \"dst\": ",
                    tails: port_sets()
                        .map(|p| {
                            Ok(vec![format!(
                                ",\n      \"ports\": {}\n    }}",
                                pretty(p, 6)?
                            )])
                        })
                        .collect::<io::Result<_>>()?,
                };
                let open = "\n    {\n      \"src\": ";
                rows.write(listing, &mut out, &format!("[{open}"), &format!(",{open}"))?;
                out.row(&[b"\n  ]"])?;
            }
            out.row(&[after.as_bytes(), b"\n"])?;
        }
        GraphFormat::Dot | GraphFormat::Svg => {
            return Err(io::Error::other("graphs are drawn from the collected list"));
        }
    }
    out.finish()
}

/// The pieces of a row, formatted once: a row is `open`, the source's name, `between`, the
/// destination's name and the tail of its port set; a port set with several tails (CSV: one
/// per range) makes as many lines.
struct Rows {
    names: Vec<String>,
    between: &'static str,
    tails: Vec<Vec<String>>,
}

impl Rows {
    /// Writes every row of `listing`, opening the first with `first` and the others with
    /// `open`. Blocks of sources are formatted on all cores, a window of blocks at a time, and
    /// written in order.
    fn write(
        &self,
        listing: &Listing<'_, '_>,
        out: &mut Out<'_>,
        first: &str,
        open: &str,
    ) -> io::Result<()> {
        let blocks = listing.source_blocks(BLOCK_ROWS);
        let first_block = blocks.iter().position(|(_, rows)| *rows > 0);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let format = |i: usize| {
            let opening = if Some(i) == first_block { first } else { open };
            self.block(listing, blocks[i].0.clone(), opening, open)
        };
        let indexes: Vec<usize> = (0..blocks.len()).collect();
        for window in indexes.chunks(threads) {
            let texts: Vec<Vec<u8>> = std::thread::scope(|scope| {
                let helpers: Vec<_> = window[1..]
                    .iter()
                    .map(|&i| scope.spawn(move || format(i)))
                    .collect();
                let mut texts = vec![format(window[0])];
                texts.extend(
                    helpers
                        .into_iter()
                        .map(|h| h.join().expect("formatting rows")),
                );
                texts
            });
            for text in &texts {
                out.block(text)?;
            }
        }
        Ok(())
    }

    /// The rows of the sources in `sources`, the first opened with `first`.
    fn block(
        &self,
        listing: &Listing<'_, '_>,
        sources: Range<usize>,
        first: &str,
        open: &str,
    ) -> Vec<u8> {
        let mut text = Vec::new();
        let mut opening = first.as_bytes();
        let _ = listing.for_each_row_in(sources, |r| {
            let (src, dst) = (self.names[r.src].as_bytes(), self.names[r.dst].as_bytes());
            for tail in &self.tails[r.ports] {
                for part in [opening, src, self.between.as_bytes(), dst, tail.as_bytes()] {
                    text.extend_from_slice(part);
                }
                opening = open.as_bytes();
            }
            Ok::<(), Infallible>(())
        });
        text
    }
}

/// One allowed class pair of the grouped JSON listing.
#[derive(Serialize)]
struct PairView<'a> {
    src: Vec<&'a Endpoint>,
    dst: Vec<&'a Endpoint>,
    ports: &'a PortSet,
    connections: u64,
}

fn write_class_pairs(r: &Reach, format: GraphFormat, w: &mut dyn Write) -> io::Result<()> {
    let (listing, head) = (r.listing, r.head);
    let endpoints: Vec<Endpoint> = (0..listing.endpoint_count())
        .map(|r| listing.endpoint(r))
        .collect();
    let mut out = Out::new(w);
    match format {
        GraphFormat::Txt => {
            let pairs = listing.class_pair_count();
            let header = reach_header(head, listing.row_count());
            let header = format!("{} in {pairs} class pairs\n", header.trim_end());
            out.row(&[header.as_bytes()])?;
            if pairs == 0 {
                out.row(&[b"no connection is allowed\n"])?;
            }
            let names: Vec<String> = endpoints.iter().map(|e| text(&e.to_string())).collect();
            let list = |ranks: &[usize]| {
                let items: Vec<&str> = ranks.iter().map(|&r| names[r].as_str()).collect();
                format!("[{}]", items.join(", "))
            };
            listing.for_each_class_pair(|p| {
                let ports = text(&listing.port_set(p.ports).to_string());
                let line = format!("{} -> {} : {ports}\n", list(p.src), list(p.dst));
                out.row(&[line.as_bytes()])
            })?;
        }
        GraphFormat::Json => {
            let (before, after) = json_head(head)?;
            out.row(&[before.as_bytes(), b"\n  \"class_pairs\": "])?;
            let mut first = true;
            listing.for_each_class_pair(|p| {
                let view = PairView {
                    src: p.src.iter().map(|&r| &endpoints[r]).collect(),
                    dst: p.dst.iter().map(|&r| &endpoints[r]).collect(),
                    ports: listing.port_set(p.ports),
                    connections: (p.src.len() * p.dst.len()) as u64,
                };
                let open: &[u8] = if first { b"[\n    " } else { b",\n    " };
                first = false;
                out.row(&[open, pretty(&view, 4)?.as_bytes()])
            })?;
            out.row(&[if first { b"[]" } else { b"\n  ]" }])?;
            out.row(&[after.as_bytes(), b"\n"])?;
        }
        GraphFormat::Csv | GraphFormat::Dot | GraphFormat::Svg => {
            return Err(io::Error::other("--group classes writes table or json"));
        }
    }
    out.finish()
}

/// Text for people, with control and bidirectional-override characters escaped.
fn text(s: &str) -> String {
    escape_keep_lines(s).into_owned()
}

/// The pretty JSON of `value` as it appears `indent` spaces deep (serde_json's pretty printer
/// never puts a line break inside a string, so every line break starts a line of the value).
fn pretty(value: &impl Serialize, indent: usize) -> io::Result<String> {
    let text = serde_json::to_string_pretty(value)?;
    Ok(text.replace('\n', &format!("\n{:indent$}", "")))
}

/// The pretty JSON document of `head` (no connections) split where its connection list goes.
fn json_head(head: &Connectivity) -> io::Result<(String, String)> {
    let doc = serde_json::to_string_pretty(head)?;
    let (before, after) = doc
        .split_once(CONNECTIONS_MEMBER)
        .ok_or_else(|| io::Error::other("the JSON head lacks its connection list"))?;
    Ok((before.to_string(), after.to_string()))
}

#[cfg(test)]
mod tests {
    use palisade_netpol::Analysis;

    use super::*;

    /// Workloads whose names need escaping in every format (a control character, a comma, a
    /// quote), policies with ipBlocks (external ranges on both sides), named and
    /// numbered ports, and an unselected namespace (rows with every port).
    const CLUSTER: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: pg}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}], ports: [{port: 443}, {port: 80, endPort: 90}]}]
  egress: [{to: [{podSelector: {}}, {ipBlock: {cidr: "2001:db8::/32"}}]}]
---
{apiVersion: apps/v1, kind: Deployment, metadata: {name: "web\u001b[2J", namespace: shop}, spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}}}}
---
{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: "db,\"main\"", namespace: shop}, spec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: x, ports: [{name: pg, containerPort: 5432}]}]}}}}
---
{apiVersion: apps/v1, kind: Deployment, metadata: {name: "=cmd", namespace: dev}, spec: {template: {metadata: {labels: {app: tool}}, spec: {containers: [{name: c, image: x}]}}}}
---
{apiVersion: apps/v1, kind: Deployment, metadata: {name: batch, namespace: dev}, spec: {template: {metadata: {labels: {app: tool}}, spec: {containers: [{name: c, image: x}]}}}}
"#;

    /// The listing as [`Reach::write`] (`grouped: false`) or [`Reach::write_grouped`] writes it.
    fn streamed(
        grouped: bool,
        a: &Analysis<'_>,
        focus: Option<usize>,
        format: GraphFormat,
    ) -> String {
        let reach = a.reachability();
        let listing = Listing::new(a, &reach, focus);
        let head = a.connectivity_head(focus);
        let writer = Reach {
            listing: &listing,
            head: &head,
        };
        let mut out = Vec::new();
        if grouped {
            writer.write_grouped(format, &mut out).unwrap();
        } else {
            writer.write(format, &mut out).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_streamed_listing_has_the_bytes_of_the_collected_one_in_every_format() {
        let ingested = palisade_ingest::ingest_str("cluster.yaml", CLUSTER);
        assert!(!ingested.has_errors(), "{:?}", ingested.diagnostics.first());
        let a = Analysis::new(&ingested.inventory);
        let reach = a.reachability();
        let focuses = std::iter::once(None).chain((0..a.universe().members.len()).map(Some));
        for focus in focuses {
            let collected = a.connectivity(&reach, focus);
            assert!(collected.connections.len() > 3, "{focus:?}");
            for format in [GraphFormat::Txt, GraphFormat::Csv, GraphFormat::Json] {
                let mut want = super::super::reach(&collected, format).unwrap();
                if format == GraphFormat::Txt {
                    want = escape_keep_lines(&want).into_owned();
                }
                let got = streamed(false, &a, focus, format);
                assert_eq!(got, want, "{format:?}, focus {focus:?}");
            }
        }
        // The escapes the formats need are exercised.
        let txt = streamed(false, &a, None, GraphFormat::Txt);
        assert!(txt.contains("web\\u{1b}[2J"), "{txt}");
        let csv = streamed(false, &a, None, GraphFormat::Csv);
        assert!(
            csv.contains("\"shop/StatefulSet/db,\"\"main\"\"\""),
            "{csv}"
        );
    }

    #[test]
    fn a_listing_formatted_in_many_blocks_has_the_bytes_of_the_collected_one() {
        // 300 workloads of two kinds (two classes under one policy): 90,000 rows, 11 blocks.
        let mut yaml = String::from(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {matchLabels: {k: x}}, ingress: [{ports: [{port: 80}]}]}\n",
        );
        for i in 0..300 {
            let labels = if i % 3 == 0 { "{k: x}" } else { "{k: z}" };
            yaml.push_str(&format!(
                "---\n{{apiVersion: v1, kind: Pod, metadata: {{name: p{i}, namespace: a, labels: {labels}}}, spec: {{containers: [{{name: c, image: x}}]}}}}\n"
            ));
        }
        let ingested = palisade_ingest::ingest_str("many.yaml", &yaml);
        assert!(!ingested.has_errors(), "{:?}", ingested.diagnostics.first());
        let a = Analysis::new(&ingested.inventory);
        let reach = a.reachability();
        assert!(
            Listing::new(&a, &reach, None)
                .source_blocks(BLOCK_ROWS)
                .len()
                > 5
        );
        let collected = a.connectivity(&reach, None);
        for format in [GraphFormat::Txt, GraphFormat::Csv, GraphFormat::Json] {
            let want = super::super::reach(&collected, format).unwrap();
            assert!(streamed(false, &a, None, format) == want, "{format:?}");
        }
    }

    #[test]
    fn an_empty_listing_has_the_bytes_of_the_collected_one() {
        let deny = format!(
            "{CLUSTER}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: deny, namespace: dev}}\nspec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}\n"
        );
        let ingested = palisade_ingest::ingest_str("cluster.yaml", &deny);
        let a = Analysis::new(&ingested.inventory);
        let reach = a.reachability();
        let dev = a.universe().find_workload("dev/batch").unwrap();
        let collected = a.connectivity(&reach, Some(dev));
        assert!(collected.connections.is_empty());
        for format in [GraphFormat::Txt, GraphFormat::Csv, GraphFormat::Json] {
            let want = super::super::reach(&collected, format).unwrap();
            assert_eq!(streamed(false, &a, Some(dev), format), want);
        }
    }

    #[test]
    fn grouped_listing_has_one_line_per_class_pair_covering_every_connection() {
        let ingested = palisade_ingest::ingest_str("cluster.yaml", CLUSTER);
        let a = Analysis::new(&ingested.inventory);
        let reach = a.reachability();
        let rows = a.connectivity(&reach, None).connections.len();
        let txt = streamed(true, &a, None, GraphFormat::Txt);
        let lines: Vec<&str> = txt.lines().collect();
        assert_eq!(lines.len() - 1, reach.edge_count(), "{txt}");
        assert!(
            lines[0].ends_with(&format!(
                "; {rows} connections in {} class pairs",
                reach.edge_count()
            )),
            "{txt}"
        );
        // The two dev workloads are one class: one line lists both.
        assert!(
            lines.iter().any(|l| l
                .starts_with("[dev/Deployment/=cmd, dev/Deployment/batch] -> [dev/Deployment/=cmd, dev/Deployment/batch] : all")),
            "{txt}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&streamed(true, &a, None, GraphFormat::Json)).unwrap();
        let pairs = json["class_pairs"].as_array().unwrap();
        assert_eq!(pairs.len(), reach.edge_count());
        let covered: u64 = pairs
            .iter()
            .map(|p| p["connections"].as_u64().unwrap())
            .sum();
        assert_eq!(covered, rows as u64);
        assert_eq!(json["stats"]["workloads"], 4);
    }
}
