//! Built-in ClusterRoles of the API server's bootstrap policy that manifests bind without
//! defining: `cluster-admin`, `admin`, `edit`, `view` and the `system:aggregate-to-*` roles that
//! feed the last three through aggregation.
//!
//! The rules follow the bootstrap policy of current Kubernetes releases as documented under
//! "User-facing roles" in the RBAC documentation: `cluster-admin` may do anything; `view` reads
//! most namespaced objects but not Secrets, Roles or RoleBindings; `edit` adds writes, Secrets,
//! exec/attach/port-forward, service account impersonation and token creation; `admin` adds
//! Roles and RoleBindings. `admin`, `edit` and `view` are aggregated ClusterRoles, so ClusterRoles
//! labelled `rbac.authorization.k8s.io/aggregate-to-{admin,edit,view}: "true"` extend them.

use palisade_model::api::{AggregationRule, PolicyRule};
use palisade_model::{LabelSelector, Labels};

/// A built-in ClusterRole definition.
#[derive(Debug, Clone)]
pub struct BuiltinRole {
    /// Name.
    pub name: &'static str,
    /// Labels (aggregation uses them).
    pub labels: Labels,
    /// Rules (empty for aggregated roles).
    pub rules: Vec<PolicyRule>,
    /// Aggregation rule, for `admin`, `edit` and `view`.
    pub aggregation_rule: Option<AggregationRule>,
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "delete",
    "deletecollection",
    "patch",
    "update",
];
const AGGREGATE_PREFIX: &str = "rbac.authorization.k8s.io/aggregate-to-";

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn rule(verbs: &[&str], group: &str, resources: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: vec![group.to_string()],
        resources: strings(resources),
        verbs: strings(verbs),
        ..Default::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    let mut m: Labels = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    m.insert(
        "kubernetes.io/bootstrapping".to_string(),
        "rbac-defaults".to_string(),
    );
    m
}

fn aggregate_to(target: &str) -> Option<AggregationRule> {
    Some(AggregationRule {
        cluster_role_selectors: vec![LabelSelector::from_labels(
            [(format!("{AGGREGATE_PREFIX}{target}"), "true".to_string())].into(),
        )],
    })
}

fn view_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            READ,
            "",
            &[
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "configmaps",
            ],
        ),
        rule(
            READ,
            "",
            &[
                "limitranges",
                "resourcequotas",
                "bindings",
                "events",
                "pods/status",
                "resourcequotas/status",
                "namespaces/status",
                "replicationcontrollers/status",
                "pods/log",
            ],
        ),
        rule(READ, "", &["namespaces"]),
        rule(READ, "discovery.k8s.io", &["endpointslices"]),
        rule(
            READ,
            "apps",
            &[
                "controllerrevisions",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
            ],
        ),
        rule(
            READ,
            "autoscaling",
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ],
        ),
        rule(
            READ,
            "batch",
            &["jobs", "cronjobs", "cronjobs/status", "jobs/status"],
        ),
        rule(
            READ,
            "policy",
            &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        ),
        rule(
            READ,
            "networking.k8s.io",
            &["networkpolicies", "ingresses", "ingresses/status"],
        ),
    ]
}

fn edit_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            READ,
            "",
            &[
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
                "secrets",
                "services/proxy",
            ],
        ),
        rule(&["impersonate"], "", &["serviceaccounts"]),
        rule(
            WRITE,
            "",
            &[
                "pods",
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
            ],
        ),
        rule(&["create"], "", &["pods/eviction"]),
        rule(
            WRITE,
            "",
            &[
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/proxy",
                "persistentvolumeclaims",
                "configmaps",
                "secrets",
                "events",
            ],
        ),
        rule(&["create"], "", &["serviceaccounts/token"]),
        rule(
            WRITE,
            "apps",
            &[
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "replicasets",
                "replicasets/scale",
            ],
        ),
        rule(WRITE, "autoscaling", &["horizontalpodautoscalers"]),
        rule(WRITE, "batch", &["jobs", "cronjobs"]),
        rule(WRITE, "policy", &["poddisruptionbudgets"]),
        rule(
            WRITE,
            "networking.k8s.io",
            &["networkpolicies", "ingresses"],
        ),
        rule(READ_WRITE, "coordination.k8s.io", &["leases"]),
    ]
}

fn admin_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            &["create"],
            "authorization.k8s.io",
            &["localsubjectaccessreviews"],
        ),
        rule(
            READ_WRITE,
            "rbac.authorization.k8s.io",
            &["roles", "rolebindings"],
        ),
    ]
}

/// Every built-in ClusterRole Palisade knows.
pub fn builtin_cluster_roles() -> Vec<BuiltinRole> {
    vec![
        BuiltinRole {
            name: "cluster-admin",
            labels: labels(&[]),
            rules: vec![
                PolicyRule {
                    api_groups: strings(&["*"]),
                    resources: strings(&["*"]),
                    verbs: strings(&["*"]),
                    ..Default::default()
                },
                PolicyRule {
                    non_resource_urls: strings(&["*"]),
                    verbs: strings(&["*"]),
                    ..Default::default()
                },
            ],
            aggregation_rule: None,
        },
        BuiltinRole {
            name: "admin",
            labels: labels(&[]),
            rules: Vec::new(),
            aggregation_rule: aggregate_to("admin"),
        },
        BuiltinRole {
            name: "edit",
            labels: labels(&[("rbac.authorization.k8s.io/aggregate-to-admin", "true")]),
            rules: Vec::new(),
            aggregation_rule: aggregate_to("edit"),
        },
        BuiltinRole {
            name: "view",
            labels: labels(&[("rbac.authorization.k8s.io/aggregate-to-edit", "true")]),
            rules: Vec::new(),
            aggregation_rule: aggregate_to("view"),
        },
        BuiltinRole {
            name: "system:aggregate-to-admin",
            labels: labels(&[("rbac.authorization.k8s.io/aggregate-to-admin", "true")]),
            rules: admin_rules(),
            aggregation_rule: None,
        },
        BuiltinRole {
            name: "system:aggregate-to-edit",
            labels: labels(&[("rbac.authorization.k8s.io/aggregate-to-edit", "true")]),
            rules: edit_rules(),
            aggregation_rule: None,
        },
        BuiltinRole {
            name: "system:aggregate-to-view",
            labels: labels(&[("rbac.authorization.k8s.io/aggregate-to-view", "true")]),
            rules: view_rules(),
            aggregation_rule: None,
        },
    ]
}
