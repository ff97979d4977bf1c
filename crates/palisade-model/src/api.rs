//! Typed mirrors of the parts of the Kubernetes API (core/v1, apps/v1, batch/v1,
//! networking.k8s.io/v1, rbac.authorization.k8s.io/v1) that Palisade analyses.
//!
//! Field names follow the API reference exactly (camelCase). Unknown fields are ignored, and
//! `null` is read as "absent", as the API server does. Where the API distinguishes an absent
//! field from an empty one (NetworkPolicy peers, for example) the field is an `Option`.

use serde::{Deserialize, Deserializer, Serialize};

use crate::labels::Labels;
use crate::meta::ObjectMeta;
use crate::selector::LabelSelector;
use crate::sorted_map::SortedMap;

/// Serde helper: reads `null` as the type's default (Kubernetes treats `null` as absent).
pub fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `IntOrString`: a port number or a port name, for example.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// A number.
    Int(i64),
    /// A string (a named port, or a percentage).
    String(String),
}

impl std::fmt::Display for IntOrString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrString::Int(i) => write!(f, "{i}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

/// core/v1 `PodSpec` (the fields Palisade reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PodSpec {
    /// Regular containers.
    #[serde(deserialize_with = "nullable")]
    pub containers: Vec<Container>,
    /// Init containers (including restartable "sidecar" init containers).
    #[serde(deserialize_with = "nullable")]
    pub init_containers: Vec<Container>,
    /// Ephemeral (debug) containers.
    #[serde(deserialize_with = "nullable")]
    pub ephemeral_containers: Vec<Container>,
    /// Volumes.
    #[serde(deserialize_with = "nullable")]
    pub volumes: Vec<Volume>,
    /// Use the node's network namespace.
    pub host_network: Option<bool>,
    /// Use the node's PID namespace.
    #[serde(rename = "hostPID")]
    pub host_pid: Option<bool>,
    /// Use the node's IPC namespace.
    #[serde(rename = "hostIPC")]
    pub host_ipc: Option<bool>,
    /// Use the node's user namespace (false = a new user namespace).
    pub host_users: Option<bool>,
    /// Share one PID namespace between the pod's containers.
    pub share_process_namespace: Option<bool>,
    /// Pod-level security context.
    pub security_context: Option<Box<PodSecurityContext>>,
    /// Service account name.
    pub service_account_name: Option<String>,
    /// Deprecated alias of `serviceAccountName`.
    pub service_account: Option<String>,
    /// Whether the service account token is mounted.
    pub automount_service_account_token: Option<bool>,
    /// Node name (pins the pod to one node).
    pub node_name: Option<String>,
    /// Image pull secrets.
    #[serde(deserialize_with = "nullable")]
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// Priority class.
    pub priority_class_name: Option<String>,
    /// Runtime class.
    pub runtime_class_name: Option<String>,
    /// Restart policy.
    pub restart_policy: Option<String>,
    /// The operating system the pod runs on (`spec.os.name`: `linux` or `windows`).
    pub os: Option<PodOs>,
    /// Node, pod and pod anti-affinity (which kinds are set; terms are not interpreted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Box<Affinity>>,
    /// Topology spread constraints, as written.
    #[serde(deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<serde_json::Value>,
    /// DNS policy (`ClusterFirst` when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_policy: Option<String>,
    /// DNS resolver settings merged into the pod's resolv.conf.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_config: Option<Box<PodDnsConfig>>,
}

/// core/v1 `Affinity`: which kinds of affinity a pod declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Affinity {
    /// Node affinity, as written.
    pub node_affinity: Option<serde_json::Value>,
    /// Pod affinity, as written.
    pub pod_affinity: Option<serde_json::Value>,
    /// Pod anti-affinity, as written.
    pub pod_anti_affinity: Option<serde_json::Value>,
}

/// core/v1 `PodDNSConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PodDnsConfig {
    /// Name servers.
    #[serde(deserialize_with = "nullable")]
    pub nameservers: Vec<String>,
    /// Search domains.
    #[serde(deserialize_with = "nullable")]
    pub searches: Vec<String>,
    /// Resolver options (`ndots`, `timeout`, …).
    #[serde(deserialize_with = "nullable")]
    pub options: Vec<PodDnsConfigOption>,
}

