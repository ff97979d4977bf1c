//! The subset of Kubernetes object types the install manifests use, as serde structs. Members
//! serialize in field order (the order `kubectl` users expect: apiVersion, kind, metadata,
//! then the body); absent optional members are left out.
//!
//! Short lists that read best on one line (API groups, resources, namespaces) are
//! [`Flow`] lists: `["a", "b"]`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_saphyr::{Commented, DoubleQuoted, FlowSeq};

/// A list written in flow style with double-quoted items: `["a", "b"]`.
pub(crate) type Flow<'a> = FlowSeq<Vec<DoubleQuoted<&'a str>>>;

/// A [`Flow`] list of these items.
pub(crate) fn flow<'a>(items: impl IntoIterator<Item = &'a str>) -> Flow<'a> {
    FlowSeq(items.into_iter().map(DoubleQuoted).collect())
}

/// A value, with a comment line above it when there is something to say (serialized with
/// `CommentPosition::Above`).
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Noted<T> {
    Plain(T),
    Commented(Commented<T>),
}

impl<T> Noted<T> {
    /// `value`, with `comment` above it when given.
    pub fn new(value: T, comment: Option<&str>) -> Self {
        match comment {
            Some(c) => Noted::Commented(Commented(value, c.to_string())),
            None => Noted::Plain(value),
        }
    }
}

/// One document: the type, the metadata and the kind's body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Object<'a, B> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata<'a>,
    #[serde(flatten)]
    pub body: B,
}

impl<'a, B> Object<'a, B> {
    /// An object of this type, metadata and body.
    pub fn new(
        api_version: &'static str,
        kind: &'static str,
        metadata: Metadata<'a>,
        body: B,
    ) -> Self {
        Object {
            api_version,
            kind,
            metadata,
            body,
        }
    }
}

/// `metadata`.
#[derive(Serialize)]
pub(crate) struct Metadata<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<&'a str>,
    pub labels: Labels<'a>,
    /// Annotations (reasoned exceptions of our own checks).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<&'static str, &'static str>,
}

/// The `app.kubernetes.io/*` labels the objects carry.
#[derive(Serialize, Clone, Copy)]
pub(crate) struct Labels<'a> {
    #[serde(
        rename = "app.kubernetes.io/name",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<&'a str>,
    #[serde(
        rename = "app.kubernetes.io/component",
        skip_serializing_if = "Option::is_none"
    )]
    pub component: Option<&'static str>,
    #[serde(
        rename = "app.kubernetes.io/part-of",
        skip_serializing_if = "Option::is_none"
    )]
    pub part_of: Option<&'static str>,
    /// The team that runs it (`palisade.dev/owner`).
    #[serde(rename = "palisade.dev/owner", skip_serializing_if = "Option::is_none")]
    pub owner: Option<&'a str>,
}

/// The body of a Namespace.
#[derive(Serialize)]
pub(crate) struct Empty {}

/// The body of a ServiceAccount.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServiceAccount {
    pub automount_service_account_token: bool,
}

/// The body of a Secret or ConfigMap: its type (Secrets) and data.
#[derive(Serialize)]
pub(crate) struct Data {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub data: BTreeMap<&'static str, String>,
}

/// The body of a Deployment or Service.
#[derive(Serialize)]
pub(crate) struct Spec<S> {
    pub spec: S,
}

/// A Deployment's `spec`.
#[derive(Serialize)]
pub(crate) struct DeploymentSpec<'a> {
    pub replicas: u32,
    pub selector: Selector<'a>,
    pub template: PodTemplate<'a>,
}

/// `selector: {matchLabels: …}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Selector<'a> {
    pub match_labels: Labels<'a>,
}

/// A pod template.
#[derive(Serialize)]
pub(crate) struct PodTemplate<'a> {
    pub metadata: PodMetadata<'a>,
    pub spec: PodSpec<'a>,
}

/// A pod template's `metadata`.
#[derive(Serialize)]
pub(crate) struct PodMetadata<'a> {
    pub labels: Labels<'a>,
}

/// A pod `spec`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodSpec<'a> {
    /// Spread over nodes (several replicas only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<TopologySpread<'a>>,
    pub service_account_name: &'a str,
    pub automount_service_account_token: bool,
    /// `false`: the pod runs in its own user namespace (root inside is not root outside).
    pub host_users: bool,
    pub security_context: PodSecurityContext,
    pub containers: Vec<Container<'a>>,
    pub volumes: Vec<Volume<'a>>,
}

/// One of a pod's `topologySpreadConstraints`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TopologySpread<'a> {
    pub max_skew: u32,
    pub topology_key: &'static str,
    pub when_unsatisfiable: &'static str,
    pub label_selector: Selector<'a>,
}

/// A PodDisruptionBudget's `spec`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DisruptionBudgetSpec<'a> {
    pub max_unavailable: u32,
    pub unhealthy_pod_eviction_policy: &'static str,
    pub selector: Selector<'a>,
}

/// A pod's `securityContext`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodSecurityContext {
    pub run_as_non_root: bool,
    pub run_as_user: u32,
    pub run_as_group: u32,
    pub seccomp_profile: SeccompProfile,
}

