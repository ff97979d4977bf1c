//! The inventory report: images, registries, owners, gaps, deploy-and-forget signals, counts.

use palisade_risk::{
    ExposureLevel, ExternalFacts, ImageRiskFacts, OwnershipGap, Signal, inventory_report,
};
use palisade_testkit::inventory;
use serde_json::json;

fn fixture() -> palisade_model::Inventory {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let probe = json!({"httpGet": {"path": "/healthz", "port": 8080}});
    inventory(vec![
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "shop",
                            "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/managed-by": "Helm"},
                            "annotations": {"example.com/team": "payments", "contact": "payments@example.com"}},
               "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                   "spec": {"containers": [
                       {"name": "web", "image": "ghcr.io/acme/web:1.4",
                        "livenessProbe": probe, "readinessProbe": probe,
                        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}},
                       {"name": "proxy", "image": format!("envoyproxy/envoy@{digest}"),
                        "readinessProbe": probe,
                        "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}]}}}}),
        // Owned by the Deployment above: reported through its owner, not on its own.
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
               "metadata": {"name": "web-5d8f", "namespace": "shop",
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "controller": true}]},
               "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "web", "image": "ghcr.io/acme/web:1.4"}]}}}}),
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80, "nodePort": 30080}]}}),
        // Same name and labels in another namespace: does not expose shop/db.
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "db", "namespace": "other"},
               "spec": {"type": "LoadBalancer", "selector": {"app": "db"}}}),
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
               "metadata": {"name": "db", "namespace": "shop"},
               "spec": {"template": {"metadata": {"labels": {"app": "db"}},
                   "spec": {"containers": [{"name": "db", "image": "postgres"}]}}}}),
        json!({"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"name": "migrate", "namespace": "batch", "labels": {"owner": "alice"}},
               "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                   {"name": "m", "image": "registry.example.com:5000/tools/migrate:v2",
                    "ports": [{"containerPort": 9000, "hostPort": 9000}],
                    "resources": {"limits": {"memory": "128Mi"}}}]}}}}),
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "broken", "namespace": "batch"},
               "spec": {"containers": [{"name": "x", "image": "UPPER/Case:1"}]}}),
    ])
}

#[test]
fn inventory_lists_workloads_owners_gaps_and_signals() {
    let inv = fixture();
    let mut facts = ExternalFacts::default();
    facts.images.insert(
        "postgres:latest".into(),
        ImageRiskFacts {
            age_days: Some(400),
            newer_version_available: Some(true),
        },
    );
    let report = inventory_report(&inv, &facts);
    let names: Vec<String> = report
        .workloads
        .iter()
        .map(|w| format!("{}/{}/{}", w.id.namespace, w.id.kind, w.id.name))
        .collect();
    assert_eq!(
        names,
        vec![
            "batch/Job/migrate",
            "batch/Pod/broken",
            "shop/Deployment/web",
            "shop/StatefulSet/db"
        ]
    );

    let web = &report.workloads[2];
    assert_eq!(web.service_account, "default");
    assert_eq!(web.images.len(), 2);
    assert_eq!(web.images[0].registry(), Some("ghcr.io"));
    let envoy = web.images[1].parsed.as_ref().unwrap();
    assert_eq!(envoy.registry, "docker.io");
    assert_eq!(envoy.repository, "envoyproxy/envoy");
    assert!(envoy.is_pinned());
    assert_eq!(web.exposure.level, ExposureLevel::NodePort);
    let team = web.ownership.team.as_ref().unwrap();
    assert_eq!(team.value, "payments");
    assert_eq!(team.source, "annotation example.com/team");
    assert_eq!(
        web.ownership.contact.as_ref().unwrap().value,
        "payments@example.com"
    );
    assert_eq!(web.ownership.managed_by.as_deref(), Some("Helm"));
    assert!(web.ownership_gaps.is_empty());
    assert_eq!(
        web.signals,
        vec![Signal::NotDigestPinned {
            container: "web".into(),
            image: "ghcr.io/acme/web:1.4".into()
        }]
    );

    let db = &report.workloads[3];
    assert_eq!(db.exposure.level, ExposureLevel::None);
    assert_eq!(
        db.ownership_gaps,
        vec![OwnershipGap::NoOwner, OwnershipGap::NoAppName]
    );
    assert_eq!(
        db.signals,
        vec![
            Signal::LatestTag {
                container: "db".into(),
                image: "postgres".into()
            },
            Signal::OldImage {
                container: "db".into(),
                age_days: 400
            },
            Signal::NoProbes {
                container: "db".into()
            },
            Signal::NoLimits {
                container: "db".into(),
                missing: vec!["cpu".into(), "memory".into()]
            },
            Signal::NoOwner,
        ]
    );

    let job = &report.workloads[0];
    assert_eq!(job.ownership.owner.as_ref().unwrap().value, "alice");
    assert_eq!(
        job.ownership_gaps,
        vec![OwnershipGap::NoContact, OwnershipGap::NoAppName]
    );
    assert_eq!(job.exposure.level, ExposureLevel::HostPort);
    // Jobs are not expected to have probes.
    assert!(
        !job.signals
            .iter()
            .any(|s| matches!(s, Signal::NoProbes { .. }))
    );
    assert!(job.signals.contains(&Signal::NoLimits {
        container: "m".into(),
        missing: vec!["cpu".into()]
    }));

    let broken = &report.workloads[1];
    assert!(broken.images[0].error.is_some());
    assert!(matches!(broken.signals[0], Signal::InvalidImage { .. }));

    let regs: Vec<(&str, usize, usize, usize)> = report
        .registries
        .iter()
        .map(|r| (r.registry.as_str(), r.images, r.containers, r.workloads))
        .collect();
    assert_eq!(
        regs,
        vec![
            ("docker.io", 2, 2, 2),
            ("(invalid)", 1, 1, 1),
            ("ghcr.io", 1, 1, 1),
            ("registry.example.com:5000", 1, 1, 1),
        ]
    );
    let ns: Vec<(&str, usize, usize, usize, usize)> = report
        .namespaces
        .iter()
        .map(|n| {
            (
                n.namespace.as_str(),
                n.workloads,
                n.containers,
                n.externally_exposed,
                n.without_owner,
            )
        })
        .collect();
    assert_eq!(ns, vec![("batch", 2, 2, 1, 1), ("shop", 2, 3, 1, 1)]);
}
