//! The kinds read from a cluster: every kind palisade-ingest converts and the analyzers read.

use kube::discovery::ApiResource;

/// One kind to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// API group (`""` for the core group).
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Plural resource name (what RBAC grants `list` on).
    pub plural: &'static str,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// List metadata only (Secrets: their data never leaves the cluster).
    pub metadata_only: bool,
}

impl Kind {
    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// kube's description of the resource.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.into(),
            version: self.version.into(),
            api_version: self.api_version(),
            kind: self.kind.into(),
            plural: self.plural.into(),
        }
    }
}

const fn kind(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Kind {
    Kind {
        group,
        version,
        kind,
        plural,
        namespaced,
        metadata_only: false,
    }
}

/// Every kind read, in the order objects enter the inventory.
#[rustfmt::skip]
pub const KINDS: &[Kind] = &[
    kind("", "v1", "Namespace", "namespaces", false),
    kind("", "v1", "Pod", "pods", true),
    kind("", "v1", "ReplicationController", "replicationcontrollers", true),
    kind("apps", "v1", "Deployment", "deployments", true),
    kind("apps", "v1", "ReplicaSet", "replicasets", true),
    kind("apps", "v1", "StatefulSet", "statefulsets", true),
    kind("apps", "v1", "DaemonSet", "daemonsets", true),
    kind("batch", "v1", "Job", "jobs", true),
    kind("batch", "v1", "CronJob", "cronjobs", true),
    kind("", "v1", "Service", "services", true),
    kind("networking.k8s.io", "v1", "Ingress", "ingresses", true),
    kind("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true),
    kind("", "v1", "ServiceAccount", "serviceaccounts", true),
    kind("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    kind("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
    kind("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
    kind("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
    kind("", "v1", "ConfigMap", "configmaps", true),
    Kind { metadata_only: true, ..kind("", "v1", "Secret", "secrets", true) },
    kind("", "v1", "LimitRange", "limitranges", true),
    kind("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true),
    kind("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
];

/// The Secret type the check PAL-070 reads (legacy service-account tokens): Secrets of this
/// type are listed a second time, by metadata and with a field selector on `type`, so their
/// type is known without reading any data.
pub const SERVICE_ACCOUNT_TOKEN: &str = "kubernetes.io/service-account-token";
