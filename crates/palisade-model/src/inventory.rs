//! The normalized inventory: every object read from a source, typed where Palisade analyses the
//! kind, kept as-is otherwise (CRDs, unknown kinds).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::api::{
    AggregationRule, ControllerFields, IngressSpec, LocalObjectReference, NetworkPolicySpec,
    PodSpec, PolicyRule, RoleRef, ServiceSpec, Subject,
};
use crate::labels::Labels;
use crate::meta::{ObjectMeta, ObjectRef, SourceLocation};
use crate::selector::{LabelSelector, map_selects};

/// The label every namespace carries with its own name (set by the API server since 1.21).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The namespace that namespaced objects without `metadata.namespace` land in.
pub const DEFAULT_NAMESPACE: &str = "default";

/// One Kubernetes object: its identity, where it came from, its typed spec and the raw object.
///
/// `raw` is the object as read (for custom CEL checks), except that Secret values are removed at
/// ingestion: only key names remain.
#[derive(Debug, Clone)]
pub struct Resource<S> {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata`.
    pub meta: ObjectMeta,
    /// Where it was read from.
    pub source: SourceLocation,
    /// Typed content.
    pub spec: S,
    /// The raw object (Secret values removed).
    pub raw: Arc<serde_json::Value>,
}

impl<S> Resource<S> {
    /// The namespace the object lives in: `metadata.namespace`, or `default` when a namespaced
    /// object's manifest leaves it unset. Cluster-scoped kinds return `None`.
    pub fn namespace(&self) -> Option<&str> {
        if is_cluster_scoped(&self.kind) {
            None
        } else {
            Some(self.meta.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE))
        }
    }

    /// The object's name (or `generateName*`).
    pub fn name(&self) -> String {
        self.meta.display_name()
    }

    /// How findings refer to this object.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace().map(str::to_string),
            name: self.name(),
            source: self.source.clone(),
        }
    }
}

/// Whether a kind is cluster-scoped (for the kinds Palisade knows; unknown kinds are treated as
/// namespaced when they carry a namespace).
pub fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "StorageClass"
            | "PriorityClass"
            | "IngressClass"
            | "RuntimeClass"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "APIService"
            | "CertificateSigningRequest"
            | "PodSecurityPolicy"
    )
}

/// Workload kinds, each normalized to a pod template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WorkloadKind {
    /// A bare Pod.
    Pod,
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 ReplicaSet.
    ReplicaSet,
    /// apps/v1 StatefulSet.
    StatefulSet,
    /// apps/v1 DaemonSet.
    DaemonSet,
    /// batch/v1 Job.
    Job,
    /// batch/v1 CronJob.
    CronJob,
    /// core/v1 ReplicationController.
    ReplicationController,
    /// OpenShift `apps.openshift.io/v1` DeploymentConfig.
    DeploymentConfig,
    /// Argo Rollouts `argoproj.io/v1alpha1` Rollout.
    Rollout,
    /// Knative `serving.knative.dev/v1` Service.
    KnativeService,
    /// Any other kind whose `spec.template` is a pod template (`spec.template.spec.containers`):
    /// analysed as a generic workload.
    PodTemplate,
}

impl WorkloadKind {
    /// Maps a `kind` string to a workload kind.
    pub fn from_kind(kind: &str) -> Option<WorkloadKind> {
        Some(match kind {
            "Pod" => WorkloadKind::Pod,
            "Deployment" => WorkloadKind::Deployment,
            "ReplicaSet" => WorkloadKind::ReplicaSet,
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            "Job" => WorkloadKind::Job,
            "CronJob" => WorkloadKind::CronJob,
            "ReplicationController" => WorkloadKind::ReplicationController,
            _ => return None,
        })
    }

    /// The workload kind of an object of this `apiVersion` and `kind`: the built-in workload
    /// kinds in their API groups (`apps`, `extensions`, `batch`, core), and the custom resources
    /// known to embed a standard pod template (OpenShift DeploymentConfig, Argo Rollout, Knative
    /// Service). A `Deployment` of another API group is not a built-in Deployment. Other kinds
    /// with a pod template become [`WorkloadKind::PodTemplate`] where they are read.
    pub fn from_type(api_version: &str, kind: &str) -> Option<WorkloadKind> {
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let builtin = WorkloadKind::from_kind(kind)?;
        let groups: &[&str] = match builtin {
            WorkloadKind::Pod | WorkloadKind::ReplicationController => &[""],
            WorkloadKind::Job | WorkloadKind::CronJob => &["batch"],
            _ => &["apps", "extensions"],
        };
        groups.contains(&group).then_some(builtin)
    }

    /// [`WorkloadKind::from_type`] for the custom resources that embed a pod template.
    pub fn from_custom_type(api_version: &str, kind: &str) -> Option<WorkloadKind> {
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        Some(match (group, kind) {
            ("apps.openshift.io", "DeploymentConfig") => WorkloadKind::DeploymentConfig,
            ("argoproj.io", "Rollout") => WorkloadKind::Rollout,
            ("serving.knative.dev", "Service") => WorkloadKind::KnativeService,
            _ => return None,
        })
    }

    /// Where the pod spec lives in this kind's manifest.
    pub fn pod_spec_path(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "spec",
            WorkloadKind::CronJob => "spec.jobTemplate.spec.template.spec",
            _ => "spec.template.spec",
        }
    }

    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "Pod",
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
            WorkloadKind::ReplicationController => "ReplicationController",
            WorkloadKind::DeploymentConfig => "DeploymentConfig",
            WorkloadKind::Rollout => "Rollout",
            WorkloadKind::KnativeService => "Service (Knative)",
            WorkloadKind::PodTemplate => "pod-template resource",
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A workload normalized to its pod template.
#[derive(Debug, Clone)]
pub struct WorkloadSpec {
    /// The workload kind.
    pub kind: WorkloadKind,
    /// Pod template metadata (for a bare Pod: the Pod's own metadata). Its labels are what
    /// Services and NetworkPolicies select.
    pub pod_meta: ObjectMeta,
    /// The pod spec.
    pub pod: PodSpec,
    /// The controller's pod selector, when it has one.
    pub selector: Option<LabelSelector>,
    /// Desired replicas, when the kind has them.
    pub replicas: Option<i64>,
    /// Update strategy and clean-up settings of the controller (empty for a bare Pod).
    pub controller: ControllerFields,
}

/// A workload (Pod, Deployment, …).
pub type Workload = Resource<WorkloadSpec>;

impl Workload {
    /// Labels of the pods this workload runs.
    pub fn pod_labels(&self) -> &Labels {
        &self.spec.pod_meta.labels
    }

    /// Annotations of the pods this workload runs.
    pub fn pod_annotations(&self) -> &Labels {
        &self.spec.pod_meta.annotations
    }

    /// Field path of the pod spec in the manifest.
    pub fn pod_spec_path(&self) -> &'static str {
        self.spec.kind.pod_spec_path()
    }
}

/// A Namespace, declared in the input or implied by objects that live in it.
#[derive(Debug, Clone, Default)]
pub struct NamespaceSpec {
    /// True when no Namespace object was read and it was created because objects live in it.
    pub implicit: bool,
}

/// A Namespace. Its labels always include `kubernetes.io/metadata.name`.
pub type Namespace = Resource<NamespaceSpec>;

/// A Service.
pub type Service = Resource<ServiceSpec>;

impl Service {
    /// The Service type, `ClusterIP` when unset.
    pub fn service_type(&self) -> &str {
        self.spec.type_.as_deref().unwrap_or("ClusterIP")
    }
}

/// An Ingress.
pub type Ingress = Resource<IngressSpec>;

impl Ingress {
    /// Names of the Services this Ingress routes to (default backend and rules).
    pub fn backend_services(&self) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        if let Some(s) = self
            .spec
            .default_backend
            .as_ref()
            .and_then(|b| b.service.as_ref())
        {
            out.insert(s.name.as_str());
        }
        for rule in &self.spec.rules {
            for path in rule.http.iter().flat_map(|h| &h.paths) {
                if let Some(s) = &path.backend.service {
                    out.insert(s.name.as_str());
                }
            }
        }
        out
    }
}

/// A NetworkPolicy.
pub type NetworkPolicy = Resource<NetworkPolicySpec>;

/// A Role or ClusterRole.
#[derive(Debug, Clone, Default)]
pub struct RoleSpec {
    /// Rules.
    pub rules: Vec<PolicyRule>,
    /// Aggregation rule (ClusterRoles only).
    pub aggregation_rule: Option<AggregationRule>,
}

/// A Role (`kind: Role`, namespaced) or ClusterRole.
pub type Role = Resource<RoleSpec>;

impl Role {
    /// True for a ClusterRole.
    pub fn is_cluster_role(&self) -> bool {
        self.kind == "ClusterRole"
    }
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone, Default)]
pub struct RoleBindingSpec {
    /// The bound role.
    pub role_ref: RoleRef,
    /// Who gets it.
    pub subjects: Vec<Subject>,
}

/// A RoleBinding (namespaced) or ClusterRoleBinding.
pub type RoleBinding = Resource<RoleBindingSpec>;

impl RoleBinding {
    /// True for a ClusterRoleBinding.
    pub fn is_cluster_binding(&self) -> bool {
        self.kind == "ClusterRoleBinding"
    }
}

/// A ServiceAccount.
#[derive(Debug, Clone, Default)]
pub struct ServiceAccountSpec {
    /// `automountServiceAccountToken`.
    pub automount_token: Option<bool>,
    /// Image pull secrets.
    pub image_pull_secrets: Vec<LocalObjectReference>,
}

/// A ServiceAccount.
pub type ServiceAccount = Resource<ServiceAccountSpec>;

/// Secret metadata: the type and key names. Values are never kept.
#[derive(Debug, Clone, Default)]
pub struct SecretSpec {
    /// `type` (e.g. `Opaque`, `kubernetes.io/tls`).
    pub type_: String,
    /// Key names from `data` and `stringData`.
    pub keys: Vec<String>,
}

/// A Secret (metadata and key names only).
pub type Secret = Resource<SecretSpec>;

/// ConfigMap metadata: key names.
#[derive(Debug, Clone, Default)]
pub struct ConfigMapSpec {
    /// Key names from `data` and `binaryData`.
    pub keys: Vec<String>,
    /// Keys of `data` whose value has the form of a credential, with the kind
    /// ([`crate::secrets::credential_value_kind`]); the values themselves are not kept.
    pub credential_values: Vec<(String, String)>,
}

/// A ConfigMap.
pub type ConfigMap = Resource<ConfigMapSpec>;

/// Any other object: CRDs, custom resources, kinds Palisade does not analyse.
pub type OtherObject = Resource<()>;

/// The inventory of everything read from one or more sources.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Namespaces (declared, then implied).
    pub namespaces: Vec<Namespace>,
    /// Workloads of every kind.
    pub workloads: Vec<Workload>,
    /// Services.
    pub services: Vec<Service>,
    /// Ingresses.
    pub ingresses: Vec<Ingress>,
    /// NetworkPolicies.
    pub network_policies: Vec<NetworkPolicy>,
    /// ServiceAccounts.
    pub service_accounts: Vec<ServiceAccount>,
    /// Roles and ClusterRoles.
    pub roles: Vec<Role>,
    /// RoleBindings and ClusterRoleBindings.
    pub role_bindings: Vec<RoleBinding>,
    /// Secrets (no values).
    pub secrets: Vec<Secret>,
    /// ConfigMaps.
    pub config_maps: Vec<ConfigMap>,
    /// Everything else.
    pub others: Vec<OtherObject>,
}

impl Inventory {
    /// Adds an implicit Namespace for every namespace that objects live in but that was not
    /// declared, and gives every Namespace its `kubernetes.io/metadata.name` label. Call once
    /// after all objects are added; calling again is harmless.
    pub fn finalize(&mut self) {
        let declared: BTreeSet<String> = self.namespaces.iter().map(|n| n.name()).collect();
        // Each implied namespace points at the first object found in it.
        let mut used: BTreeMap<String, SourceLocation> = BTreeMap::new();
        let mut note = |ns: Option<&str>, src: &SourceLocation| {
            // Objects come in runs per namespace: the name is copied once per namespace, not
            // once per object.
            if let Some(ns) = ns
                && !used.contains_key(ns)
            {
                used.insert(ns.to_string(), src.clone());
            }
        };
        self.workloads
            .iter()
            .for_each(|o| note(o.namespace(), &o.source));
        self.services
            .iter()
            .for_each(|o| note(o.namespace(), &o.source));
        self.ingresses
            .iter()
            .for_each(|o| note(o.namespace(), &o.source));
        self.network_policies
            .iter()
            .for_each(|o| note(o.namespace(), &o.source));
        self.service_accounts
            .iter()
            .for_each(|o| note(o.namespace(), &o.source));
        self.roles
            .iter()
            .for_each(|o| note(o.namespace(), &o.source));
        self.role_bindings
            .iter()
            .for_each(|o| note(o.namespace(), &o.source));
        self.secrets
            .iter()
            .for_each(|o| note(o.namespace(), &o.source));
        self.config_maps
            .iter()
            .for_each(|o| note(o.namespace(), &o.source));
        for (ns, source) in used {
            if declared.contains(&ns) {
                continue;
            }
            self.namespaces.push(Resource {
                api_version: "v1".into(),
                kind: "Namespace".into(),
                meta: ObjectMeta {
                    name: ns,
                    ..Default::default()
                },
                source,
                spec: NamespaceSpec { implicit: true },
                raw: Arc::new(serde_json::Value::Null),
            });
        }
        for ns in &mut self.namespaces {
            let name = ns.meta.name.clone();
            ns.meta
                .labels
                .insert(NAMESPACE_NAME_LABEL.to_string(), name);
            // The insertion may have grown the map beyond its entries.
            ns.meta.labels.shrink_to_fit();
        }
    }

    /// The Namespace called `name`.
    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.iter().find(|n| n.meta.name == name)
    }

    /// Workloads in namespace `ns`.
    pub fn workloads_in<'a>(&'a self, ns: &'a str) -> impl Iterator<Item = &'a Workload> + 'a {
        self.workloads
            .iter()
            .filter(move |w| w.namespace() == Some(ns))
    }

    /// Workloads whose pods a Service selects (same namespace, `spec.selector` ⊆ pod labels).
    pub fn service_targets<'a>(&'a self, svc: &'a Service) -> impl Iterator<Item = &'a Workload> {
        let ns = svc.namespace().unwrap_or(DEFAULT_NAMESPACE);
        self.workloads_in(ns)
            .filter(move |w| map_selects(&svc.spec.selector, w.pod_labels()))
    }

    /// The workloads that no other workload of this inventory manages, in input order: a
    /// ReplicaSet owned by a Deployment, a Pod owned by a ReplicaSet or a Job owned by a CronJob
    /// is left out (reports count the owner, not its children). An owner reference counts when
    /// a workload of its kind and name lives in the same namespace. The workloads' keys are
    /// indexed once, so this is linear in the number of workloads.
    pub fn top_level_workloads(&self) -> Vec<&Workload> {
        fn owner(w: &Workload) -> &str {
            w.namespace().unwrap_or(DEFAULT_NAMESPACE)
        }
        let keys: std::collections::HashSet<(&str, &str, &str)> = self
            .workloads
            .iter()
            .map(|x| (x.kind.as_str(), owner(x), x.meta.name.as_str()))
            .collect();
        self.workloads
            .iter()
            .filter(|w| {
                !w.meta
                    .owner_references
                    .iter()
                    .any(|o| keys.contains(&(o.kind.as_str(), owner(w), o.name.as_str())))
            })
            .collect()
    }

    /// Number of objects of every type (implicit namespaces excluded).
    pub fn object_count(&self) -> usize {
        self.namespaces.iter().filter(|n| !n.spec.implicit).count()
            + self.workloads.len()
            + self.services.len()
            + self.ingresses.len()
            + self.network_policies.len()
            + self.service_accounts.len()
            + self.roles.len()
            + self.role_bindings.len()
            + self.secrets.len()
            + self.config_maps.len()
            + self.others.len()
    }

    /// Appends every inventory of `parts`, in order (call [`Inventory::finalize`] afterwards).
    /// Each kind's vector is grown once, to its final length, before the objects are moved in:
    /// appending thousands of per-file inventories one by one doubled the vectors over and over
    /// (100,000 workloads of 1.5 KB each), every doubling a copy into freshly faulted pages on
    /// one thread.
    pub fn extend_all(&mut self, parts: Vec<Inventory>) {
        fn reserve<T>(v: &mut Vec<T>, parts: &[Inventory], len: impl Fn(&Inventory) -> usize) {
            v.reserve_exact(parts.iter().map(len).sum());
        }
        reserve(&mut self.namespaces, &parts, |p| p.namespaces.len());
        reserve(&mut self.workloads, &parts, |p| p.workloads.len());
        reserve(&mut self.services, &parts, |p| p.services.len());
        reserve(&mut self.ingresses, &parts, |p| p.ingresses.len());
        reserve(&mut self.network_policies, &parts, |p| {
            p.network_policies.len()
        });
        reserve(&mut self.service_accounts, &parts, |p| {
            p.service_accounts.len()
        });
        reserve(&mut self.roles, &parts, |p| p.roles.len());
        reserve(&mut self.role_bindings, &parts, |p| p.role_bindings.len());
        reserve(&mut self.secrets, &parts, |p| p.secrets.len());
        reserve(&mut self.config_maps, &parts, |p| p.config_maps.len());
        reserve(&mut self.others, &parts, |p| p.others.len());
        for part in parts {
            self.extend(part);
        }
    }

    /// Appends everything from `other` (call [`Inventory::finalize`] afterwards).
    pub fn extend(&mut self, other: Inventory) {
        self.namespaces.extend(other.namespaces);
        self.workloads.extend(other.workloads);
        self.services.extend(other.services);
        self.ingresses.extend(other.ingresses);
        self.network_policies.extend(other.network_policies);
        self.service_accounts.extend(other.service_accounts);
        self.roles.extend(other.roles);
        self.role_bindings.extend(other.role_bindings);
        self.secrets.extend(other.secrets);
        self.config_maps.extend(other.config_maps);
        self.others.extend(other.others);
    }
}
