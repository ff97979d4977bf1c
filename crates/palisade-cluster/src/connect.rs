//! Finding the cluster: a kubeconfig (`--kubeconfig`, else `$KUBECONFIG`, else
//! `~/.kube/config`; `--context` or its current context) or, when there is none and no context
//! was asked for, the in-cluster service account.

use std::path::PathBuf;

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
}

/// The name in-cluster configuration is known by.
pub const IN_CLUSTER: &str = "in-cluster";

/// A client for the cluster and the cluster's name (the context's, or [`IN_CLUSTER`]).
pub async fn connect(source: &ClusterSource) -> Result<(Client, String), ClusterError> {
    let config_error = |e: &dyn std::fmt::Display| ClusterError::Config(e.to_string());
    let kubeconfig = match &source.kubeconfig {
        Some(path) => Some(Kubeconfig::read_from(path).map_err(|e| {
            ClusterError::Config(format!("reading kubeconfig {}: {e}", path.display()))
        })?),
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
            let options = KubeConfigOptions {
                context: Some(name.clone()),
                ..Default::default()
            };
            let config = Config::from_custom_kubeconfig(k, &options)
                .await
                .map_err(|e| config_error(&e))?;
            (config, name)
        }
        None => {
            let config = Config::incluster().map_err(|e| {
                ClusterError::Config(format!(
                    "no kubeconfig ($KUBECONFIG, ~/.kube/config) and not in a cluster: {e}"
                ))
            })?;
            (config, IN_CLUSTER.to_string())
        }
    };
    let client = Client::try_from(config).map_err(|e| config_error(&e))?;
    Ok((client, name))
}
