//! `palisade netpol`: NetworkPolicy reachability, single-connection verdicts, exposure and blast
//! radius, what-if diff and least-privilege policy generation.
//!
//! Workloads are named `NAMESPACE/NAME` (or `NAMESPACE/KIND/NAME` when two kinds share a name);
//! external endpoints are IP addresses. Problems in policies (invalid CIDR, protocol, operator…)
//! are printed to stderr naming the policy and its file:line; the analysis goes on without the
//! invalid part (see docs/network-policy.md).

use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use palisade_model::flow::Flow;
use palisade_netpol::aggregate;
use palisade_netpol::{Analysis, DnsTarget, GenerateOptions, Listing, Protocol, Target};

use crate::exit::{self, finish};
use crate::input::load_inventory;
use crate::output;
use crate::output::with_newline;
use crate::render::netpol::{self as render, Format, GraphFormat};

/// `palisade netpol`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  palisade netpol reach manifests/ --format svg > reach.svg\n  palisade netpol reach manifests/ --focus shop/web\n  palisade netpol can shop/web shop/db 5432/TCP manifests/\n  palisade netpol can 203.0.113.7 shop/web 443 manifests/\n  palisade netpol exposure manifests/\n  palisade netpol exposure --cluster --kubeconfig ~/.kube/prod.yaml\n  palisade netpol diff current/ proposed/\n  palisade netpol generate --flows flows.jsonl --default-deny manifests/ > policies.yaml\n\nExit status: 0 success (for can: allowed); 1 can: denied; 2 usage error; 3 some input could not be read."
)]
pub struct NetpolArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: NetpolCommand,
}

/// The netpol subcommands.
#[derive(Debug, Subcommand)]
pub enum NetpolCommand {
    /// Every allowed connection between workloads and external IP ranges, with ports.
    Reach(ReachArgs),
    /// Whether SRC may connect to DST on PORT[/PROTO], and the policies and rules responsible
    /// (exit code 0 = allowed, 1 = denied).
    Can(CanArgs),
    /// Isolation, reachability counts (blast radius) and external exposure of every workload.
    Exposure(ExposureArgs),
    /// Connections added, removed and changed between two manifest sets.
    Diff(DiffArgs),
    /// Least-privilege NetworkPolicies (YAML) from observed flows (JSON lines).
    Generate(GenerateArgs),
}

/// `palisade netpol reach`.
#[derive(Debug, Args)]
pub struct ReachArgs {
    /// Files or directories to read (.yaml, .yml, .json; directories recursively); `-` = stdin.
    #[arg(required_unless_present = "cluster", value_name = "PATH")]
    pub paths: Vec<String>,
    /// A live cluster instead of paths.
    #[command(flatten)]
    pub cluster: crate::cluster_args::ClusterArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = GraphFormat::Txt)]
    pub format: GraphFormat,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only connections from or to this workload (NAMESPACE/NAME or NAMESPACE/KIND/NAME).
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub focus: Option<String>,
    /// Refuse to list more connections than this (use --focus or --group classes on big
    /// clusters).
    #[arg(long, value_name = "N", default_value_t = 2_000_000)]
    pub max_connections: u64,
    /// `classes`: one line per pair of reach classes with their members (txt or json), for
    /// clusters whose connections are too many to read one by one. `namespaces` (with
    /// --format svg): namespaces as nodes, edges counting the connections between them,
    /// allow-all edges and unprotected workloads marked (the dashboard's picture).
    #[arg(long, value_enum, value_name = "HOW", conflicts_with = "focus")]
    pub group: Option<Grouping>,
    /// With --group namespaces: draw this namespace's workloads instead of one node.
    #[arg(long, value_name = "NAMESPACE", requires = "group")]
    pub expand: Option<String>,
}

/// How `reach --group` groups the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Grouping {
    /// One line per pair of reach classes (workloads every policy treats alike).
    Classes,
    /// Namespaces as nodes (SVG only).
    Namespaces,
}