/// `seccompProfile`.
#[derive(Serialize)]
pub(crate) struct SeccompProfile {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A container.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Container<'a> {
    pub name: &'static str,
    pub image: &'a str,
    pub image_pull_policy: &'static str,
    pub args: Vec<String>,
    pub ports: Vec<ContainerPort>,
    pub readiness_probe: Probe,
    pub liveness_probe: Probe,
    pub resources: Resources,
    pub security_context: ContainerSecurityContext,
    pub volume_mounts: Vec<VolumeMount>,
}

/// A container port.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContainerPort {
    pub name: &'static str,
    pub container_port: u16,
}

/// An HTTPS GET probe.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Probe {
    pub http_get: HttpGet,
    pub period_seconds: u32,
}

/// A probe's `httpGet`.
#[derive(Serialize)]
pub(crate) struct HttpGet {
    pub path: &'static str,
    pub port: &'static str,
    pub scheme: &'static str,
}

/// Requests and limits.
#[derive(Serialize)]
pub(crate) struct Resources {
    pub requests: Quantities,
    pub limits: Quantities,
}

/// CPU and memory quantities.
#[derive(Serialize)]
pub(crate) struct Quantities {
    pub cpu: &'static str,
    pub memory: &'static str,
}

/// A container's `securityContext`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContainerSecurityContext {
    pub allow_privilege_escalation: bool,
    pub read_only_root_filesystem: bool,
    pub capabilities: Capabilities,
}

/// Dropped capabilities.
#[derive(Serialize)]
pub(crate) struct Capabilities {
    pub drop: Vec<&'static str>,
}

/// A volume mount.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VolumeMount {
    pub name: &'static str,
    pub mount_path: &'static str,
    pub read_only: bool,
}

/// A volume from a Secret or a ConfigMap.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Volume<'a> {
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretVolume<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapVolume<'a>>,
}

/// `secret: {secretName}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SecretVolume<'a> {
    pub secret_name: &'a str,
}

/// `configMap: {name}`.
#[derive(Serialize)]
pub(crate) struct ConfigMapVolume<'a> {
    pub name: &'a str,
}

/// A Service's `spec`.
#[derive(Serialize)]
pub(crate) struct ServiceSpec<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub selector: Labels<'a>,
    pub ports: Vec<ServicePort>,
}

/// A Service port.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServicePort {
    pub name: &'static str,
    pub port: u16,
    pub target_port: &'static str,
}

/// The body of a ValidatingWebhookConfiguration.
#[derive(Serialize)]
pub(crate) struct Webhooks<'a> {
    pub webhooks: Vec<Webhook<'a>>,
}

/// One webhook.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Webhook<'a> {
    pub name: &'static str,
    pub admission_review_versions: Flow<'a>,
    pub side_effects: &'static str,
    pub failure_policy: &'static str,
    pub timeout_seconds: u32,
    pub match_policy: &'static str,
    pub client_config: Noted<ClientConfig<'a>>,
    pub namespace_selector: NamespaceSelector<'a>,
    pub rules: Vec<Rule<'a>>,
}

/// How the API server reaches the webhook.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClientConfig<'a> {
    pub service: ServiceReference<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
}

/// The webhook Service.
#[derive(Serialize)]
pub(crate) struct ServiceReference<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub path: &'static str,
    pub port: u16,
}

/// `namespaceSelector`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NamespaceSelector<'a> {
    pub match_expressions: Vec<Requirement<'a>>,
}

/// One label requirement.
#[derive(Serialize)]
pub(crate) struct Requirement<'a> {
    pub key: &'static str,
    pub operator: &'static str,
    pub values: Flow<'a>,
}

/// One rule: the resources of one API group.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Rule<'a> {
    pub api_groups: Flow<'a>,
    pub api_versions: Flow<'a>,
    pub operations: FlowSeq<[&'static str; 2]>,
    pub resources: Flow<'a>,
    pub scope: &'static str,
}

/// The body of a NetworkPolicy.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NetworkPolicySpec<'a> {
    pub pod_selector: Selector<'a>,
    pub policy_types: FlowSeq<[&'static str; 2]>,
    pub ingress: Vec<IngressRule>,
    pub egress: Vec<EgressRule<'a>>,
}

/// An ingress rule from any source to these ports.
#[derive(Serialize)]
pub(crate) struct IngressRule {
    pub ports: Vec<PolicyPort>,
}

/// An egress rule: to these peers (none: anywhere) on these ports.
#[derive(Serialize)]
pub(crate) struct EgressRule<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Peer<'a>>,
    pub ports: Vec<PolicyPort>,
}

/// A peer selected by namespace.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Peer<'a> {
    pub namespace_selector: NamespaceLabels<'a>,
}

/// `matchLabels` of a namespace selector.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NamespaceLabels<'a> {
    pub match_labels: BTreeMap<&'static str, &'a str>,
}

/// A port of a rule.
#[derive(Serialize)]
pub(crate) struct PolicyPort {
    pub protocol: &'static str,
    pub port: u16,
}
