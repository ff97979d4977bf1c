//! A synthetic cluster for benchmarks: `namespaces` namespaces with `workloads_per_ns`
//! Deployments each and `policies_per_ns` NetworkPolicies each, built as Kubernetes objects
//! (JSON values) so the same cluster can be written as YAML for other tools.
//!
//! Shape (deterministic): namespace 0 is `ingress-nginx`, 1 is `monitoring`, 2 is `kube-system`
//! (with CoreDNS), the rest `team-<i>` with `team` and `env` labels. Workloads are frontends,
//! backends and databases with named ports. Policies per namespace, in this order: default-deny
//! (both directions); frontend ingress (even namespaces) from the ingress controller and from the Internet except
//! private ranges; backend ingress from same-namespace frontends and from one app of the same
//! team's namespaces plus Prometheus on `metrics`; database ingress from one backend (odd namespaces); egress to
//! DNS, same-namespace backends and databases, and HTTPS outside the private ranges. Every 10th
//! namespace has no default-deny. Selectors vary with the namespace index, so classes are many.

#![allow(dead_code)]

use palisade_model::Inventory;
use serde_json::{Value, json};

/// Size of the synthetic cluster.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Namespaces.
    pub namespaces: usize,
    /// Deployments per namespace.
    pub workloads_per_ns: usize,
    /// NetworkPolicies per namespace (at most 5 distinct kinds; extra ones repeat the pattern).
    pub policies_per_ns: usize,
}

/// 10,000 workloads, 500 namespaces, 2,000 policies.
pub const ISSUE_SCALE: Size = Size {
    namespaces: 500,
    workloads_per_ns: 20,
    policies_per_ns: 4,
};

fn ns_name(i: usize) -> String {
    match i {
        0 => "ingress-nginx".into(),
        1 => "monitoring".into(),
        2 => "kube-system".into(),
        _ => format!("team-{i}"),
    }
}

fn tier(j: usize, per_ns: usize) -> &'static str {
    let f = j * 10 / per_ns.max(1);
    match f {
        0..=1 => "frontend",
        2..=6 => "backend",
        _ => "db",
    }
}

/// All objects of the synthetic cluster.
pub fn manifests(size: Size) -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0..size.namespaces {
        let name = ns_name(i);
        let env = ["prod", "staging", "dev"][i % 3];
        out.push(json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {
                "team": format!("t{}", i % 50),
                "env": env,
            }},
        }));
        for j in 0..size.workloads_per_ns {
            let (app, labels, ports) = match (i, j) {
                (0, 0) => (
                    "controller",
                    json!({"app.kubernetes.io/name": "ingress-nginx"}),
                    json!([{"name": "https", "containerPort": 443}]),
                ),
                (1, 0) => (
                    "prometheus",
                    json!({"app": "prometheus"}),
                    json!([{"name": "web", "containerPort": 9090}]),
                ),
                (2, 0) => (
                    "coredns",
                    json!({"k8s-app": "kube-dns"}),
                    json!([{"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"name": "dns-tcp", "containerPort": 53}]),
                ),
                _ => {
                    let t = tier(j, size.workloads_per_ns);
                    let port = if t == "db" {
                        json!({"name": "pg", "containerPort": 5432})
                    } else {
                        json!({"name": "http", "containerPort": 8080})
                    };
                    (
                        "svc",
                        json!({"app": format!("svc-{j}"), "tier": t, "version": "v1"}),
                        json!([port, {"name": "metrics", "containerPort": 9102}]),
                    )
                }
            };
            out.push(json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": format!("{app}-{j}"), "namespace": name},
                "spec": {"template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "main", "image": "registry.example/app:1", "ports": ports}]},
                }},
            }));
        }
        for k in 0..size.policies_per_ns {
            out.push(policy(i, k, size));
        }
    }
    out
}

fn policy(i: usize, k: usize, size: Size) -> Value {
    let ns = ns_name(i);
    let w = size.workloads_per_ns.max(1);
    let private_except = json!(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]);
    // Even namespaces: deny, frontend, backend, egress; odd ones swap frontend for databases.
    let kind = if i % 2 == 1 && k % 5 == 1 { 4 } else { k % 5 };
    let (name, spec) = match kind {
        0 if i % 10 == 9 => (
            // No default-deny here: the namespace only restricts its databases.
            "db-only".to_string(),
            json!({"podSelector": {"matchLabels": {"tier": "db"}}, "policyTypes": ["Ingress"]}),
        ),
        0 => (
            "default-deny".to_string(),
            json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        ),
        1 => (
            "frontend-ingress".to_string(),
            json!({
                "podSelector": {"matchLabels": {"tier": "frontend"}},
                "ingress": [
                    {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
                               "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}}}],
                     "ports": [{"port": "http"}]},
                    {"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": private_except}}],
                     "ports": [{"port": 443}]},
                ],
            }),
        ),
        2 => (
            "backend-ingress".to_string(),
            json!({
                "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]},
                "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"tier": "frontend"}}}], "ports": [{"port": "http"}]},
                    {"from": [{"namespaceSelector": {"matchLabels": {"team": format!("t{}", i % 50)}},
                               "podSelector": {"matchLabels": {"app": format!("svc-{}", 2 + i % (w / 2).max(1))}}}],
                     "ports": [{"port": 8080, "endPort": 8090}]},
                    {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                     "ports": [{"port": "metrics"}]},
                ],
            }),
        ),
        3 => (
            "egress".to_string(),
            json!({
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                             "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                     "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
                    {"to": [{"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend", "db"]}]}}],
                     "ports": [{"port": "http"}, {"port": "pg"}]},
                    {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": private_except}},
                            {"ipBlock": {"cidr": format!("10.{}.0.0/16", i % 256)}}],
                     "ports": [{"port": 443}]},
                ],
            }),
        ),
        _ => (
            format!("db-from-{k}"),
            json!({
                "podSelector": {"matchLabels": {"tier": "db"}},
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": format!("svc-{}", 2 + (i + k) % (w / 2).max(1))}}}],
                             "ports": [{"port": "pg"}]}],
            }),
        ),
    };
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": format!("{name}-{k}"), "namespace": ns},
        "spec": spec,
    })
}

/// The synthetic cluster as an inventory, read through the real ingestion (as one JSON List).
pub fn inventory(values: &[Value]) -> Inventory {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": values});
    let ingested = palisade_ingest::ingest_str("synthetic.json", &list.to_string());
    assert!(!ingested.has_errors(), "{:?}", ingested.diagnostics);
    ingested.inventory
}
