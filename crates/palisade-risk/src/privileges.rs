//! Privileges a workload's pods ask for, read from the pod spec.

use palisade_model::api::PodSpec;
use serde::Serialize;

/// Linux capabilities that give (near) root on the node or other containers when added (those
/// in the container runtimes' default set, such as `CHOWN` or `NET_RAW`, are not listed).
pub const DANGEROUS_CAPABILITIES: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "DAC_READ_SEARCH",
    "NET_ADMIN",
    "BPF",
    "PERFMON",
    "SYS_TIME",
    "SYSLOG",
];

/// Host paths that are a way onto the node when mounted writable.
pub const SENSITIVE_HOST_PATHS: &[&str] = &[
    "/",
    "/etc",
    "/root",
    "/home",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/run",
    "/run",
    "/var/run/docker.sock",
    "/run/containerd",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
];

/// One privilege a pod asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Privilege {
    /// `securityContext.privileged: true`.
    Privileged {
        /// Container name.
        container: String,
    },
    /// `hostPID: true`.
    HostPid,
    /// `hostIPC: true`.
    HostIpc,
    /// `hostNetwork: true`.
    HostNetwork,
    /// Dangerous capabilities added.
    Capabilities {
        /// Container name.
        container: String,
        /// The dangerous ones, upper case without `CAP_`.
        added: Vec<String>,
    },
    /// A hostPath volume mounted without `readOnly`.
    WritableHostPath {
        /// Container name.
        container: String,
        /// The host path.
        path: String,
        /// Whether it is one of [`SENSITIVE_HOST_PATHS`] (or below `/proc`, `/sys`, `/etc`).
        sensitive: bool,
    },
    /// `allowPrivilegeEscalation: true` set explicitly.
    AllowPrivilegeEscalation {
        /// Container name.
        container: String,
    },
    /// Runs as UID 0 explicitly (`runAsUser: 0`).
    RunAsRoot {
        /// Container name.
        container: String,
    },
}

fn normalize_cap(c: &str) -> String {
    let up = c.trim().to_ascii_uppercase();
    up.strip_prefix("CAP_").map(str::to_string).unwrap_or(up)
}

fn is_sensitive(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    let p = if p.is_empty() { "/" } else { p };
    SENSITIVE_HOST_PATHS.contains(&p)
        || ["/proc/", "/sys/", "/etc/", "/var/lib/kubelet/", "/dev/"]
            .iter()
            .any(|pre| p.starts_with(pre))
        || p.ends_with(".sock")
}

/// Every privilege `pod` asks for, pod-level first, then per container in API order.
pub fn privileges(pod: &PodSpec) -> Vec<Privilege> {
    let mut out = Vec::new();
    if pod.host_pid == Some(true) {
        out.push(Privilege::HostPid);
    }
    if pod.host_ipc == Some(true) {
        out.push(Privilege::HostIpc);
    }
    if pod.host_network == Some(true) {
        out.push(Privilege::HostNetwork);
    }
    let pod_uid = pod.security_context.as_ref().and_then(|s| s.run_as_user);
    for (_, c) in pod.all_containers() {
        let sc = c.security_context.as_ref();
        let name = c.name.clone();
        if sc.and_then(|s| s.privileged) == Some(true) {
            out.push(Privilege::Privileged {
                container: name.clone(),
            });
        }
        let added: Vec<String> = sc
            .and_then(|s| s.capabilities.as_ref())
            .map(|caps| {
                caps.add
                    .iter()
                    .map(|a| normalize_cap(a))
                    .filter(|a| DANGEROUS_CAPABILITIES.contains(&a.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        if !added.is_empty() {
            out.push(Privilege::Capabilities {
                container: name.clone(),
                added,
            });
        }
        for m in &c.volume_mounts {
            if m.read_only == Some(true) {
                continue;
            }
            let Some(hp) = pod
                .volumes
                .iter()
                .find(|v| v.name == m.name)
                .and_then(|v| v.host_path.as_ref())
            else {
                continue;
            };
            out.push(Privilege::WritableHostPath {
                container: name.clone(),
                path: hp.path.clone(),
                sensitive: is_sensitive(&hp.path),
            });
        }
        if sc.and_then(|s| s.allow_privilege_escalation) == Some(true) {
            out.push(Privilege::AllowPrivilegeEscalation {
                container: name.clone(),
            });
        }
        if sc.and_then(|s| s.run_as_user).or(pod_uid) == Some(0) {
            out.push(Privilege::RunAsRoot { container: name });
        }
    }
    out
}