/// `palisade netpol can`.
#[derive(Debug, Args)]
pub struct CanArgs {
    /// Source: NAMESPACE/NAME, NAMESPACE/KIND/NAME or an IP address.
    pub src: String,
    /// Destination: NAMESPACE/NAME, NAMESPACE/KIND/NAME or an IP address.
    pub dst: String,
    /// Destination port, optionally with protocol: 5432, 5432/TCP, 53/udp (TCP by default).
    #[arg(value_name = "PORT[/PROTO]")]
    pub port: String,
    /// Files or directories to read; `-` = stdin.
    #[arg(required_unless_present = "cluster", value_name = "PATH")]
    pub paths: Vec<String>,
    /// A live cluster instead of paths.
    #[command(flatten)]
    pub cluster: crate::cluster_args::ClusterArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Txt)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `palisade netpol exposure`.
#[derive(Debug, Args)]
pub struct ExposureArgs {
    /// Files or directories to read; `-` = stdin.
    #[arg(required_unless_present = "cluster", value_name = "PATH")]
    pub paths: Vec<String>,
    /// A live cluster instead of paths.
    #[command(flatten)]
    pub cluster: crate::cluster_args::ClusterArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Txt)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `palisade netpol diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The current manifest set (file or directory).
    pub old: String,
    /// The proposed manifest set (file or directory).
    pub new: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = GraphFormat::Txt)]
    pub format: GraphFormat,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Refuse to list more changed connections than this (bounds memory).
    #[arg(long, value_name = "N", default_value_t = 2_000_000)]
    pub max_changes: u64,
}

/// `palisade netpol generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Observed flows, one JSON object per line (format in docs/network-policy.md); `-` = stdin.
    #[cfg_attr(
        feature = "central",
        arg(long, value_name = "FILE", required_unless_present = "flows_from")
    )]
    #[cfg_attr(
        not(feature = "central"),
        arg(long, value_name = "FILE", required = true)
    )]
    pub flows: Option<String>,
    /// Read the flows central stored for a cluster instead:
    /// `https://HOST:PORT/api/v1/clusters/NAME/network` (with --token-file and --ca-cert).
    #[cfg(feature = "central")]
    #[arg(long, value_name = "URL", conflicts_with = "flows")]
    pub flows_from: Option<String>,
    /// With --flows-from: the token and the CA to trust.
    #[cfg(feature = "central")]
    #[command(flatten)]
    pub central: crate::central_client::ConnectArgs,
    /// Also emit a default-deny policy (ingress and egress) for every namespace with workloads.
    #[arg(long)]
    pub default_deny: bool,
    /// Do not add the egress rule to the cluster DNS (kube-system, k8s-app=kube-dns, port 53).
    #[arg(long)]
    pub no_dns: bool,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Files or directories with the workloads the flows refer to; `-` = stdin.
    #[arg(required_unless_present = "cluster", value_name = "PATH")]
    pub paths: Vec<String>,
    /// A live cluster instead of paths.
    #[command(flatten)]
    pub cluster: crate::cluster_args::ClusterArgs,
}

/// Exit status of `netpol can` when the connection is denied.
pub const CAN_DENIED: u8 = 1;