/// core/v1 `PodDNSConfigOption`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PodDnsConfigOption {
    /// Option name.
    pub name: String,
    /// Option value, if any.
    pub value: Option<String>,
}

/// How a controller replaces its pods and cleans up after itself: the controller-level
/// fields the availability checks read, read leniently (a malformed value is left out).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ControllerFields {
    /// Deployment `spec.strategy`, or StatefulSet and DaemonSet `spec.updateStrategy`.
    pub strategy: Option<UpdateStrategy>,
    /// Job `spec.ttlSecondsAfterFinished` (CronJob: of its job template).
    pub ttl_seconds_after_finished: Option<i64>,
}

/// A Deployment's `strategy` or a StatefulSet's or DaemonSet's `updateStrategy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct UpdateStrategy {
    /// `RollingUpdate` (the default), `Recreate` (Deployment) or `OnDelete`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Rolling update parameters.
    pub rolling_update: Option<RollingUpdate>,
}

/// `rollingUpdate` of an update strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RollingUpdate {
    /// Pods that may be unavailable during the update (number or percentage).
    pub max_unavailable: Option<IntOrString>,
    /// Pods that may be created above the desired count.
    pub max_surge: Option<IntOrString>,
}

/// core/v1 `PodOS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PodOs {
    /// `linux` or `windows`.
    pub name: String,
}

impl PodSpec {
    /// True when the pod declares `spec.os.name: windows`: Linux-only security settings
    /// (capabilities, seccomp, AppArmor, SELinux, allowPrivilegeEscalation,
    /// readOnlyRootFilesystem, procMount, runAsUser/runAsGroup) are rejected by the API server
    /// for such pods.
    pub fn is_windows(&self) -> bool {
        self.os.as_ref().is_some_and(|o| o.name == "windows")
    }

    /// The effective service account name: `serviceAccountName`, else the deprecated
    /// `serviceAccount`, else `default`.
    pub fn effective_service_account(&self) -> &str {
        self.service_account_name
            .as_deref()
            .filter(|s| !s.is_empty())
            .or(self.service_account.as_deref().filter(|s| !s.is_empty()))
            .unwrap_or("default")
    }

    /// Every container with its kind, in API order: init, regular, ephemeral.
    pub fn all_containers(&self) -> impl Iterator<Item = (ContainerKind, &Container)> {
        self.init_containers
            .iter()
            .map(|c| (ContainerKind::Init, c))
            .chain(self.containers.iter().map(|c| (ContainerKind::Regular, c)))
            .chain(
                self.ephemeral_containers
                    .iter()
                    .map(|c| (ContainerKind::Ephemeral, c)),
            )
    }
}

/// Which list of the pod spec a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerKind {
    /// `initContainers`.
    Init,
    /// `containers`.
    Regular,
    /// `ephemeralContainers`.
    Ephemeral,
}

/// A reference to an object in the same namespace by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct LocalObjectReference {
    /// Name of the referent.
    pub name: String,
}

/// core/v1 `Container` (also used for init and ephemeral containers).
///
/// Optional parts that few containers carry (the security context, the probes; `valueFrom` in
/// [`EnvVar`], the pod's security context, affinity and DNS config in [`PodSpec`]) are boxed:
/// inline they made a container 1,248 bytes whether it had them or not, and a sensor holds
/// every container of its cluster (docs/benchmarks.md, "Rare container parts boxed").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Image reference as written.
    pub image: Option<String>,
    /// `Always`, `IfNotPresent` or `Never`.
    pub image_pull_policy: Option<String>,
    /// Entrypoint override.
    #[serde(deserialize_with = "nullable")]
    pub command: Vec<String>,
    /// Arguments.
    #[serde(deserialize_with = "nullable")]
    pub args: Vec<String>,
    /// Environment variables.
    #[serde(deserialize_with = "nullable")]
    pub env: Vec<EnvVar>,
    /// Environment sources.
    #[serde(deserialize_with = "nullable")]
    pub env_from: Vec<EnvFromSource>,
    /// Declared ports.
    #[serde(deserialize_with = "nullable")]
    pub ports: Vec<ContainerPort>,
    /// Resource requests and limits.
    pub resources: Option<ResourceRequirements>,
    /// Container security context.
    pub security_context: Option<Box<SecurityContext>>,
    /// Liveness probe.
    pub liveness_probe: Option<Box<Probe>>,
    /// Readiness probe.
    pub readiness_probe: Option<Box<Probe>>,
    /// Startup probe.
    pub startup_probe: Option<Box<Probe>>,
    /// Volume mounts.
    #[serde(deserialize_with = "nullable")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Restart policy of an init container (`Always` makes it a sidecar).
    pub restart_policy: Option<String>,
}

