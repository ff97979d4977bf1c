//! The workspace's layering, checked over `cargo metadata` (issue 14):
//!
//! 1. every workspace crate is listed in [`CRATES`] with its role and the palisade-* crates it
//!    may depend on; an internal dependency that is not listed fails, naming both crates;
//! 2. a pure crate depends on no IO or server crate ([`DENIED`]), directly or transitively,
//!    through normal or build dependencies of the default build; a failure names the pure crate,
//!    the offending crate and the path through which it arrives.
//!
//! The graph is the one `cargo metadata` resolves for the whole workspace with default features
//! (features unified across members, every target platform), i.e. what `cargo build` compiles:
//! conservative, it can only report more than one crate's own build needs, never less.
//! Dev-dependencies are not checked: tests may use registries, tempfiles and runtimes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::process::{Command, Stdio};

use serde::Deserialize;

/// What a crate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Values in, values out: no files, network, processes, clock or async runtime. May depend
    /// only on pure palisade-* crates, and transitively on no [`DENIED`] crate.
    Pure,
    /// Touches the outside world (files, network, database, kernel) or formats for it.
    Edge,
    /// Only ever a dev-dependency (test support); no crate may depend on it normally.
    DevOnly,
}

use Role::{DevOnly, Edge, Pure};

/// Every workspace crate: its role and the palisade-* crates it may depend on (normal and build
/// dependencies). Pure crates list only pure crates (checked by
/// `the_edge_table_keeps_pure_crates_pure`). A crate listed here that the workspace does not
/// have (yet) is ignored: `palisade-analysis` is being added by another change.
const CRATES: &[(&str, Role, &[&str])] = &[
    // --- pure core: the vocabulary and the analyses ---
    ("palisade-model", Pure, &[]),
    ("palisade-oci", Pure, &[]),
    ("palisade-api", Pure, &["palisade-model"]),
    ("palisade-cel", Pure, &[]),
    ("palisade-version", Pure, &["palisade-model"]),
    (
        "palisade-vuln",
        Pure,
        &["palisade-model", "palisade-version"],
    ),
    ("palisade-netpol", Pure, &["palisade-model"]),
    ("palisade-rbac", Pure, &["palisade-model"]),
    ("palisade-risk", Pure, &["palisade-model", "palisade-rbac"]),
    ("palisade-runtime", Pure, &["palisade-model"]),
    ("palisade-sbom", Pure, &["palisade-model"]),
    (
        "palisade-checks",
        Pure,
        // runtime: the RuntimePolicy the runtime checks (PAL-097, PAL-098) read.
        &["palisade-model", "palisade-netpol", "palisade-runtime"],
    ),
    (
        "palisade-config",
        Pure,
        &["palisade-model", "palisade-checks", "palisade-cel"],
    ),
    // The analysis pipeline as a library (scan today, the sensor and central tomorrow).
    (
        "palisade-analysis",
        Pure,
        &[
            "palisade-model",
            "palisade-checks",
            "palisade-config",
            "palisade-netpol",
            "palisade-rbac",
            "palisade-risk",
            "palisade-runtime",
        ],
    ),
    // --- edges: inputs, sinks, network, database, kernel, servers ---
    // Opens files of untrusted trees safely (regular files only, bounded reads).
    ("palisade-fs", Edge, &[]),
    // Reads manifests from files and stdin.
    ("palisade-ingest", Edge, &["palisade-model", "palisade-fs"]),
    // Sinks: table, JSON, SARIF, JUnit (the typed top risks are palisade-risk's).
    (
        "palisade-report",
        Edge,
        &[
            "palisade-model",
            "palisade-api",
            "palisade-checks",
            "palisade-risk",
        ],
    ),
    // Opens image files and unpacks layers (tar, gzip, zstd).
    (
        "palisade-image",
        Edge,
        &["palisade-model", "palisade-oci", "palisade-fs"],
    ),
    // The OCI distribution client: needs only the OCI types, not the unpacker.
    ("palisade-registry", Edge, &["palisade-oci"]),
    // Pure signature core; the `registry` feature (default) adds the registry edge.
    (
        "palisade-trust",
        Edge,
        &["palisade-model", "palisade-registry"],
    ),
    // SQLite database and HTTPS updates. fs: files of imported directories (regular only).
    (
        "palisade-vulndb",
        Edge,
        &["palisade-model", "palisade-vuln", "palisade-fs"],
    ),
    // Central's durable store (SQLite or PostgreSQL).
    ("palisade-store", Edge, &["palisade-model", "palisade-api"]),
    // The Linux runtime agent (proc connector, /proc, responses).
    // api: the wire records it sends to central. cluster: the kube client its delete-pod and
    // restart-workload responses go through (one client construction, in palisade-cluster).
    (
        "palisade-agent",
        Edge,
        &[
            "palisade-model",
            "palisade-runtime",
            "palisade-api",
            "palisade-cluster",
        ],
    ),
    // TLS for the HTTPS servers: certificate reload and generated certificates.
    ("palisade-tls", Edge, &["palisade-model"]),
    // Central: the HTTPS API over the store, with the netpol and RBAC engines for graph queries.
    (
        "palisade-central",
        Edge,
        &[
            "palisade-model",
            "palisade-api",
            "palisade-store",
            "palisade-tls",
            "palisade-ingest",
            "palisade-netpol",
            "palisade-rbac",
            "palisade-runtime",
            "palisade-checks",
        ],
    ),
    // The admission webhook server.
    (
        "palisade-admission",
        Edge,
        &[
            "palisade-model",
            "palisade-checks",
            "palisade-config",
            "palisade-ingest",
            "palisade-tls",
            "palisade-runtime",
        ],
    ),
    // Reads a live cluster (kube-rs) into the inventory through palisade-ingest.
    (
        "palisade-cluster",
        Edge,
        &["palisade-model", "palisade-ingest"],
    ),
    // The binary: may use every library.
    (
        "palisade",
        Edge,
        &[
            "palisade-model",
            "palisade-oci",
            "palisade-cel",
            "palisade-version",
            "palisade-vuln",
            "palisade-netpol",
            "palisade-rbac",
            "palisade-risk",
            "palisade-runtime",
            "palisade-sbom",
            "palisade-checks",
            "palisade-config",
            "palisade-analysis",
            "palisade-ingest",
            "palisade-report",
            "palisade-image",
            "palisade-registry",
            "palisade-trust",
            "palisade-vulndb",
            "palisade-agent",
            "palisade-admission",
            "palisade-api",
            "palisade-tls",
            "palisade-store",
            "palisade-central",
            "palisade-cluster",
        ],
    ),
    // The synthetic-cluster generator for benchmarks.
    ("palisade-synth", Edge, &[]),
    ("palisade-testkit", DevOnly, &["palisade-model"]),
    // The fake Kubernetes API server of the live-cluster tests (certificates from admission).
    ("palisade-kube-fake", DevOnly, &["palisade-admission"]),
];