/// Runs `palisade netpol …`.
pub fn run(args: NetpolArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        NetpolCommand::Reach(a) => {
            let (inv, input_errors) = load_inventory(&a.paths, &a.cluster)?;
            let analysis = Analysis::new(&inv);
            print_diagnostics(analysis.diagnostics());
            let focus = match &a.focus {
                Some(f) => Some(
                    analysis
                        .universe()
                        .find_workload(f)
                        .with_context(|| format!("--focus {f}"))?,
                ),
                None => None,
            };
            let reach = analysis.reachability();
            let listing = Listing::new(&analysis, &reach, focus);
            let head = analysis.connectivity_head(focus);
            let writer = render::listing::Reach {
                listing: &listing,
                head: &head,
            };
            if a.group == Some(Grouping::Namespaces) {
                if a.format != GraphFormat::Svg {
                    bail!("--group namespaces draws svg (add --format svg)");
                }
                let graph = aggregate::aggregate_classes(&head, &listing, a.expand.as_deref());
                let title = match &a.expand {
                    Some(ns) => format!("Allowed connections by namespace ({ns} expanded)"),
                    None => "Allowed connections by namespace".to_string(),
                };
                let svg = aggregate::svg(&graph, &title, &aggregate::NoLinks, false);
                output::emit(&svg, a.output.as_ref())?;
                return Ok(finish(input_errors, ExitCode::SUCCESS));
            }
            if a.expand.is_some() {
                bail!("--expand goes with --group namespaces");
            }
            if a.group == Some(Grouping::Classes) {
                if !matches!(a.format, GraphFormat::Txt | GraphFormat::Json) {
                    bail!("--group classes writes table or json");
                }
                output::emit_with(a.output.as_ref(), |w| writer.write_grouped(a.format, w))?;
                return Ok(finish(input_errors, ExitCode::SUCCESS));
            }
            let rows = listing.row_count();
            if rows > a.max_connections {
                bail!(
                    "{rows} connections would be listed (more than --max-connections {}); narrow the output with --focus NAMESPACE/NAME or raise the limit",
                    a.max_connections
                );
            }
            match a.format {
                GraphFormat::Txt | GraphFormat::Csv | GraphFormat::Json => {
                    output::emit_with(a.output.as_ref(), |w| writer.write(a.format, w))?;
                }
                GraphFormat::Dot | GraphFormat::Svg => {
                    let connectivity = analysis.connectivity(&reach, focus);
                    output::emit(&render::reach(&connectivity, a.format)?, a.output.as_ref())?;
                }
            }
            Ok(finish(input_errors, ExitCode::SUCCESS))
        }
        NetpolCommand::Can(a) => {
            let (port, protocol) = parse_port(&a.port)?;
            let (inv, input_errors) = load_inventory(&a.paths, &a.cluster)?;
            let analysis = Analysis::new(&inv);
            print_diagnostics(analysis.diagnostics());
            let src: Target = analysis
                .target(&a.src)
                .with_context(|| format!("SRC {}", a.src))?;
            let dst: Target = analysis
                .target(&a.dst)
                .with_context(|| format!("DST {}", a.dst))?;
            let verdict = analysis.can(src, dst, port, protocol)?;
            let text = with_newline(render::can(&verdict, a.format)?);
            output::emit_for(&text, a.output.as_ref(), a.format == Format::Txt)?;
            let status = if verdict.allowed {
                ExitCode::SUCCESS
            } else {
                exit::code(CAN_DENIED)
            };
            Ok(finish(input_errors, status))
        }
        NetpolCommand::Exposure(a) => {
            let (inv, input_errors) = load_inventory(&a.paths, &a.cluster)?;
            let analysis = Analysis::new(&inv);
            print_diagnostics(analysis.diagnostics());
            let reach = analysis.reachability();
            let exposure = analysis.exposure(&reach);
            let text = with_newline(render::exposure(&exposure, a.format)?);
            output::emit_for(&text, a.output.as_ref(), a.format == Format::Txt)?;
            Ok(finish(input_errors, ExitCode::SUCCESS))
        }
        NetpolCommand::Diff(a) => {
            let (old, old_errors) =
                load_inventory(std::slice::from_ref(&a.old), &Default::default())?;
            let (new, new_errors) =
                load_inventory(std::slice::from_ref(&a.new), &Default::default())?;
            let d = palisade_netpol::diff(&old, &new, a.max_changes)?;
            print_diagnostics(&d.old_diagnostics);
            print_diagnostics(&d.new_diagnostics);
            let for_people = a.format == GraphFormat::Txt;
            output::emit_for(&render::diff(&d, a.format)?, a.output.as_ref(), for_people)?;
            Ok(finish(old_errors || new_errors, ExitCode::SUCCESS))
        }
        NetpolCommand::Generate(a) => {
            let (source, read) = match &a.flows {
                Some(path) => (path.clone(), read_flows(path)?),
                None => flows_from_central(&a)?,
            };
            let (lines, flows): (Vec<usize>, Vec<Flow>) = read.into_iter().unzip();
            let (inv, input_errors) = load_inventory(&a.paths, &a.cluster)?;
            let options = GenerateOptions {
                default_deny: a.default_deny,
                dns: (!a.no_dns).then(DnsTarget::default),
            };
            let generated = palisade_netpol::generate(&flows, &inv, &options);
            for s in &generated.skipped {
                let line = lines.get(s.index).copied().unwrap_or(0);
                eprintln_safe!("{source}:{line}: warning: flow skipped: {}", s.reason);
            }
            for group in &generated.merged {
                let names: Vec<String> = group
                    .iter()
                    .map(|w| w.namespace_first().to_string())
                    .collect();
                eprintln_safe!(
                    "warning: workloads with identical labels share one policy: {}",
                    names.join(", ")
                );
            }
            output::emit(&render::generated(&generated)?, a.output.as_ref())?;
            Ok(finish(input_errors, ExitCode::SUCCESS))
        }
    }
}

