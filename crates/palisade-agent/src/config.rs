//! Agent configuration: a YAML file (every key optional), overridden by command-line flags.
//! The keys are documented in `docs/runtime.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_model::Severity;
use palisade_runtime::response::Action;
use serde::Deserialize;

/// Which exec event source to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// The eBPF exec capture when it loads, else the proc connector, else polling.
    #[default]
    Auto,
    /// The eBPF exec capture only (root, a kernel with BTF and BTF tracepoints).
    Bpf,
    /// The netlink proc connector only (root in the initial PID namespace).
    #[serde(alias = "proc")]
    ProcConnector,
    /// Polling `/proc` (sees processes that live at least one interval).
    ProcPoll,
}

/// Webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// `https://` URL alerts are POSTed to (one JSON alert per request).
    pub url: Option<String>,
    /// PEM file with extra trusted CA certificates.
    pub ca_file: Option<PathBuf>,
    /// Accept an `http://` URL (alerts then travel unencrypted).
    pub allow_http: bool,
    /// Request timeout in milliseconds (default 5000).
    pub timeout_ms: Option<u64>,
    /// Extra request headers (e.g. `Authorization`).
    pub headers: BTreeMap<String, String>,
}

/// Process baselines.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BaselineConfig {
    /// Learn and enforce baselines.
    pub enabled: bool,
    /// Learning window in seconds.
    pub learn_window_secs: u64,
    /// Severity of `baseline-anomaly` alerts.
    pub severity: Severity,
    /// Responses to anomalies.
    pub actions: Vec<String>,
    /// Most programs per baseline.
    pub max_processes: usize,
    /// Most baselines.
    pub max_baselines: usize,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            enabled: true,
            learn_window_secs: 3600,
            severity: Severity::Medium,
            actions: vec!["alert".into()],
            max_processes: 1000,
            max_baselines: 10_000,
        }
    }
}

/// Response limits and runtime commands.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseConfig {
    /// Allow `kill-process` on host processes.
    pub allow_host_kill: bool,
    /// Seconds before the same container or pod is acted on again.
    pub cooldown_secs: u64,
    /// Seconds a runtime gives a container to stop before killing it.
    pub stop_timeout_secs: u64,
    /// podman binary.
    pub podman: String,
    /// crictl binary (containerd and CRI-O).
    pub crictl: String,
    /// docker binary.
    pub docker: String,
    /// Docker daemon address given to `docker -H` (e.g. `unix:///run/docker.sock`); unset,
    /// docker's own default (`DOCKER_HOST`, else `/var/run/docker.sock`).
    pub docker_host: Option<String>,
}

impl Default for ResponseConfig {
    fn default() -> Self {
        ResponseConfig {
            allow_host_kill: false,
            cooldown_secs: 60,
            stop_timeout_secs: 2,
            podman: "podman".into(),
            crictl: "crictl".into(),
            docker: "docker".into(),
            docker_host: None,
        }
    }
}

/// Cluster API access for `delete-pod` and `restart-workload` (through palisade-cluster's
/// kube client). Empty (`kubernetes: {}`), it finds the cluster as kubectl would: a kubeconfig,
/// else the pod's service account (`KUBERNETES_SERVICE_HOST`/`PORT` and
/// `/var/run/secrets/kubernetes.io/serviceaccount`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubernetesConfig {
    /// A kubeconfig file (`--kubeconfig`).
    pub kubeconfig: Option<PathBuf>,
    /// Its context (default: the current one).
    pub context: Option<String>,
    /// API server URL (`https://…`); given, the service-account credentials below are used
    /// without looking for a kubeconfig.
    pub api_server: Option<String>,
    /// The service-account directory (`token`, `ca.crt`, `namespace`).
    pub service_account_dir: Option<PathBuf>,
    /// File holding a bearer token (default: the service account's).
    pub token_file: Option<PathBuf>,
    /// PEM CA bundle for the API server (default: the service account's).
    pub ca_file: Option<PathBuf>,
}

impl KubernetesConfig {
    /// Where palisade-cluster finds the cluster.
    pub fn source(&self) -> palisade_cluster::ClusterSource {
        let mut in_cluster = palisade_cluster::InCluster {
            server: self.api_server.clone(),
            token_file: self.token_file.clone(),
            ca_file: self.ca_file.clone(),
            ..Default::default()
        };
        if let Some(dir) = &self.service_account_dir {
            in_cluster.dir = dir.clone();
        }
        palisade_cluster::ClusterSource {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            in_cluster,
        }
    }
}