/// Crates a pure crate must not reach, and why. A pure crate that needs one of these has an
/// edge inside it: move that part to an edge crate (or behind a trait the edge implements).
/// The list names the entry points; what they pull in (h2, tower, …) is reached through them.
const DENIED: &[(&str, &str)] = &[
    // Async runtimes and event loops: a pure crate has nothing to wait for.
    ("tokio", "async runtime"),
    ("async-std", "async runtime"),
    ("smol", "async runtime"),
    ("async-io", "async I/O reactor"),
    ("mio", "OS event loop (sockets)"),
    ("socket2", "raw sockets"),
    ("polling", "OS event polling"),
    // HTTP clients and servers, TLS: network edges.
    ("hyper", "HTTP client/server"),
    ("hyper-util", "HTTP client/server runtime glue"),
    ("h2", "HTTP/2 connections"),
    ("reqwest", "HTTP client"),
    ("ureq", "HTTP client"),
    ("curl", "HTTP client (libcurl)"),
    ("axum", "HTTP server"),
    ("actix-web", "HTTP server"),
    ("warp", "HTTP server"),
    ("tonic", "gRPC client/server"),
    ("tower", "network service stack"),
    ("rustls", "TLS connections"),
    ("tokio-rustls", "TLS connections"),
    ("native-tls", "TLS connections"),
    ("openssl", "TLS connections (OpenSSL)"),
    // Registries and clusters: the network edges of image and cluster access.
    ("oci-client", "OCI registry client"),
    (
        "docker_credential",
        "reads docker credentials and runs credential helpers",
    ),
    ("kube", "Kubernetes API client"),
    ("kube-client", "Kubernetes API client"),
    ("kube-runtime", "Kubernetes controllers and watchers"),
    // Databases.
    ("sqlx", "SQL database access"),
    ("sqlx-core", "SQL database access"),
    ("rusqlite", "SQLite database access"),
    ("libsqlite3-sys", "SQLite database access"),
    // Archives and decompression: unpacking belongs to palisade-image, at the edge.
    ("tar", "tar archive reading/writing"),
    ("flate2", "gzip/deflate streams"),
    ("zstd", "zstd streams"),
    ("zip", "zip archive reading/writing"),
    // The kernel and the host: processes, /proc, signals, netlink, files.
    ("procfs", "reads /proc"),
    ("signal-hook", "process signals"),
    ("nix", "Unix system calls"),
    ("netlink-sys", "netlink sockets"),
    (
        "netlink-packet-core",
        "netlink messages for netlink sockets",
    ),
    ("rtnetlink", "netlink sockets"),
    ("neli", "netlink sockets"),
    ("notify", "filesystem watching"),
    ("memmap2", "memory-mapped files"),
    ("tempfile", "creates files"),
    ("walkdir", "walks directories"),
    // Logging output is configured by the binary; libraries emit through `tracing` only.
    ("tracing-subscriber", "installs log output"),
];

