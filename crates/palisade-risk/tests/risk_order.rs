//! Risk scores and order, with expectations computed by hand from the documented weights
//! (see the table in `palisade_risk::score`).

use palisade_model::{Finding, ObjectRef, Severity, SourceLocation, WorkloadId};
use palisade_rbac::RbacIndex;
use palisade_risk::{
    Category, ExternalFacts, ImageRiskFacts, NetworkFacts, RiskContext, VulnCounts, assess,
};
use palisade_testkit::inventory;
use serde_json::json;

fn fixture() -> palisade_model::Inventory {
    inventory(vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "secret-reader"},
               "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "web-secrets"},
               "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}],
               "roleRef": {"kind": "ClusterRole", "name": "secret-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"name": "pod-maker", "namespace": "batch"},
               "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "runner", "namespace": "batch"},
               "subjects": [{"kind": "ServiceAccount", "name": "runner"}],
               "roleRef": {"kind": "Role", "name": "pod-maker", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "shop"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                   "spec": {"serviceAccountName": "web", "containers": [{
                       "name": "web", "image": "ghcr.io/acme/web:1.4",
                       "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-pass", "key": "password"}}}],
                       "envFrom": [{"secretRef": {"name": "api-keys"}}]}]}}}}),
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web-lb", "namespace": "shop"},
               "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": [
                   {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web-lb", "port": {"number": 80}}}}]}}]}}),
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
               "metadata": {"name": "agent", "namespace": "ops"},
               "spec": {"template": {"metadata": {"labels": {"app": "agent"}},
                   "spec": {"hostPID": true,
                            "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
                            "containers": [{"name": "agent", "image": "ops/agent:2",
                                "securityContext": {"privileged": true},
                                "volumeMounts": [{"name": "root", "mountPath": "/host"}]}]}}}}),
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
               "metadata": {"name": "db", "namespace": "shop"},
               "spec": {"template": {"metadata": {"labels": {"app": "db"}},
                   "spec": {"containers": [{"name": "db", "image": "postgres:16"}]}}}}),
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "db", "namespace": "shop"},
               "spec": {"selector": {"app": "db"}, "ports": [{"port": 5432}]}}),
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
               "metadata": {"name": "report", "namespace": "batch"},
               "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {
                   "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "r", "image": "busybox:1.36"}]}}}}}}),
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "adhoc", "namespace": "batch"},
               "spec": {"serviceAccountName": "runner", "automountServiceAccountToken": false,
                        "restartPolicy": "Never", "containers": [{"name": "a", "image": "alpine:3.19"}]}}),
    ])
}

fn facts() -> ExternalFacts {
    let mut f = ExternalFacts::default();
    // Keys in short form: they are normalized like the workloads' images.
    f.vulnerabilities.insert(
        "postgres:16".into(),
        VulnCounts {
            critical: 1,
            high: 2,
            medium: 3,
            low: 4,
            notorious: 0,
        },
    );
    f.images.insert(
        "docker.io/library/postgres:16".into(),
        ImageRiskFacts {
            age_days: Some(400),
            newer_version_available: None,
        },
    );
    f.network.insert(
        WorkloadId {
            namespace: "ops".into(),
            kind: "DaemonSet".into(),
            name: "agent".into(),
        },
        NetworkFacts {
            ingress_unprotected: true,
            egress_unprotected: true,
            reachable_from: 3,
            can_reach: 30,
        },
    );
    f
}

fn finding(kind: &str, ns: &str, name: &str, severity: Severity) -> Finding {
    Finding {
        check_id: "PAL-TEST".into(),
        severity,
        title: "test".into(),
        message: "test".into(),
        remediation: "none".into(),
        object: ObjectRef {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            namespace: Some(ns.into()),
            name: name.into(),
            source: SourceLocation::new("test.yaml", 1),
        }
        .into(),
        container: None,
        path: None,
    }
}

fn category_points(r: &palisade_risk::WorkloadRisk, c: Category) -> i32 {
    r.factors
        .iter()
        .filter(|f| f.category == c)
        .map(|f| f.points)
        .sum()
}

