//! Pod-level templates: host namespaces and paths, ports, sysctls, service accounts, placement.

use palisade_model::api::IntOrString;
use serde::Deserialize;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HostNsParams {
    namespace: String,
}

pub(crate) fn host_namespace(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<HostNsParams> = params(check)?;
    let field = match p.namespace.as_str() {
        "network" => "hostNetwork",
        "pid" => "hostPID",
        "ipc" => "hostIPC",
        other => {
            return Err(format!(
                "namespace must be network, pid or ipc, not {other:?}"
            ));
        }
    };
    for w in ctx.workloads() {
        let pod = &w.spec.pod;
        let on = match field {
            "hostNetwork" => pod.host_network,
            "hostPID" => pod.host_pid,
            _ => pod.host_ipc,
        };
        if on == Some(true) {
            hits.workload(
                w,
                Some(format!("{}.{field}", w.pod_spec_path())),
                format!(
                    "pod shares the node's {} namespace ({field}: true)",
                    p.namespace
                ),
            );
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HostPathParams {
    /// Paths that are sensitive themselves (exact match after normalization).
    #[serde(default)]
    exact: Vec<String>,
    /// Paths that are sensitive with everything below them.
    #[serde(default)]
    prefix: Vec<String>,
    /// Fire only when a container mounts the volume writable.
    #[serde(default)]
    writable_only: bool,
}

/// Normalizes a host path: collapses repeated slashes and `.` segments, drops a trailing slash.
/// `..` segments are resolved lexically (the kubelet rejects them, but a check must not be
/// fooled by them).
pub(crate) fn normalize_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

pub(crate) fn host_path(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<HostPathParams> = params(check)?;
    let exact: Vec<String> = p.exact.iter().map(|s| normalize_path(s)).collect();
    let prefix: Vec<String> = p.prefix.iter().map(|s| normalize_path(s)).collect();
    let filter_paths = !exact.is_empty() || !prefix.is_empty();
    for w in ctx.workloads() {
        let pod = &w.spec.pod;
        for (i, v) in pod.volumes.iter().enumerate() {
            let Some(hp) = &v.host_path else { continue };
            let path = normalize_path(&hp.path);
            if filter_paths {
                let sensitive = exact.contains(&path)
                    || prefix
                        .iter()
                        .any(|pre| path == *pre || path.starts_with(&format!("{pre}/")));
                if !sensitive {
                    continue;
                }
            }
            let writable_by: Vec<&str> = pod
                .all_containers()
                .filter(|(_, c)| {
                    c.volume_mounts
                        .iter()
                        .any(|m| m.name == v.name && m.read_only != Some(true))
                })
                .map(|(_, c)| c.name.as_str())
                .collect();
            if p.writable_only && writable_by.is_empty() {
                continue;
            }
            let mut msg = format!("pod mounts host path {} (volume {})", hp.path, v.name);
            if !writable_by.is_empty() {
                msg.push_str(&format!(", writable in {}", writable_by.join(", ")));
            }
            hits.workload(
                w,
                Some(format!("{}.volumes[{i}].hostPath", w.pod_spec_path())),
                msg,
            );
        }
    }
    Ok(())
}

pub(crate) fn host_port(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        for (i, port) in c.container.ports.iter().enumerate() {
            if let Some(hp) = port.host_port.filter(|p| *p != 0) {
                hits.container(
                    &c,
                    &format!("ports[{i}].hostPort"),
                    format!(
                        "container {} binds host port {hp} on the node",
                        c.container.name
                    ),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn privileged_port(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        // The pod may lower the privileged range with a safe, namespaced sysctl.
        let start = c
            .workload
            .spec
            .pod
            .security_context
            .as_ref()
            .and_then(|sc| {
                sc.sysctls
                    .iter()
                    .find(|s| s.name.replace('/', ".") == "net.ipv4.ip_unprivileged_port_start")
            })
            .and_then(|s| s.value.trim().parse::<i64>().ok())
            .unwrap_or(1024);
        for (i, port) in c.container.ports.iter().enumerate() {
            if (1..start.min(1024)).contains(&port.container_port) {
                hits.container(
                    &c,
                    &format!("ports[{i}].containerPort"),
                    format!(
                        "container {} listens on privileged port {} (needs root or NET_BIND_SERVICE)",
                        c.container.name, port.container_port
                    ),
                );
            }
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SshParams {
    #[serde(default)]
    ports: Vec<i64>,
}

pub(crate) fn ssh_port(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<SshParams> = params(check)?;
    let ports = if p.ports.is_empty() {
        vec![22]
    } else {
        p.ports.clone()
    };
    for c in ctx.containers() {
        for (i, port) in c.container.ports.iter().enumerate() {
            if ports.contains(&port.container_port) {
                hits.container(
                    &c,
                    &format!("ports[{i}].containerPort"),
                    format!(
                        "container {} exposes SSH port {}",
                        c.container.name, port.container_port
                    ),
                );
            }
        }
    }
    for svc in &ctx.inv.services {
        for (i, sp) in svc.spec.ports.iter().enumerate() {
            let target = match &sp.target_port {
                Some(IntOrString::Int(t)) => *t,
                _ => sp.port,
            };
            if ports.contains(&sp.port) || ports.contains(&target) {
                hits.object(
                    svc,
                    Some(format!("spec.ports[{i}]")),
                    format!("Service exposes SSH port {}", sp.port),
                );
            }
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SysctlParams {
    safe: Vec<String>,
}

pub(crate) fn unsafe_sysctls(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<SysctlParams> = params(check)?;
    for w in ctx.workloads() {
        let Some(sc) = &w.spec.pod.security_context else {
            continue;
        };
        for (i, s) in sc.sysctls.iter().enumerate() {
            // Sysctl names may use '/' as separator; both spell the same key.
            let name = s.name.replace('/', ".");
            if !p.safe.contains(&name) {
                hits.workload(
                    w,
                    Some(format!(
                        "{}.securityContext.sysctls[{i}]",
                        w.pod_spec_path()
                    )),
                    format!("pod sets sysctl {} outside the safe set", s.name),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn automount_token(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        let pod = &w.spec.pod;
        let ns = w.namespace().unwrap_or("default");
        let sa_name = pod.effective_service_account();
        let sa_setting = ctx
            .service_account_automount
            .get(&(ns, sa_name))
            .copied()
            .flatten();
        let effective = pod.automount_service_account_token.or(sa_setting);
        if effective != Some(false) {
            let why = match (pod.automount_service_account_token, sa_setting) {
                (Some(true), _) => "the pod sets automountServiceAccountToken: true".to_string(),
                (None, Some(true)) => {
                    format!("service account {sa_name} sets automountServiceAccountToken: true")
                }
                _ => "neither the pod nor its service account disables it (default: mounted)"
                    .to_string(),
            };
            hits.workload(
                w,
                Some(format!(
                    "{}.automountServiceAccountToken",
                    w.pod_spec_path()
                )),
                format!("the service account token of {sa_name} is mounted into the pod: {why}"),
            );
        }
    }
    Ok(())
}

pub(crate) fn default_service_account(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        if w.spec.pod.effective_service_account() == "default" {
            hits.workload(
                w,
                Some(format!("{}.serviceAccountName", w.pod_spec_path())),
                "pod runs as the namespace's default service account".into(),
            );
        }
    }
    Ok(())
}

pub(crate) fn missing_service_account(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        let sa = w.spec.pod.effective_service_account();
        let ns = w.namespace().unwrap_or("default");
        if sa == "default" {
            continue; // created automatically in every namespace
        }
        // Only decidable when the input declares service accounts for this namespace.
        let namespace_declares_sas = ctx.namespaces_with_service_accounts.contains(ns);
        if namespace_declares_sas && !ctx.service_accounts.contains(&(ns, sa)) {
            hits.workload(
                w,
                Some(format!("{}.serviceAccountName", w.pod_spec_path())),
                format!("service account {sa} does not exist in namespace {ns} (the pod will not be created)"),
            );
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NamespaceParams {
    names: Vec<String>,
}

pub(crate) fn namespace_name(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<NamespaceParams> = params(check)?;
    for w in ctx.workloads() {
        let ns = w.namespace().unwrap_or("default");
        if p.names.iter().any(|n| n == ns) {
            let how = if w.meta.namespace.is_none() {
                " (no namespace set: it goes wherever the applying context points, usually default)"
            } else {
                ""
            };
            hits.workload(
                w,
                Some("metadata.namespace".into()),
                format!("workload is in namespace {ns}{how}"),
            );
        }
    }
    Ok(())
}

pub(crate) fn secret_volume_writable(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let pod = &c.workload.spec.pod;
        for (i, m) in c.container.volume_mounts.iter().enumerate() {
            let is_secret = pod.volumes.iter().any(|v| {
                v.name == m.name
                    && (v.secret.is_some()
                        || v.projected
                            .as_ref()
                            .is_some_and(|p| p.sources.iter().any(|s| s.secret.is_some())))
            });
            if is_secret && m.read_only != Some(true) {
                hits.container(
                    &c,
                    &format!("volumeMounts[{i}].readOnly"),
                    format!(
                        "container {} mounts secret volume {} without readOnly: true",
                        c.container.name, m.name
                    ),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn share_process_namespace(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        if w.spec.pod.share_process_namespace == Some(true) {
            hits.workload(
                w,
                Some(format!("{}.shareProcessNamespace", w.pod_spec_path())),
                "containers of the pod share one PID namespace: each can see and signal the others' processes and read their environment and filesystems through /proc".into(),
            );
        }
    }
    Ok(())
}

pub(crate) fn host_users(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        let pod = &w.spec.pod;
        // User namespaces are incompatible with host namespaces; those pods are reported by the
        // host-namespace checks instead.
        let host_ns = pod.host_network == Some(true)
            || pod.host_pid == Some(true)
            || pod.host_ipc == Some(true);
        if pod.host_users != Some(false) && !host_ns {
            hits.workload(
                w,
                Some(format!("{}.hostUsers", w.pod_spec_path())),
                "pod does not run in its own user namespace (hostUsers: false): root in the container is root on the node".into(),
            );
        }
    }
    Ok(())
}

pub(crate) fn node_name(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        // Pods read back from a cluster carry the node the scheduler chose; only templates
        // and pods without an owner express a deliberate pin.
        if w.spec.kind == palisade_model::WorkloadKind::Pod && !w.meta.owner_references.is_empty() {
            continue;
        }
        if let Some(n) = w.spec.pod.node_name.as_deref().filter(|n| !n.is_empty()) {
            hits.workload(
                w,
                Some(format!("{}.nodeName", w.pod_spec_path())),
                format!("pod is pinned to node {n} with nodeName, bypassing the scheduler and its admission checks"),
            );
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReplicaParams {
    minimum: i64,
}

pub(crate) fn single_replica(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<ReplicaParams> = params(check)?;
    use palisade_model::WorkloadKind as K;
    for w in ctx.workloads() {
        if !matches!(w.spec.kind, K::Deployment | K::StatefulSet | K::ReplicaSet) {
            continue;
        }
        // An autoscaler in the input manages the count; replicas defaults to 1 otherwise.
        let ns = w.namespace().unwrap_or("default");
        if ctx
            .autoscaled
            .contains(&(ns, w.kind.clone(), w.meta.name.clone()))
        {
            continue;
        }
        let replicas = w.spec.replicas.unwrap_or(1);
        if replicas < p.minimum {
            hits.workload(
                w,
                Some("spec.replicas".into()),
                format!("{} runs {replicas} replica(s); fewer than {} means downtime on every node drain or crash", w.kind, p.minimum),
            );
        }
    }
    Ok(())
}

pub(crate) fn missing_owner(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    use palisade_model::ownership::{OWNER_KEYS, declared_owner};
    for w in ctx.workloads() {
        let ns_owner = w
            .namespace()
            .and_then(|ns| ctx.namespace_meta(ns))
            .and_then(declared_owner)
            .is_some();
        if declared_owner(&w.meta).is_none()
            && declared_owner(&w.spec.pod_meta).is_none()
            && !ns_owner
        {
            hits.workload(
                w,
                Some("metadata.labels".into()),
                format!(
                    "no owner: neither the workload, its pods nor its namespace carry one of the labels or annotations {}",
                    OWNER_KEYS.join(", ")
                ),
            );
        }
    }
    Ok(())
}

pub(crate) fn workload_selector_mismatch(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        let Some(sel) = &w.spec.selector else {
            continue;
        };
        match sel.matches(w.pod_labels()) {
            Ok(true) => {}
            Ok(false) => hits.workload(
                w,
                Some("spec.selector".into()),
                format!("{} selector does not match its own pod template labels: the API server rejects it, or the controller never sees its pods", w.kind),
            ),
            Err(e) => hits.workload(w, Some("spec.selector".into()), format!("{} selector is invalid: {e}", w.kind)),
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KnownImageParams {
    /// Repository paths (after the registry) that identify the component.
    #[serde(default)]
    repositories: Vec<String>,
    /// Registries all of whose images identify it (a frozen registry, for example).
    #[serde(default)]
    registries: Vec<String>,
    /// What the component is, for the message.
    component: String,
}

pub(crate) fn known_image(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<KnownImageParams> = params(check)?;
    for c in ctx.containers() {
        let Some(image) = c.container.image.as_deref() else {
            continue;
        };
        let Ok(r) = palisade_model::ImageRef::parse(image) else {
            continue;
        };
        let repository = p
            .repositories
            .iter()
            .any(|repo| r.repository == *repo || r.repository.ends_with(&format!("/{repo}")));
        if repository || p.registries.contains(&r.registry) {
            hits.container(
                &c,
                "image",
                format!(
                    "container {} runs {} ({image})",
                    c.container.name, p.component
                ),
            );
        }
    }
    Ok(())
}