/// The part of `cargo metadata --format-version 1` read here.
#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    resolve: Resolve,
}

#[derive(Deserialize)]
struct Package {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    deps: Vec<NodeDep>,
}

#[derive(Deserialize)]
struct NodeDep {
    pkg: String,
    dep_kinds: Vec<DepKind>,
}

#[derive(Deserialize)]
struct DepKind {
    /// `null` for normal dependencies, `"dev"` or `"build"`.
    kind: Option<String>,
}

/// The resolved graph by package name: normal and build edges only.
struct Graph {
    members: BTreeSet<String>,
    edges: BTreeMap<String, BTreeSet<String>>,
}

fn graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Its stderr goes to the test's, so a failure explains itself.
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "cargo metadata failed");
    let metadata: Metadata =
        serde_json::from_slice(&output.stdout).expect("parse cargo metadata output");
    let names: BTreeMap<&str, &str> = metadata
        .packages
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect();
    let name = |id: &str| names.get(id).copied().unwrap_or(id).to_string();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for node in &metadata.resolve.nodes {
        let targets = node
            .deps
            .iter()
            .filter(|d| d.dep_kinds.iter().any(|k| k.kind.as_deref() != Some("dev")))
            .map(|d| name(&d.pkg));
        edges.entry(name(&node.id)).or_default().extend(targets);
    }
    Graph {
        members: metadata
            .workspace_members
            .iter()
            .map(|id| name(id))
            .collect(),
        edges,
    }
}

fn role(krate: &str) -> Option<(Role, &'static [&'static str])> {
    CRATES
        .iter()
        .find(|(name, _, _)| *name == krate)
        .map(|(_, role, allowed)| (*role, *allowed))
}

/// Every crate `from` reaches, with the path to it (`from → … → it`), breadth first, so the
/// path reported is a shortest one. Crates for which `stop` holds are reached but not walked
/// through (what a denied crate pulls in is its own business: one message per entry point).
fn reachable(
    graph: &Graph,
    from: &str,
    stop: impl Fn(&str) -> bool,
) -> BTreeMap<String, Vec<String>> {
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    paths.insert(from.to_string(), vec![from.to_string()]);
    let mut queue = VecDeque::from([from.to_string()]);
    while let Some(current) = queue.pop_front() {
        for next in graph.edges.get(&current).into_iter().flatten() {
            if !paths.contains_key(next) {
                let mut path = paths[&current].clone();
                path.push(next.clone());
                paths.insert(next.clone(), path);
                if !stop(next) {
                    queue.push_back(next.clone());
                }
            }
        }
    }
    paths
}

