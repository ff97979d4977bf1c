//! Risky grants: dangerous capabilities per subject and the workloads that inherit them.

use palisade_model::Severity;
use palisade_rbac::{Capability, Principal, RbacIndex, Scope};
use palisade_testkit::inventory;
use serde_json::json;

fn fixture() -> palisade_model::Inventory {
    inventory(vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "deployer"},
               "rules": [
                   {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create", "update", "patch"]},
                   {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
                   {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "rbac-manager"},
               "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind", "escalate"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"name": "one-secret", "namespace": "ci"},
               "rules": [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["registry-creds"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "harmless"},
               "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]},
                         {"nonResourceURLs": ["*"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "ci-deployer"},
               "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}],
               "roleRef": {"kind": "ClusterRole", "name": "deployer", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "ci-rbac", "namespace": "ci"},
               "subjects": [{"kind": "Group", "name": "system:serviceaccounts:ci", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "rbac-manager", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "ci-secret", "namespace": "ci"},
               "subjects": [{"kind": "ServiceAccount", "name": "default"}],
               "roleRef": {"kind": "Role", "name": "one-secret", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "readers"},
               "subjects": [{"kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "harmless", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "ops"},
               "subjects": [{"kind": "User", "name": "oscar", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "cluster-admin", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "deployer", "namespace": "ci"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "pipeline", "namespace": "ci"},
               "spec": {"template": {"metadata": {"labels": {"app": "pipeline"}},
                        "spec": {"serviceAccountName": "deployer", "containers": [{"name": "c", "image": "ci:1"}]}}}}),
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "runner", "namespace": "ci"},
               "spec": {"automountServiceAccountToken": false, "containers": [{"name": "c", "image": "runner:1"}]}}),
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"containers": [{"name": "c", "image": "web:1"}]}}),
    ])
}

#[test]
fn risky_grants_name_capability_scope_and_workloads() {
    let inv = fixture();
    let idx = RbacIndex::build(&inv);
    let risky = idx.risky(&inv);
    let find = |kind: &str, name: &str, c: Capability| {
        risky
            .iter()
            .find(|g| g.subject.kind == kind && g.subject.name == name && g.capability == c)
    };

    let create =
        find("ServiceAccount", "deployer", Capability::CreateWorkloads).expect("create workloads");
    assert_eq!(create.scope, Scope::Cluster);
    assert_eq!(create.severity, Severity::Critical);
    assert_eq!(create.via[0].binding.name, "ci-deployer");
    let wl: Vec<&str> = create
        .workloads
        .iter()
        .map(|w| w.workload.name.as_str())
        .collect();
    assert_eq!(wl, vec!["pipeline"]);
    assert!(create.workloads[0].token_automounted);

    let exec = find(
        "ServiceAccount",
        "deployer",
        Capability::ExecAttachPortForward,
    )
    .expect("exec");
    assert_eq!(exec.severity, Severity::High);
    // pods/log is not dangerous and gets/patches on deployments are not "read secrets".
    assert!(find("ServiceAccount", "deployer", Capability::ReadSecrets).is_none());

    // A namespace group binding reaches every workload of that namespace, token or not.
    let esc = find(
        "Group",
        "system:serviceaccounts:ci",
        Capability::EscalateBindImpersonate,
    )
    .expect("escalate via group");
    assert_eq!(esc.scope, Scope::Namespace("ci".into()));
    assert_eq!(esc.severity, Severity::High);
    let wl: Vec<(&str, bool)> = esc
        .workloads
        .iter()
        .map(|w| (w.workload.name.as_str(), w.token_automounted))
        .collect();
    assert_eq!(wl, vec![("pipeline", true), ("runner", false)]);

    // resourceNames lowers severity and is reported.
    let secret = find("ServiceAccount", "default", Capability::ReadSecrets).expect("one secret");
    assert!(secret.restricted_to_names);
    assert_eq!(secret.severity, Severity::Medium);
    assert_eq!(secret.subject.namespace.as_deref(), Some("ci"));
    assert_eq!(secret.workloads.len(), 1);
    assert_eq!(secret.workloads[0].workload.name, "runner");

    // cluster-admin: wildcard and everything it implies; no workloads run as a user.
    let wild = find("User", "oscar", Capability::Wildcard).expect("wildcard");
    assert_eq!(wild.severity, Severity::Critical);
    assert!(wild.workloads.is_empty());
    for c in Capability::ALL {
        assert!(
            find("User", "oscar", c).is_some(),
            "cluster-admin implies {c}"
        );
    }

    // Harmless grants (configmaps, non-resource "*" get) are not risky.
    assert!(
        risky
            .iter()
            .all(|g| g.subject.name != "system:authenticated")
    );

    // Worst first.
    assert!(risky.windows(2).all(|w| w[0].severity >= w[1].severity));
}

#[test]
fn capabilities_of_a_service_account_merge_direct_and_group_grants() {
    let inv = fixture();
    let idx = RbacIndex::build(&inv);
    let caps = idx.capabilities_of(&Principal::service_account("ci", "deployer"));
    let got: Vec<(Capability, Scope)> = caps
        .iter()
        .map(|c| (c.capability, c.scope.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Capability::CreateWorkloads, Scope::Cluster),
            (
                Capability::EscalateBindImpersonate,
                Scope::Namespace("ci".into())
            ),
            (Capability::ExecAttachPortForward, Scope::Cluster),
        ]
    );
    let shop = idx.capabilities_of(&Principal::service_account("shop", "default"));
    assert!(shop.is_empty());
}