#[test]
fn workloads_rank_by_explained_score() {
    let inv = fixture();
    let rbac = RbacIndex::build(&inv);
    let findings = vec![
        finding("Deployment", "shop", "web", Severity::High),
        // A finding on another object does not count for web.
        finding("Deployment", "shop", "other", Severity::Critical),
    ];
    let facts = facts();
    let ranked = assess(&RiskContext {
        inventory: &inv,
        findings: &findings,
        rbac: &rbac,
        facts: &facts,
    });
    let order: Vec<(String, u32)> = ranked
        .iter()
        .map(|r| (r.workload.to_string(), r.score))
        .collect();
    assert_eq!(
        order,
        vec![
            // privileged 30 + hostPID 15 + writable "/" 25 = 70, capped to 50;
            // network 8 + 4 + ceil(20/2)=10 + ceil(3/4)=1 = 23, capped to 20.
            ("DaemonSet/ops/agent".to_string(), 70),
            // high finding 5 + LoadBalancer 25 + secrets read cluster-wide 25 + 2 secrets 6.
            ("Deployment/shop/web".to_string(), 61),
            // ClusterIP 2 + vulns 8 + 6 + 3 = 17 + image over 365 days 10.
            ("StatefulSet/shop/db".to_string(), 29),
            // Ties broken by namespace, kind, name.
            ("CronJob/batch/report".to_string(), 0),
            ("Pod/batch/adhoc".to_string(), 0),
        ]
    );

    let agent = &ranked[0];
    assert_eq!(category_points(agent, Category::Privileges), 50);
    assert!(
        agent
            .factors
            .iter()
            .any(|f| f.category == Category::Privileges
                && f.points == -20
                && f.detail.contains("capped"))
    );
    assert!(
        agent
            .factors
            .iter()
            .any(|f| f.detail.contains("host path / writable (sensitive)"))
    );
    assert_eq!(category_points(agent, Category::Network), 20);

    let web = &ranked[1];
    assert_eq!(category_points(web, Category::Findings), 5);
    assert_eq!(category_points(web, Category::Exposure), 25);
    let exposure = web
        .factors
        .iter()
        .find(|f| f.category == Category::Exposure)
        .unwrap();
    assert!(
        exposure.detail.contains("Service shop/web-lb"),
        "{}",
        exposure.detail
    );
    assert!(
        exposure
            .detail
            .contains("Ingress shop/web -> Service web-lb"),
        "{}",
        exposure.detail
    );
    let rbac_f = web
        .factors
        .iter()
        .find(|f| f.category == Category::Rbac)
        .unwrap();
    assert_eq!(rbac_f.points, 25);
    assert!(rbac_f.detail.contains("read secrets") && rbac_f.detail.contains("web-secrets"));
    let secrets = web
        .factors
        .iter()
        .find(|f| f.category == Category::Secrets)
        .unwrap();
    assert!(secrets.detail.contains("api-keys, db-pass"));

    let db = &ranked[2];
    assert_eq!(category_points(db, Category::Vulnerabilities), 17);
    assert_eq!(category_points(db, Category::ImageAge), 10);
    assert_eq!(category_points(db, Category::Exposure), 2);

    // The pod's service account may create pods, but its token is not mounted: listed, 0 points.
    let adhoc = &ranked[4];
    let f = adhoc
        .factors
        .iter()
        .find(|f| f.category == Category::Rbac)
        .unwrap();
    assert_eq!(f.points, 0);
    assert!(f.detail.contains("token not mounted"));

    // Every score is the sum of its factors.
    for r in &ranked {
        assert_eq!(
            r.factors.iter().map(|f| f.points).sum::<i32>(),
            r.score as i32
        );
    }
}

#[test]
fn facts_change_the_order() {
    // Same inventory without external facts or findings: web (25 + 25 + 6 = 56) now outranks
    // agent (privileges 50 only).
    let inv = fixture();
    let rbac = RbacIndex::build(&inv);
    let facts = ExternalFacts::default();
    let ranked = assess(&RiskContext {
        inventory: &inv,
        findings: &[],
        rbac: &rbac,
        facts: &facts,
    });
    let top: Vec<(String, u32)> = ranked
        .iter()
        .take(3)
        .map(|r| (r.workload.name.clone(), r.score))
        .collect();
    assert_eq!(
        top,
        vec![("web".into(), 56), ("agent".into(), 50), ("db".into(), 2)]
    );
}
