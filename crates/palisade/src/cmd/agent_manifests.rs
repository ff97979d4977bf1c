//! `palisade agent manifests`: the DaemonSet (hostPID, the capabilities the agent needs and no
//! other, read-only root filesystem, limits, tolerations), its ServiceAccount, least RBAC and
//! NetworkPolicies, from one template (`agent_manifests.yaml`). What `palisade scan` reports on
//! them is what a node agent must accept; each is suppressed on its object with the reason.

use std::process::ExitCode;

use anyhow::bail;

const TEMPLATE: &str = include_str!("agent_manifests.yaml");

/// Arguments of `agent manifests`.
#[derive(clap::Args, Debug)]
pub struct ManifestArgs {
    /// Namespace the agent runs in.
    #[arg(long, short = 'n', default_value = "palisade-system")]
    pub namespace: String,
    /// Container image of palisade.
    #[arg(long, default_value = concat!("palisade:", env!("CARGO_PKG_VERSION")))]
    pub image: String,
    /// Who answers for the agent (the `palisade.dev/owner` label).
    #[arg(long, default_value = "security")]
    pub owner: String,
    /// Report to central at URL (`https://host:port`), with the token and CA of the Secret
    /// `palisade-agent-central` (keys `token`, `ca.pem`).
    #[arg(long, value_name = "URL", requires = "cluster")]
    pub central: Option<String>,
    /// With --central: the cluster's name in central.
    #[arg(long, value_name = "NAME", requires = "central")]
    pub cluster: Option<String>,
    /// Also grant what the `restart-workload` response needs: get on ReplicaSets, get and
    /// patch on Deployments, StatefulSets and DaemonSets (cluster-wide, so off by default).
    #[arg(long)]
    pub restart_workload: bool,
}

/// The ClusterRole's exception when `--restart-workload` grants patch on workloads.
const RESTART_ANNOTATIONS: &str = "
  annotations:
    palisade.dev/ignore: PAL-086
    palisade.dev/ignore-reason: >-
      PAL-086 patch on Deployments, StatefulSets and DaemonSets: the restart-workload response
      is a rollout restart, a merge patch of the pod template's restartedAt annotation; asked
      for with --restart-workload only.";

/// The ClusterRole rules `--restart-workload` adds.
const RESTART_RULES: &str = "
  - apiGroups: [apps]
    resources: [replicasets]
    verbs: [get]
  - apiGroups: [apps]
    resources: [deployments, statefulsets, daemonsets]
    verbs: [get, patch]";

/// A value that goes into the YAML as it is: names, label values, image references and URLs
/// only (no spaces, quotes, braces, commas or comment signs).
fn plain<'a>(what: &str, value: &'a str) -> anyhow::Result<&'a str> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/:@".contains(c));
    if !ok {
        bail!("--{what} {value:?}: only letters, digits and - . _ / : @ are allowed");
    }
    Ok(value)
}

/// The manifests as YAML.
pub fn render(a: &ManifestArgs) -> anyhow::Result<String> {
    let (args, port, mount, volume) = match (&a.central, &a.cluster) {
        (Some(url), Some(cluster)) => {
            let url = plain("central", url)?;
            let Some(host) = url.strip_prefix("https://") else {
                bail!("--central {url:?}: central's URL must start with https://");
            };
            let port = match host.trim_end_matches('/').rsplit_once(':') {
                Some((_, p)) => p
                    .parse::<u16>()
                    .map_err(|_| anyhow::anyhow!("--central {url:?}: the port is not a number"))?,
                None => 443,
            };
            (
                format!(
                    ", --central, \"{url}\", --cluster, \"{}\", --token-file, /etc/palisade/central/token, --ca-cert, /etc/palisade/central/ca.pem",
                    plain("cluster", cluster)?
                ),
                port,
                "\n            - {name: central, mountPath: /etc/palisade/central, readOnly: true}",
                "\n        - name: central\n          secret: {secretName: palisade-agent-central, defaultMode: 0400}",
            )
        }
        _ => (String::new(), 443, "", ""),
    };
    Ok(TEMPLATE
        .replace("{namespace}", plain("namespace", &a.namespace)?)
        .replace("{image}", plain("image", &a.image)?)
        .replace("{owner}", plain("owner", &a.owner)?)
        .replace("{central_args}", &args)
        .replace("{central_port}", &port.to_string())
        .replace("{central_mount}", mount)
        .replace("{central_volume}", volume)
        .replace(
            "{restart_annotations}",
            if a.restart_workload {
                RESTART_ANNOTATIONS
            } else {
                ""
            },
        )
        .replace(
            "{restart_rules}",
            if a.restart_workload {
                RESTART_RULES
            } else {
                ""
            },
        ))
}

/// Prints the manifests.
pub fn print(a: &ManifestArgs) -> anyhow::Result<ExitCode> {
    print!("{}", render(a)?);
    Ok(ExitCode::SUCCESS)
}