/// core/v1 `EnvVar`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvVar {
    /// Variable name.
    pub name: String,
    /// Literal value. Never printed: it may be a secret.
    pub value: Option<String>,
    /// Value source.
    pub value_from: Option<Box<EnvVarSource>>,
}

/// core/v1 `EnvVarSource`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvVarSource {
    /// A key of a Secret.
    pub secret_key_ref: Option<KeyRef>,
    /// A key of a ConfigMap.
    pub config_map_key_ref: Option<KeyRef>,
    /// A field of the pod (downward API).
    pub field_ref: Option<serde_json::Value>,
    /// A resource of the container (downward API).
    pub resource_field_ref: Option<serde_json::Value>,
}

/// A reference to one key of a Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct KeyRef {
    /// Object name.
    pub name: String,
    /// Key inside the object.
    pub key: String,
    /// Whether the object or key may be missing.
    pub optional: Option<bool>,
}

/// core/v1 `EnvFromSource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EnvFromSource {
    /// Prefix for every variable.
    pub prefix: Option<String>,
    /// All keys of a Secret.
    pub secret_ref: Option<NamedRef>,
    /// All keys of a ConfigMap.
    pub config_map_ref: Option<NamedRef>,
}

/// A reference to a whole Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NamedRef {
    /// Object name.
    pub name: String,
    /// Whether the object may be missing.
    pub optional: Option<bool>,
}

/// core/v1 `ContainerPort`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerPort {
    /// Port name (IANA_SVC_NAME), referenced by Services, probes and NetworkPolicies.
    pub name: Option<String>,
    /// Port number in the container.
    pub container_port: i64,
    /// Port bound on the node.
    pub host_port: Option<i64>,
    /// Host IP for the host port.
    #[serde(rename = "hostIP")]
    pub host_ip: Option<String>,
    /// `TCP` (default), `UDP` or `SCTP`.
    pub protocol: Option<String>,
}

/// core/v1 `ResourceRequirements`; quantities are kept as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ResourceRequirements {
    /// Limits, by resource name.
    #[serde(deserialize_with = "nullable")]
    pub limits: SortedMap<String, serde_json::Value>,
    /// Requests, by resource name.
    #[serde(deserialize_with = "nullable")]
    pub requests: SortedMap<String, serde_json::Value>,
}

/// core/v1 `SecurityContext` (container level).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SecurityContext {
    /// Run privileged.
    pub privileged: Option<bool>,
    /// Allow gaining more privileges than the parent process (no_new_privs off).
    pub allow_privilege_escalation: Option<bool>,
    /// Require a non-root UID.
    pub run_as_non_root: Option<bool>,
    /// UID.
    pub run_as_user: Option<i64>,
    /// GID.
    pub run_as_group: Option<i64>,
    /// Read-only root filesystem.
    pub read_only_root_filesystem: Option<bool>,
    /// Capabilities to add and drop.
    pub capabilities: Option<Capabilities>,
    /// `Default` or `Unmasked`.
    pub proc_mount: Option<String>,
    /// Seccomp profile.
    pub seccomp_profile: Option<SeccompProfile>,
    /// AppArmor profile.
    pub app_armor_profile: Option<AppArmorProfile>,
    /// SELinux options.
    #[serde(rename = "seLinuxOptions")]
    pub se_linux_options: Option<SeLinuxOptions>,
    /// Windows options.
    pub windows_options: Option<WindowsSecurityContextOptions>,
}

/// core/v1 `WindowsSecurityContextOptions` (the field Palisade reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct WindowsSecurityContextOptions {
    /// Run as a Windows HostProcess container (full host access).
    pub host_process: Option<bool>,
}