/// Queue capacities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Raw events from the source to the processor.
    pub events: usize,
    /// Alert, response and flow records to the writer.
    pub outputs: usize,
    /// Alerts waiting for the webhook.
    pub webhook: usize,
    /// Alerts and flows waiting for the central sender.
    pub central: usize,
    /// Responses waiting to be carried out.
    pub responses: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            events: 65_536,
            outputs: 16_384,
            webhook: 1024,
            central: 16_384,
            responses: 256,
        }
    }
}

/// Where container engines keep metadata.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    /// Ask podman (`podman container inspect`) for names, images, labels and pods.
    pub podman_inspect: bool,
    /// containers/storage roots (podman, CRI-O) holding `overlay-containers/`.
    pub storage_roots: Vec<PathBuf>,
    /// containerd task state roots (`…/io.containerd.runtime.v2.task`).
    pub containerd_task_roots: Vec<PathBuf>,
    /// Docker's data root.
    pub docker_root: PathBuf,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            podman_inspect: true,
            storage_roots: vec![
                "/var/lib/containers/storage".into(),
                "/run/containers/storage".into(),
            ],
            containerd_task_roots: vec!["/run/containerd/io.containerd.runtime.v2.task".into()],
            docker_root: "/var/lib/docker".into(),
        }
    }
}

/// The whole agent configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// Exec event source.
    pub source: SourceKind,
    /// Interval of the polling source, in milliseconds.
    pub poll_interval_ms: u64,
    /// Interval of socket-table scans, in milliseconds (0 turns connections and flows off).
    pub net_interval_ms: u64,
    /// Load the built-in rules (custom files are applied on top).
    pub builtin_rules: bool,
    /// Custom rule files, applied after the built-in rules in order.
    pub rules_files: Vec<PathBuf>,
    /// Replaces the `k8s_api_server_addresses` rule list when non-empty.
    pub api_server_addresses: Vec<String>,
    /// Alert destination: `-` for standard output, or a file (appended).
    pub alerts: String,
    /// Flow destination (JSON lines, appended); `None` turns flow output off.
    pub flows: Option<PathBuf>,
    /// Webhook.
    pub webhook: WebhookConfig,
    /// Central, to report alerts and flows to.
    pub central: Option<crate::central::CentralConfig>,
    /// Baselines, findings summary and lock file live here.
    pub state_dir: PathBuf,
    /// Baselines.
    pub baseline: BaselineConfig,
    /// Responses.
    pub response: ResponseConfig,
    /// Cluster API for `delete-pod` and `restart-workload`.
    pub kubernetes: Option<KubernetesConfig>,
    /// Queue capacities.
    pub queues: QueueConfig,
    /// Ignore processes outside containers entirely.
    pub only_containers: bool,
    /// A RuntimePolicy whose `processAllowlists` seed locked baselines.
    pub policy_file: Option<PathBuf>,
    /// Container metadata sources.
    pub metadata: MetadataConfig,
    /// Seconds between state saves (baselines, findings).
    pub save_interval_secs: u64,
    /// Scheduling niceness of the agent's threads (-20 to 19; lower runs first). The
    /// default, -10, keeps the agent ahead of the workloads it watches on a busy node, so
    /// short-lived processes are read before they vanish; 0 leaves it as started.
    pub nice: i32,
    /// Run the exec pipeline's threads (source, enricher, processor, writer) under
    /// `SCHED_FIFO` at the lowest real-time priority, so they run ahead of every normal task
    /// however busy the node is: niceness only orders threads within one cgroup (or autogroup),
    /// and on a node whose CPUs the workloads saturate the agent otherwise waits on the run
    /// queue behind them (docs/benchmarks.md). Needs `CAP_SYS_NICE` (and, where the kernel
    /// has real-time group scheduling, real-time runtime in the agent's cgroup); when refused,
    /// the threads run at `nice` and a warning says why. The other threads always use `nice`.
    pub realtime: bool,
    /// The cgroup v2 hierarchy the eBPF source maps cgroup IDs to container paths with
    /// (default: the first `cgroup2` mount in `/proc/self/mountinfo`). An agent in a
    /// container with its own cgroup namespace sees only its own cgroup there: name the
    /// node's hierarchy here (`/proc/1/root/sys/fs/cgroup` with the host's PID namespace).
    pub cgroup_root: Option<PathBuf>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            source: SourceKind::Auto,
            poll_interval_ms: 100,
            net_interval_ms: 1000,
            builtin_rules: true,
            rules_files: Vec::new(),
            api_server_addresses: Vec::new(),
            alerts: "-".into(),
            flows: None,
            webhook: WebhookConfig::default(),
            central: None,
            state_dir: "/var/lib/palisade/agent".into(),
            baseline: BaselineConfig::default(),
            response: ResponseConfig::default(),
            kubernetes: None,
            queues: QueueConfig::default(),
            only_containers: false,
            policy_file: None,
            metadata: MetadataConfig::default(),
            save_interval_secs: 10,
            nice: -10,
            realtime: true,
            cgroup_root: None,
        }
    }
}

