//! The control-plane checks on whole inputs: the findings a kubeadm cluster's static pods
//! really have, and none for workloads that run no control-plane component.
//!
//! `tests/data/kubeadm/` holds the four static pod manifests kubeadm 1.31 writes with its default
//! configuration (written from kubeadm's manifests, not copied from a cluster).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use palisade_checks::{Catalog, Engine, EngineOptions};
use palisade_ingest::{Limits, ingest_paths};

const CATEGORY: &str = "control-plane";

fn manifest_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// `object -> check IDs` of the control-plane checks' findings on `paths`.
fn control_plane_findings(paths: &[PathBuf]) -> BTreeMap<String, BTreeSet<String>> {
    let catalog = Catalog::builtin();
    let only: Vec<String> = catalog
        .checks()
        .iter()
        .filter(|c| c.category == CATEGORY)
        .map(|c| c.id.clone())
        .collect();
    let inventory = ingest_paths(paths, &Limits::default()).inventory;
    let outcome = Engine::new(
        catalog,
        EngineOptions {
            only,
            ..EngineOptions::default()
        },
    )
    .run(&inventory);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &outcome.findings {
        out.entry(f.object.to_string())
            .or_default()
            .insert(f.check_id.to_string());
    }
    out
}

#[test]
fn a_kubeadm_control_plane_gets_the_findings_kubeadm_really_has() {
    let got = control_plane_findings(&[manifest_dir().join("tests/data/kubeadm")]);
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let want = BTreeMap::from([
        (
            // Anonymous auth, no DenyServiceExternalIPs, kubelets' certificates unverified, no
            // EventRateLimit, no AlwaysPullImages, profiling, no audit log, no encryption at
            // rest, Go's default cipher suites.
            "Pod/kube-system/kube-apiserver-cp1".to_string(),
            ids(&[
                "PAL-140", "PAL-143", "PAL-145", "PAL-150", "PAL-152", "PAL-160", "PAL-161",
                "PAL-173", "PAL-174",
            ]),
        ),
        (
            "Pod/kube-system/kube-controller-manager-cp1".to_string(),
            ids(&["PAL-177"]),
        ),
        (
            "Pod/kube-system/kube-scheduler-cp1".to_string(),
            ids(&["PAL-183"]),
        ),
        // kubeadm's etcd uses TLS and client certificates everywhere, with a CA of its own.
    ]);
    assert_eq!(got, want);
}

#[test]
fn workloads_without_control_plane_components_get_no_control_plane_finding() {
    let catalog = Catalog::builtin();
    let mut paths = vec![manifest_dir().join("../../examples/demo-cluster")];
    for check in catalog.checks().iter().filter(|c| c.category != CATEGORY) {
        let dir = manifest_dir().join("tests/fixtures").join(&check.id);
        paths.push(dir.join("fires.yaml"));
        paths.push(dir.join("passes.yaml"));
    }
    assert!(
        paths.iter().all(|p| p.exists()),
        "a fixture or the demo is missing"
    );
    let got = control_plane_findings(&paths);
    assert!(
        got.is_empty(),
        "control-plane findings on other workloads: {got:#?}"
    );
}