/// core/v1 `PodSecurityContext`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PodSecurityContext {
    /// Require a non-root UID (containers may override).
    pub run_as_non_root: Option<bool>,
    /// UID (containers may override).
    pub run_as_user: Option<i64>,
    /// GID.
    pub run_as_group: Option<i64>,
    /// Volume ownership GID.
    pub fs_group: Option<i64>,
    /// Supplemental groups.
    #[serde(deserialize_with = "nullable")]
    pub supplemental_groups: Vec<i64>,
    /// Namespaced sysctls.
    #[serde(deserialize_with = "nullable")]
    pub sysctls: Vec<Sysctl>,
    /// Seccomp profile (containers may override).
    pub seccomp_profile: Option<SeccompProfile>,
    /// AppArmor profile (containers may override).
    pub app_armor_profile: Option<AppArmorProfile>,
    /// SELinux options.
    #[serde(rename = "seLinuxOptions")]
    pub se_linux_options: Option<SeLinuxOptions>,
    /// Windows options (containers may override).
    pub windows_options: Option<WindowsSecurityContextOptions>,
}

/// core/v1 `Capabilities`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Capabilities {
    /// Added capabilities.
    #[serde(deserialize_with = "nullable")]
    pub add: Vec<String>,
    /// Dropped capabilities.
    #[serde(deserialize_with = "nullable")]
    pub drop: Vec<String>,
}

/// core/v1 `SeccompProfile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SeccompProfile {
    /// `RuntimeDefault`, `Localhost` or `Unconfined`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Profile path for `Localhost`.
    pub localhost_profile: Option<String>,
}

/// core/v1 `AppArmorProfile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AppArmorProfile {
    /// `RuntimeDefault`, `Localhost` or `Unconfined`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Profile name for `Localhost`.
    pub localhost_profile: Option<String>,
}

/// core/v1 `SELinuxOptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SeLinuxOptions {
    /// SELinux user.
    pub user: Option<String>,
    /// SELinux role.
    pub role: Option<String>,
    /// SELinux type.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// SELinux level.
    pub level: Option<String>,
}

/// core/v1 `Sysctl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Sysctl {
    /// Sysctl name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// core/v1 `Probe` (the handler parts Palisade reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Probe {
    /// HTTP GET handler.
    pub http_get: Option<PortHandler>,
    /// TCP socket handler.
    pub tcp_socket: Option<PortHandler>,
    /// gRPC handler (port must be a number).
    pub grpc: Option<PortHandler>,
    /// Exec handler.
    pub exec: Option<serde_json::Value>,
}

impl Probe {
    /// The port the probe connects to, if it is a network probe.
    pub fn port(&self) -> Option<&IntOrString> {
        self.http_get
            .as_ref()
            .or(self.tcp_socket.as_ref())
            .or(self.grpc.as_ref())
            .and_then(|h| h.port.as_ref())
    }
}

/// A probe handler that targets a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PortHandler {
    /// Port number or name.
    pub port: Option<IntOrString>,
    /// HTTP path.
    pub path: Option<String>,
}

/// core/v1 `VolumeMount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct VolumeMount {
    /// Volume name.
    pub name: String,
    /// Path in the container.
    pub mount_path: String,
    /// Read-only mount.
    pub read_only: Option<bool>,
    /// Sub-path of the volume.
    pub sub_path: Option<String>,
    /// `None` (default), `HostToContainer` or `Bidirectional`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_propagation: Option<String>,
}

/// core/v1 `Volume`: the name and the sources Palisade reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Volume {
    /// Volume name.
    pub name: String,
    /// A path on the node.
    pub host_path: Option<HostPathVolume>,
    /// A Secret.
    pub secret: Option<SecretVolume>,
    /// A ConfigMap.
    pub config_map: Option<serde_json::Value>,
    /// Projected sources (may include secrets and service account tokens).
    pub projected: Option<ProjectedVolume>,
    /// A scratch directory.
    pub empty_dir: Option<serde_json::Value>,
    /// A persistent volume claim.
    pub persistent_volume_claim: Option<serde_json::Value>,
}

