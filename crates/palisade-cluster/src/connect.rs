//! Finding the cluster: a kubeconfig (`--kubeconfig`, else `$KUBECONFIG`, else
//! `~/.kube/config`; `--context` or its current context) or, when there is none and no context
//! was asked for, the in-cluster service account ([`InCluster`]: `KUBERNETES_SERVICE_HOST` and
//! `KUBERNETES_SERVICE_PORT`, the token, CA and namespace files of a directory).

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::ClusterError;

/// Where to find the cluster and the credentials.
#[derive(Debug, Clone, Default)]
pub struct ClusterSource {
    /// A kubeconfig file (default: `$KUBECONFIG`, else `~/.kube/config`, else in-cluster).
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    pub context: Option<String>,
    /// The in-cluster service account, used when there is no kubeconfig, or at once when it
    /// names its API server.
    pub in_cluster: InCluster,
}

/// Where a pod finds its service account: the API server from the environment (or given),
/// the credentials in a directory (or given files).
#[derive(Debug, Clone)]
pub struct InCluster {
    /// The directory of `token`, `ca.crt` and `namespace` (default
    /// [`SERVICE_ACCOUNT_DIR`]; tests point it at a temporary directory).
    pub dir: PathBuf,
    /// The API server URL; default `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`.
    /// When given, no kubeconfig is looked for.
    pub server: Option<String>,
    /// The bearer token file (default `DIR/token` when it exists; re-read as it rotates).
    pub token_file: Option<PathBuf>,
    /// The CA bundle (PEM) of the API server (default `DIR/ca.crt` when it exists; else the
    /// system roots).
    pub ca_file: Option<PathBuf>,
}

/// Where Kubernetes mounts a pod's service-account credentials.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

impl Default for InCluster {
    fn default() -> Self {
        InCluster {
            dir: PathBuf::from(SERVICE_ACCOUNT_DIR),
            server: None,
            token_file: None,
            ca_file: None,
        }
    }
}

/// The name in-cluster configuration is known by.
pub const IN_CLUSTER: &str = "in-cluster";

/// A client for the cluster and the cluster's name (the context's, or [`IN_CLUSTER`]).
pub async fn connect(source: &ClusterSource) -> Result<(Client, String), ClusterError> {
    let (config, name) = config(source).await?;
    let client = Client::try_from(config).map_err(|e| ClusterError::Config(e.to_string()))?;
    Ok((client, name))
}

/// The client configuration [`connect`] uses, and the cluster's name.
pub async fn config(source: &ClusterSource) -> Result<(Config, String), ClusterError> {
    let config_error = |e: &dyn std::fmt::Display| ClusterError::Config(e.to_string());
    let kubeconfig = match &source.kubeconfig {
        Some(path) => Some(Kubeconfig::read_from(path).map_err(|e| {
            ClusterError::Config(format!("reading kubeconfig {}: {e}", path.display()))
        })?),
        None if source.in_cluster.server.is_some() => None,
        None => match Kubeconfig::read() {
            Ok(k) => Some(k),
            Err(e) if source.context.is_some() => return Err(config_error(&e)),
            Err(_) => None,
        },
    };
    let (config, name) = match kubeconfig {
        Some(k) => {
            let name = source
                .context
                .clone()
                .or_else(|| k.current_context.clone())
                .ok_or_else(|| {
                    ClusterError::Config(
                        "the kubeconfig has no current context: give --context".into(),
                    )
                })?;
            (from_kubeconfig(k, &name).await?, name)
        }
        None => (
            in_cluster_config(&source.in_cluster).await?,
            IN_CLUSTER.to_string(),
        ),
    };
    Ok((config, name))
}

async fn from_kubeconfig(k: Kubeconfig, context: &str) -> Result<Config, ClusterError> {
    let options = KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    Config::from_custom_kubeconfig(k, &options)
        .await
        .map_err(|e| ClusterError::Config(e.to_string()))
}

/// The configuration of an in-cluster client: the service account of `sa` written as a
/// one-context kubeconfig in memory, so kube-rs reads the CA and keeps re-reading the token
/// file as it does for any kubeconfig.
pub async fn in_cluster_config(sa: &InCluster) -> Result<Config, ClusterError> {
    let not_in_cluster = |what: String| {
        ClusterError::Config(format!(
            "no kubeconfig ($KUBECONFIG, ~/.kube/config) and not in a cluster: {what}"
        ))
    };
    let server = match &sa.server {
        Some(s) => s.clone(),
        None => {
            let var = |name: &str| {
                std::env::var(name).map_err(|_| not_in_cluster(format!("{name} is not set")))
            };
            let host = var("KUBERNETES_SERVICE_HOST")?;
            let port = var("KUBERNETES_SERVICE_PORT")?;
            match host.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V6(ip)) => format!("https://[{ip}]:{port}"),
                _ => format!("https://{host}:{port}"),
            }
        }
    };
    let existing = |given: &Option<PathBuf>, default: &str| -> Option<PathBuf> {
        given
            .clone()
            .or_else(|| Some(sa.dir.join(default)).filter(|p| p.is_file()))
    };
    let token_file = existing(&sa.token_file, "token");
    let ca_file = existing(&sa.ca_file, "ca.crt");
    let namespace = read_namespace(&sa.dir.join("namespace"));
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": IN_CLUSTER, "cluster": {"server": server, "certificate-authority": path(&ca_file)}}],
        "users": [{"name": IN_CLUSTER, "user": {"tokenFile": path(&token_file)}}],
        "contexts": [{"name": IN_CLUSTER, "context": {"cluster": IN_CLUSTER, "user": IN_CLUSTER, "namespace": namespace}}],
        "current-context": IN_CLUSTER,
    });
    let kubeconfig: Kubeconfig =
        serde_json::from_value(doc).map_err(|e| not_in_cluster(e.to_string()))?;
    let mut config = from_kubeconfig(kubeconfig, IN_CLUSTER).await?;
    // As kube-rs does in a pod: the CA file is re-read, so a rotated CA is picked up.
    config.root_cert_file = ca_file;
    Ok(config)
}

fn read_namespace(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.trim().to_string()).filter(|s| !s.is_empty())
}
