//! Risk order on the demo snapshot (`examples/demo-cluster`), read with the real ingestion and
//! scored with the real check engine's findings. The expectations come from the snapshot's
//! README ("What is deliberately wrong"), not from this crate's output.

use std::path::PathBuf;

use palisade_rbac::RbacIndex;
use palisade_risk::{Category, ExternalFacts, RiskContext, WorkloadRisk, assess};

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-cluster")
}

fn ranked() -> Vec<WorkloadRisk> {
    let ingested = palisade_ingest::ingest_paths(&[demo()], &palisade_ingest::Limits::default());
    assert!(
        ingested.inventory.workloads.len() > 10,
        "demo snapshot not found or empty at {}",
        demo().display()
    );
    let inv = ingested.inventory;
    let findings = palisade_checks::Engine::builtin().run(&inv).findings;
    let rbac = RbacIndex::build(&inv);
    assess(&RiskContext {
        inventory: &inv,
        findings: &findings,
        rbac: &rbac,
        facts: &ExternalFacts::default(),
    })
}

fn summary(r: &[WorkloadRisk]) -> Vec<(String, u32)> {
    r.iter()
        .map(|w| (w.workload.to_string(), w.score))
        .collect()
}

fn position(r: &[WorkloadRisk], ns: &str, name: &str) -> usize {
    r.iter()
        .position(|w| w.workload.namespace == ns && w.workload.name == name)
        .unwrap_or_else(|| panic!("{ns}/{name} missing from the ranking"))
}

#[test]
fn the_ci_runner_with_cluster_admin_and_privileged_sidecar_ranks_first() {
    let r = ranked();
    assert_eq!(
        (
            r[0].workload.namespace.as_str(),
            r[0].workload.name.as_str()
        ),
        ("ci", "build-runner"),
        "{:#?}",
        r.iter()
            .map(|w| (w.workload.to_string(), w.score))
            .collect::<Vec<_>>()
    );
    let rbac = r[0].factors.iter().filter(|f| f.category == Category::Rbac);
    assert!(
        rbac.clone()
            .any(|f| f.detail.contains("ci-build-runner-cluster-admin"))
    );
    assert!(
        r[0].factors
            .iter()
            .any(|f| f.category == Category::Privileges && f.detail.contains("privileged"))
    );
}

#[test]
fn node_takeovers_rank_in_the_top_five() {
    let r = ranked();
    // The incident toolbox (host namespaces, SYS_ADMIN, node / writable) and the legacy
    // ReplicationController (UID 0, NET_ADMIN, host /etc writable, NodePort SSH).
    for (ns, name) in [("default", "debug-toolbox"), ("legacy", "legacy-inventory")] {
        let p = position(&r, ns, name);
        assert!(p < 5, "{ns}/{name} ranked {}: {:#?}", p + 1, summary(&r));
    }
}

#[test]
fn a_pod_holding_cluster_admin_outranks_every_application_workload() {
    // The reaper CronJob is otherwise unremarkable, but it runs as ci/build-runner, which is
    // bound to cluster-admin: it must rank above every application namespace's workloads.
    let r = ranked();
    let reaper = position(&r, "ci", "preview-namespace-reaper");
    for w in r.iter().filter(|w| {
        ["shop", "payments", "data"].contains(&w.workload.namespace.as_str())
            || w.workload.name == "hello-world"
            || w.workload.name == "grafana"
    }) {
        let p = position(&r, &w.workload.namespace, &w.workload.name);
        assert!(
            reaper < p,
            "reaper ranked below {}: {:#?}",
            w.workload,
            summary(&r)
        );
    }
}

#[test]
fn the_hardened_payments_namespace_ranks_below_every_deliberate_problem() {
    let r = ranked();
    let problems = [
        ("ci", "build-runner"),
        ("ci", "image-prepuller"),
        ("default", "debug-toolbox"),
        ("default", "hello-world"),
        ("legacy", "legacy-inventory"),
        ("monitoring", "grafana"),
        ("monitoring", "log-shipper"),
        ("monitoring", "node-exporter"),
        ("shop", "cart-api"),
        ("shop", "redis"),
    ];
    let worst_problem = problems
        .iter()
        .map(|(ns, n)| position(&r, ns, n))
        .max()
        .unwrap();
    for name in ["payments-api", "ledger", "settlement-report"] {
        let p = position(&r, "payments", name);
        assert!(
            p > worst_problem,
            "payments/{name} ranked {} above a deliberate problem (worst at {})",
            p + 1,
            worst_problem + 1
        );
    }
}

#[test]
fn grafana_is_scored_for_an_unrestricted_load_balancer_and_prometheus_for_nodes_proxy() {
    let r = ranked();
    let grafana = &r[position(&r, "monitoring", "grafana")];
    let exposure = grafana
        .factors
        .iter()
        .find(|f| f.category == Category::Exposure)
        .expect("grafana exposure");
    assert_eq!(exposure.points, 25, "{}", exposure.detail);
    assert!(exposure.detail.contains("load balancer"));
    let prom = &r[position(&r, "monitoring", "prometheus")];
    assert!(
        prom.factors
            .iter()
            .any(|f| f.category == Category::Rbac && f.detail.contains("nodes/proxy")),
        "{:#?}",
        prom.factors
    );
}
