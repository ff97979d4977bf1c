//! Reading a live cluster instead of files: `--cluster` and its options, flattened into every
//! command that reads an inventory (`scan`, `rbac`, `risk`, `inventory`, `netpol`).
//!
//! Paths and `--cluster` are exclusive: a command reads either manifests or a cluster, so every
//! object has one kind of location (file:line, or cluster and resourceVersion).

use std::path::PathBuf;

use palisade_ingest::{Ingested, Limits};

/// `--cluster [--kubeconfig F] [--context C] [--namespace N]...`.
#[derive(clap::Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Read the live cluster through the Kubernetes API instead of files (kubeconfig from
    /// --kubeconfig, $KUBECONFIG or ~/.kube/config; inside a pod, its service account). Needs
    /// get/list permissions only; Secrets are read by metadata only.
    #[arg(long, conflicts_with = "paths")]
    pub cluster: bool,
    /// With --cluster: the kubeconfig file.
    #[arg(long, value_name = "FILE", requires = "cluster")]
    pub kubeconfig: Option<PathBuf>,
    /// With --cluster: the kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub context: Option<String>,
    /// With --cluster: read namespaced objects of this namespace only (repeatable; default:
    /// all). Cluster-scoped RBAC is always read.
    #[arg(long = "namespace", value_name = "NAMESPACE", requires = "cluster")]
    pub namespaces: Vec<String>,
    /// With --cluster: objects per list request (tests use small pages to exercise paging).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 500,
        requires = "cluster",
        hide = true
    )]
    pub cluster_page_size: u32,
}

impl Default for ClusterArgs {
    fn default() -> Self {
        ClusterArgs {
            cluster: false,
            kubeconfig: None,
            context: None,
            namespaces: Vec::new(),
            cluster_page_size: 500,
        }
    }
}

impl ClusterArgs {
    /// Reads the cluster into an inventory with diagnostics.
    #[cfg(feature = "cluster")]
    pub fn read(&self, limits: Limits) -> anyhow::Result<Ingested> {
        let options = palisade_cluster::ReadOptions {
            source: palisade_cluster::ClusterSource {
                kubeconfig: self.kubeconfig.clone(),
                context: self.context.clone(),
                ..Default::default()
            },
            namespaces: self.namespaces.clone(),
            page_size: self.cluster_page_size,
            limits,
            ..Default::default()
        };
        let read = palisade_cluster::read(&options)?;
        tracing::info!(
            cluster = %read.cluster,
            objects = read.ingested.documents,
            controlled = read.controlled,
            "read the live cluster"
        );
        Ok(read.ingested)
    }

    /// Without the `cluster` feature: an error saying so.
    #[cfg(not(feature = "cluster"))]
    pub fn read(&self, _limits: Limits) -> anyhow::Result<Ingested> {
        anyhow::bail!(
            "this palisade was built without live-cluster support (cargo feature `cluster`)"
        )
    }
}