/// core/v1 `HostPathVolumeSource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct HostPathVolume {
    /// Path on the node.
    pub path: String,
    /// Type (`Directory`, `Socket`, …).
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

/// core/v1 `SecretVolumeSource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SecretVolume {
    /// Secret name.
    pub secret_name: Option<String>,
    /// Whether the Secret may be missing.
    pub optional: Option<bool>,
}

/// core/v1 `ProjectedVolumeSource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ProjectedVolume {
    /// Projected sources.
    #[serde(deserialize_with = "nullable")]
    pub sources: Vec<ProjectedSource>,
}

/// One source of a projected volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ProjectedSource {
    /// A Secret.
    pub secret: Option<NamedRef>,
    /// A service account token.
    pub service_account_token: Option<serde_json::Value>,
}

/// The pod template of a workload controller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PodTemplateSpec {
    /// Template metadata (labels select the pods).
    pub metadata: ObjectMeta,
    /// Pod spec.
    pub spec: PodSpec,
}

/// core/v1 `ServicePort`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ServicePort {
    /// Port name.
    pub name: Option<String>,
    /// Port of the Service.
    pub port: i64,
    /// Target port on the pods (number or named container port); defaults to `port`.
    pub target_port: Option<IntOrString>,
    /// Node port for NodePort / LoadBalancer.
    pub node_port: Option<i64>,
    /// `TCP` (default), `UDP`, `SCTP`.
    pub protocol: Option<String>,
}

/// core/v1 `ServiceSpec` (the fields Palisade reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceSpec {
    /// `ClusterIP` (default), `NodePort`, `LoadBalancer`, `ExternalName`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Pod selector; empty or absent selects nothing (endpoints managed by hand).
    #[serde(deserialize_with = "nullable")]
    pub selector: Labels,
    /// Ports.
    #[serde(deserialize_with = "nullable")]
    pub ports: Vec<ServicePort>,
    /// External IPs routed to this Service.
    #[serde(rename = "externalIPs", deserialize_with = "nullable")]
    pub external_ips: Vec<String>,
    /// Allowed source ranges for a LoadBalancer.
    #[serde(deserialize_with = "nullable")]
    pub load_balancer_source_ranges: Vec<String>,
    /// External name for `ExternalName` Services.
    pub external_name: Option<String>,
    /// Cluster IP (`None` = headless).
    #[serde(rename = "clusterIP")]
    pub cluster_ip: Option<String>,
}

/// networking.k8s.io/v1 `IngressSpec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct IngressSpec {
    /// Ingress class.
    pub ingress_class_name: Option<String>,
    /// Default backend.
    pub default_backend: Option<IngressBackend>,
    /// TLS sections.
    #[serde(deserialize_with = "nullable")]
    pub tls: Vec<IngressTls>,
    /// Host rules.
    #[serde(deserialize_with = "nullable")]
    pub rules: Vec<IngressRule>,
}

/// networking.k8s.io/v1 `IngressTLS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct IngressTls {
    /// Hosts covered.
    #[serde(deserialize_with = "nullable")]
    pub hosts: Vec<String>,
    /// Secret with the certificate.
    pub secret_name: Option<String>,
}

/// networking.k8s.io/v1 `IngressRule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct IngressRule {
    /// Host name.
    pub host: Option<String>,
    /// HTTP paths.
    pub http: Option<HttpIngressRuleValue>,
}

/// networking.k8s.io/v1 `HTTPIngressRuleValue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct HttpIngressRuleValue {
    /// Paths.
    #[serde(deserialize_with = "nullable")]
    pub paths: Vec<HttpIngressPath>,
}

/// networking.k8s.io/v1 `HTTPIngressPath`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpIngressPath {
    /// Path.
    pub path: Option<String>,
    /// Backend.
    pub backend: IngressBackend,
}

/// networking.k8s.io/v1 `IngressBackend`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct IngressBackend {
    /// A Service backend.
    pub service: Option<IngressServiceBackend>,
}

/// networking.k8s.io/v1 `IngressServiceBackend`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct IngressServiceBackend {
    /// Service name.
    pub name: String,
    /// Service port.
    pub port: Option<ServiceBackendPort>,
}

