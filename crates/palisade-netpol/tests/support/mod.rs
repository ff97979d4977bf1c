//! Test support: builds inventories from YAML fixtures and checks connections through both the
//! class-based reachability and the direct `can` evaluation, which must agree.
//!
//! Fixtures go through the real ingestion (`palisade-ingest`); property tests build objects in
//! Rust for speed.

#![allow(dead_code)]

use std::sync::Arc;

use palisade_model::api::{NetworkPolicySpec, PodSpec};
use palisade_model::inventory::{NamespaceSpec, Resource, WorkloadSpec};
use palisade_model::{Inventory, ObjectMeta, SourceLocation, WorkloadKind};
use palisade_netpol::{Analysis, PortSet, Protocol, Target, Verdict};
use serde_json::Value;

/// Reads a YAML fixture named `file` through the real ingestion; fixture errors fail the test.
pub fn load(file: &str, yaml: &str) -> Inventory {
    let ingested = palisade_ingest::ingest_str(file, yaml);
    assert!(
        !ingested.has_errors(),
        "fixture {file} does not ingest: {:#?}",
        ingested.diagnostics
    );
    ingested.inventory
}

/// [`load`] with the file name `fixture.yaml`.
pub fn inventory(yaml: &str) -> Inventory {
    load("fixture.yaml", yaml)
}

/// Parses `80/TCP`, `53/udp`, `8080` (TCP).
pub fn port(spec: &str) -> (u16, Protocol) {
    match spec.split_once('/') {
        Some((p, proto)) => (p.parse().expect("port"), proto.parse().expect("protocol")),
        None => (spec.parse().expect("port"), Protocol::Tcp),
    }
}

/// Answers "can SRC reach DST on PORT" through `can` and through the class reachability,
/// asserting that both agree, and returns the verdict.
pub fn verdict(inv: &Inventory, src: &str, dst: &str, port_spec: &str) -> Verdict {
    let a = Analysis::new(inv);
    let s = a.target(src).expect("source resolves");
    let d = a.target(dst).expect("destination resolves");
    let (p, proto) = port(port_spec);
    let v = a.can(s, d, p, proto).expect("query is valid");
    let reach = a.reachability();
    let by_classes = a.allowed_ports(&reach, s, d).contains(proto, p);
    assert_eq!(
        v.allowed, by_classes,
        "can() and reachability disagree for {src} -> {dst} {port_spec}: {v:#?}"
    );
    v
}

/// Asserts the connection is allowed.
#[track_caller]
pub fn allows(inv: &Inventory, src: &str, dst: &str, port: &str) {
    let v = verdict(inv, src, dst, port);
    assert!(
        v.allowed,
        "expected {src} -> {dst} {port} to be ALLOWED: {v:#?}"
    );
}

/// Asserts the connection is denied.
#[track_caller]
pub fn denies(inv: &Inventory, src: &str, dst: &str, port: &str) {
    let v = verdict(inv, src, dst, port);
    assert!(
        !v.allowed,
        "expected {src} -> {dst} {port} to be DENIED: {v:#?}"
    );
}

/// Allowed ports between two targets, by classes.
pub fn ports_between(inv: &Inventory, src: &str, dst: &str) -> PortSet {
    let a = Analysis::new(inv);
    let reach = a.reachability();
    let s: Target = a.target(src).expect("source");
    let d: Target = a.target(dst).expect("destination");
    a.allowed_ports(&reach, s, d).clone()
}

/// A Namespace document.
pub fn namespace(name: &str, labels: &[(&str, &str)]) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels: {}\n",
        flow_map(labels)
    )
}

/// A Deployment document with pod labels and container ports (`name:number/PROTO`, name may be
/// empty).
pub fn deployment(ns: &str, name: &str, labels: &[(&str, &str)], ports: &[&str]) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels: {l}\n  template:\n    metadata:\n      labels: {l}\n    spec:\n      containers:\n        - name: main\n          image: registry.example/{name}:1\n          ports: {p}\n",
        l = flow_map(labels),
        p = container_ports(ports)
    )
}

fn flow_map(pairs: &[(&str, &str)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("\"{k}\": \"{v}\""))
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn container_ports(ports: &[&str]) -> String {
    let items: Vec<String> = ports
        .iter()
        .map(|p| {
            let (name, rest) = p.split_once(':').unwrap_or(("", p));
            let (num, proto) = rest.split_once('/').unwrap_or((rest, "TCP"));
            if name.is_empty() {
                format!("{{containerPort: {num}, protocol: {proto}}}")
            } else {
                format!("{{name: {name}, containerPort: {num}, protocol: {proto}}}")
            }
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// Joins documents into one YAML stream.
pub fn docs(parts: &[String]) -> String {
    parts.join("---\n")
}

/// A Namespace object built in Rust.
pub fn ns_object(name: &str, labels: &[(&str, &str)]) -> palisade_model::Namespace {
    Resource {
        api_version: "v1".into(),
        kind: "Namespace".into(),
        meta: ObjectMeta {
            name: name.into(),
            labels: pairs(labels),
            ..Default::default()
        },
        source: SourceLocation::new("generated.yaml", 1),
        spec: NamespaceSpec { implicit: false },
        raw: Arc::new(Value::Null),
    }
}

/// A Deployment object built in Rust; `ports` are (name, number, protocol).
pub fn deployment_object(
    ns: &str,
    name: &str,
    labels: &[(&str, &str)],
    ports: &[(&str, u16, &str)],
) -> palisade_model::Workload {
    let container = palisade_model::api::Container {
        name: "main".into(),
        image: Some("registry.example/app:1".into()),
        ports: ports
            .iter()
            .map(|(n, p, proto)| palisade_model::api::ContainerPort {
                name: Some(n.to_string()),
                container_port: i64::from(*p),
                protocol: Some(proto.to_string()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    Resource {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        meta: ObjectMeta {
            name: name.into(),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        source: SourceLocation::new("generated.yaml", 1),
        spec: WorkloadSpec {
            kind: WorkloadKind::Deployment,
            pod_meta: ObjectMeta {
                labels: pairs(labels),
                ..Default::default()
            },
            pod: PodSpec {
                containers: vec![container],
                ..Default::default()
            },
            selector: None,
            replicas: Some(1),
            controller: Default::default(),
        },
        raw: Arc::new(Value::Null),
    }
}

/// A NetworkPolicy object built in Rust.
pub fn policy_object(
    ns: &str,
    name: &str,
    spec: NetworkPolicySpec,
) -> palisade_model::NetworkPolicy {
    Resource {
        api_version: "networking.k8s.io/v1".into(),
        kind: "NetworkPolicy".into(),
        meta: ObjectMeta {
            name: name.into(),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        source: SourceLocation::new("generated.yaml", 1),
        spec,
        raw: Arc::new(Value::Null),
    }
}

fn pairs(labels: &[(&str, &str)]) -> palisade_model::Labels {
    labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