fn print_diagnostics(diags: &[palisade_model::Diagnostic]) {
    for d in diags {
        eprintln_safe!("{d}");
    }
}

/// `5432`, `5432/TCP`, `53/udp`.
fn parse_port(spec: &str) -> anyhow::Result<(u16, Protocol)> {
    let (port, proto) = match spec.split_once('/') {
        Some((p, proto)) => (p, proto.parse::<Protocol>()?),
        None => (spec, Protocol::Tcp),
    };
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok((p, proto)),
        _ => bail!("invalid port {port:?} in {spec:?} (expected 1-65535, e.g. 5432/TCP)"),
    }
}

/// Longest accepted flow line (a flow record is a few hundred bytes).
const MAX_FLOW_LINE: u64 = 64 * 1024;

/// The flows central stored (`--flows-from URL`, the network endpoint), numbered from 1 in
/// central's order, as the flows a file would hold: each endpoint by namespace and `Kind/name`
/// workload, or by address.
#[cfg(feature = "central")]
fn flows_from_central(a: &GenerateArgs) -> anyhow::Result<(String, Vec<(usize, Flow)>)> {
    #[derive(serde::Deserialize)]
    struct Network {
        flows: Vec<palisade_api::FlowRecord>,
    }
    let url = a.flows_from.clone().unwrap_or_default();
    let network: Network = crate::central_client::Client::get_url(&url, &a.central)
        .with_context(|| format!("reading the flows of {url}"))?;
    let side = |w: &Option<palisade_model::WorkloadId>, ip: &Option<String>| {
        palisade_model::flow::FlowEndpoint {
            namespace: w.as_ref().map(|w| w.namespace.clone()),
            pod: None,
            workload: w.as_ref().map(|w| format!("{}/{}", w.kind, w.name)),
            ip: ip.clone(),
        }
    };
    let flows = network
        .flows
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let flow = Flow {
                timestamp: f.last_seen.rfc3339_ms(),
                src: side(&f.src, &f.src_address),
                dst: side(&f.dst, &f.dst_address),
                port: f.port,
                protocol: f.protocol.clone(),
            };
            (i + 1, flow)
        })
        .collect();
    Ok((url, flows))
}

/// Without central, flows come from a file only (clap requires --flows).
#[cfg(not(feature = "central"))]
fn flows_from_central(_: &GenerateArgs) -> anyhow::Result<(String, Vec<(usize, Flow)>)> {
    anyhow::bail!("--flows is required")
}

/// Reads JSON-lines flows with their line numbers; a malformed or overlong line is an error
/// naming the file and line.
fn read_flows(path: &str) -> anyhow::Result<Vec<(usize, Flow)>> {
    let mut reader: Box<dyn BufRead> = if path == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening flows file {path}"))?,
        ))
    };
    let mut flows = Vec::new();
    let mut buf = Vec::new();
    for line_no in 1.. {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_FLOW_LINE + 1)
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("reading {path}"))?;
        if n == 0 {
            break;
        }
        if buf.len() as u64 > MAX_FLOW_LINE {
            bail!("{path}:{line_no}: line longer than {MAX_FLOW_LINE} bytes");
        }
        let text = std::str::from_utf8(&buf)
            .with_context(|| format!("{path}:{line_no}: not UTF-8"))?
            .trim();
        if text.is_empty() {
            continue;
        }
        let flow: Flow = serde_json::from_str(text)
            .with_context(|| format!("{path}:{line_no}: not a flow record"))?;
        flows.push((line_no, flow));
    }
    Ok(flows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse_with_default_tcp() {
        assert_eq!(parse_port("5432").unwrap(), (5432, Protocol::Tcp));
        assert_eq!(parse_port("53/udp").unwrap(), (53, Protocol::Udp));
        assert_eq!(parse_port("9/SCTP").unwrap(), (9, Protocol::Sctp));
        assert!(parse_port("0").is_err());
        assert!(parse_port("70000/TCP").is_err());
        assert!(parse_port("80/ICMP").is_err());
    }
}