/// networking.k8s.io/v1 `ServiceBackendPort`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ServiceBackendPort {
    /// Port name.
    pub name: Option<String>,
    /// Port number.
    pub number: Option<i64>,
}

/// networking.k8s.io/v1 `NetworkPolicySpec`. Absent and empty are kept apart where the API
/// gives them different meanings (an absent `policyTypes` is inferred; an absent `ingress`
/// list allows nothing while an empty rule `{}` allows everything). For `from`, `to` and
/// `ports` inside a rule, absent and empty both mean "all".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkPolicySpec {
    /// Pods the policy applies to (empty selects every pod of the namespace).
    pub pod_selector: LabelSelector,
    /// `Ingress`, `Egress`; when absent, Ingress always and Egress when egress rules exist.
    pub policy_types: Option<Vec<String>>,
    /// Ingress rules.
    pub ingress: Option<Vec<NetworkPolicyIngressRule>>,
    /// Egress rules.
    pub egress: Option<Vec<NetworkPolicyEgressRule>>,
}

/// networking.k8s.io/v1 `NetworkPolicyIngressRule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NetworkPolicyIngressRule {
    /// Sources (absent or empty: every source).
    pub from: Option<Vec<NetworkPolicyPeer>>,
    /// Ports (absent or empty: every port).
    pub ports: Option<Vec<NetworkPolicyPort>>,
}

/// networking.k8s.io/v1 `NetworkPolicyEgressRule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NetworkPolicyEgressRule {
    /// Destinations (absent or empty: every destination).
    pub to: Option<Vec<NetworkPolicyPeer>>,
    /// Ports (absent or empty: every port).
    pub ports: Option<Vec<NetworkPolicyPort>>,
}

/// networking.k8s.io/v1 `NetworkPolicyPeer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkPolicyPeer {
    /// Pods (in the policy's namespace unless `namespaceSelector` is also set).
    pub pod_selector: Option<LabelSelector>,
    /// Namespaces.
    pub namespace_selector: Option<LabelSelector>,
    /// An IP range.
    pub ip_block: Option<IpBlock>,
}

/// networking.k8s.io/v1 `IPBlock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct IpBlock {
    /// CIDR.
    pub cidr: String,
    /// CIDRs excluded from `cidr`.
    #[serde(deserialize_with = "nullable")]
    pub except: Vec<String>,
}

/// networking.k8s.io/v1 `NetworkPolicyPort`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkPolicyPort {
    /// `TCP` (default), `UDP`, `SCTP`.
    pub protocol: Option<String>,
    /// Port number or named port; absent = every port.
    pub port: Option<IntOrString>,
    /// End of a port range starting at `port` (numbers only).
    pub end_port: Option<i64>,
}

/// rbac.authorization.k8s.io/v1 `PolicyRule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicyRule {
    /// API groups (`""` is core, `*` all).
    #[serde(deserialize_with = "nullable")]
    pub api_groups: Vec<String>,
    /// Resources, possibly `resource/subresource` or `*`.
    #[serde(deserialize_with = "nullable")]
    pub resources: Vec<String>,
    /// Verbs.
    #[serde(deserialize_with = "nullable")]
    pub verbs: Vec<String>,
    /// Resource names (empty = all).
    #[serde(deserialize_with = "nullable")]
    pub resource_names: Vec<String>,
    /// Non-resource URLs (ClusterRoles only).
    #[serde(rename = "nonResourceURLs", deserialize_with = "nullable")]
    pub non_resource_urls: Vec<String>,
}

/// rbac.authorization.k8s.io/v1 `AggregationRule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AggregationRule {
    /// ClusterRoles whose labels match one of these selectors are aggregated.
    #[serde(deserialize_with = "nullable")]
    pub cluster_role_selectors: Vec<LabelSelector>,
}

/// rbac.authorization.k8s.io/v1 `RoleRef`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RoleRef {
    /// API group.
    pub api_group: String,
    /// `Role` or `ClusterRole`.
    pub kind: String,
    /// Role name.
    pub name: String,
}

/// rbac.authorization.k8s.io/v1 `Subject`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Subject {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (ServiceAccount subjects).
    pub namespace: Option<String>,
    /// API group.
    pub api_group: Option<String>,
}