/// Why `krate` is denied to pure crates, when it is.
fn denied(krate: &str) -> Option<&'static str> {
    DENIED
        .iter()
        .find(|(name, _)| *name == krate)
        .map(|(_, why)| *why)
}

/// The violations of both rules, one message each.
fn violations(graph: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    for member in &graph.members {
        let Some((member_role, allowed)) = role(member) else {
            found.push(format!(
                "{member} is a workspace crate missing from CRATES in {}: add it with its role \
                 and the palisade-* crates it may depend on (and list it in docs/architecture.md)",
                file!()
            ));
            continue;
        };
        for dep in graph.edges.get(member).into_iter().flatten() {
            if !graph.members.contains(dep) || allowed.contains(&dep.as_str()) {
                continue;
            }
            let why = match role(dep) {
                Some((DevOnly, _)) => format!("{dep} is test support, a dev-dependency only"),
                Some((Edge, _)) if member_role == Pure => {
                    format!("{member} is pure and {dep} is an edge crate")
                }
                _ => "the edge is not in the allowed table".to_string(),
            };
            found.push(format!(
                "{member} depends on {dep} (path: {member} → {dep}), which CRATES in {} does \
                 not allow: {why}",
                file!()
            ));
        }
        if member_role != Pure {
            continue;
        }
        for (reached, path) in reachable(graph, member, |c| denied(c).is_some()) {
            if let Some(why) = denied(&reached) {
                found.push(format!(
                    "pure crate {member} depends on the IO/server crate {reached} ({why}) \
                     through {}",
                    path.join(" → ")
                ));
            }
        }
    }
    found
}

#[test]
fn crates_depend_only_along_allowed_edges_and_pure_crates_do_no_io() {
    let graph = graph();
    let found = violations(&graph);
    assert!(
        found.is_empty(),
        "layering violations ({}):\n  - {}\n",
        found.len(),
        found.join("\n  - ")
    );
}

#[test]
fn the_edge_table_keeps_pure_crates_pure() {
    let mut found = Vec::new();
    for (name, role_of, allowed) in CRATES {
        for dep in *allowed {
            match role(dep) {
                None => found.push(format!("{name} allows {dep}, which CRATES does not list")),
                Some((DevOnly, _)) => found.push(format!("{name} allows {dep}, which is dev-only")),
                Some((Edge, _)) if *role_of == Pure => {
                    found.push(format!("pure {name} allows the edge crate {dep}"))
                }
                _ => {}
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

/// The checker itself: an IO crate reached through a pure dependency is reported with its path,
/// and an unlisted internal edge is reported naming both crates.
#[test]
fn the_checker_reports_the_path_and_the_unlisted_edge() {
    let edges = [
        ("palisade-config", &["palisade-checks", "serde"][..]),
        ("palisade-checks", &["palisade-model", "palisade-image"][..]),
        ("palisade-image", &["palisade-model", "tar"][..]),
        ("palisade-model", &[][..]),
        ("tar", &[][..]),
    ];
    let graph = Graph {
        members: [
            "palisade-config",
            "palisade-checks",
            "palisade-image",
            "palisade-model",
        ]
        .map(String::from)
        .into(),
        edges: edges
            .iter()
            .map(|(from, to)| (from.to_string(), to.iter().map(|s| s.to_string()).collect()))
            .collect(),
    };
    let found = violations(&graph);
    assert!(
        found.iter().any(|m| m.starts_with(
            "palisade-checks depends on palisade-image (path: palisade-checks → palisade-image)"
        ) && m
            .ends_with("palisade-checks is pure and palisade-image is an edge crate")),
        "{found:#?}"
    );
    assert!(
        found.contains(
            &"pure crate palisade-config depends on the IO/server crate tar (tar archive \
              reading/writing) through palisade-config → palisade-checks → palisade-image → tar"
                .to_string()
        ),
        "{found:#?}"
    );
    assert!(
        !found
            .iter()
            .any(|m| m.contains("palisade-image depends on tar")),
        "edge crates may use IO crates: {found:#?}"
    );
}