/// A configuration problem, naming the file or key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The YAML did not match the schema.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The error.
        message: String,
    },
    /// A value is not acceptable.
    #[error("configuration: {key}: {message}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl AgentConfig {
    /// Reads a configuration file.
    pub fn load(path: &Path) -> Result<AgentConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        AgentConfig::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses configuration YAML (empty text gives the defaults).
    pub fn parse(text: &str) -> Result<AgentConfig, String> {
        if text.trim().is_empty() {
            return Ok(AgentConfig::default());
        }
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    }

    /// Checks values that the schema alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: String| Err(ConfigError::Invalid { key, message });
        if let Some(c) = &self.central
            && let Err(message) = c.validate()
        {
            return invalid("central", message);
        }
        if let Some(url) = &self.webhook.url {
            let lower = url.to_ascii_lowercase();
            if lower.starts_with("http://") {
                if !self.webhook.allow_http {
                    return invalid(
                        "webhook.url",
                        format!(
                            "{url} is plain HTTP; use https:// or set webhook.allow_http: true"
                        ),
                    );
                }
            } else if !lower.starts_with("https://") {
                return invalid("webhook.url", format!("{url} is not an http(s) URL"));
            }
        }
        if let Some(server) = self.kubernetes.as_ref().and_then(|k| k.api_server.as_ref())
            && !server.to_ascii_lowercase().starts_with("https://")
        {
            return invalid(
                "kubernetes.api_server",
                format!("{server} must be an https:// URL"),
            );
        }
        for a in &self.baseline.actions {
            if let Err(e) = a.parse::<Action>() {
                return invalid("baseline.actions", e);
            }
        }
        let q = &self.queues;
        if q.events == 0 || q.outputs == 0 || q.webhook == 0 || q.responses == 0 {
            return invalid("queues", "capacities must be at least 1".into());
        }
        if self.poll_interval_ms == 0 {
            return invalid("poll_interval_ms", "must be at least 1".into());
        }
        if !(-20..=19).contains(&self.nice) {
            return invalid("nice", format!("{} is outside -20..=19", self.nice));
        }
        Ok(())
    }

    /// The baseline actions, parsed (call after [`AgentConfig::validate`]).
    pub fn baseline_actions(&self) -> Vec<Action> {
        self.baseline
            .actions
            .iter()
            .filter_map(|a| a.parse().ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_gives_defaults() {
        let c = AgentConfig::parse("").unwrap();
        assert_eq!(c, AgentConfig::default());
        assert_eq!(c.alerts, "-");
        c.validate().unwrap();
    }

    #[test]
    fn keys_parse_and_unknown_keys_are_rejected() {
        let c = AgentConfig::parse(
            "source: proc-poll\nbaseline:\n  learn_window_secs: 5\n  actions: [alert, kill-process]\nwebhook:\n  url: https://hooks.example/x\n",
        )
        .unwrap();
        assert_eq!(c.source, SourceKind::ProcPoll);
        assert_eq!(c.baseline.learn_window_secs, 5);
        assert!(c.baseline.enabled, "unset keys keep defaults");
        c.validate().unwrap();
        assert_eq!(
            c.baseline_actions(),
            vec![Action::Alert, Action::KillProcess]
        );
        let e = AgentConfig::parse("baseline:\n  learn_windw_secs: 5\n").unwrap_err();
        assert!(e.contains("learn_windw_secs"), "{e}");
    }

    #[test]
    fn webhook_must_be_https_unless_allowed() {
        let mut c = AgentConfig::default();
        c.webhook.url = Some("http://127.0.0.1:9/x".into());
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("webhook.url") && e.contains("plain HTTP"), "{e}");
        c.webhook.allow_http = true;
        c.validate().unwrap();
        c.webhook.url = Some("ftp://x".into());
        assert!(c.validate().is_err());
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut c = AgentConfig::default();
        c.baseline.actions = vec!["nuke".into()];
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("baseline.actions")
        );
        let mut c = AgentConfig::default();
        c.queues.events = 0;
        assert!(c.validate().unwrap_err().to_string().contains("queues"));
        // Linux niceness runs from -20 to 19.
        let mut c = AgentConfig::parse(
            "nice: -21
",
        )
        .unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("nice"));
        c.nice = 19;
        c.validate().unwrap();
        let c = AgentConfig {
            kubernetes: Some(KubernetesConfig {
                api_server: Some("http://x".into()),
                ..KubernetesConfig::default()
            }),
            ..AgentConfig::default()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("kubernetes.api_server")
        );
    }
}
