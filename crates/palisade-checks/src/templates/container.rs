//! Container security-context templates.

use palisade_model::api::{Container, PodSpec, SeccompProfile};
use serde::Deserialize;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::{ContainerAt, Ctx};

type R = Result<(), String>;

fn sc_bool(
    c: &Container,
    f: impl Fn(&palisade_model::api::SecurityContext) -> Option<bool>,
) -> Option<bool> {
    c.security_context.as_deref().and_then(f)
}

fn pod_of<'a>(c: &ContainerAt<'a>) -> &'a PodSpec {
    &c.workload.spec.pod
}

/// Effective `runAsUser`: the container's, else the pod's.
pub(crate) fn effective_run_as_user(c: &ContainerAt<'_>) -> Option<i64> {
    c.container
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_user)
        .or_else(|| {
            pod_of(c)
                .security_context
                .as_ref()
                .and_then(|s| s.run_as_user)
        })
}

/// Effective `runAsNonRoot`: the container's, else the pod's.
pub(crate) fn effective_run_as_non_root(c: &ContainerAt<'_>) -> Option<bool> {
    sc_bool(c.container, |s| s.run_as_non_root).or_else(|| {
        pod_of(c)
            .security_context
            .as_ref()
            .and_then(|s| s.run_as_non_root)
    })
}

pub(crate) fn privileged(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        if sc_bool(c.container, |s| s.privileged) == Some(true) {
            hits.container(
                &c,
                "securityContext.privileged",
                format!("container {} runs privileged", c.container.name),
            );
        }
    }
    Ok(())
}

pub(crate) fn privilege_escalation(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        if pod_of(&c).is_windows() {
            continue; // a Linux-only setting the API server rejects on Windows pods
        }
        match sc_bool(c.container, |s| s.allow_privilege_escalation) {
            Some(false) => {}
            Some(true) => hits.container(
                &c,
                "securityContext.allowPrivilegeEscalation",
                format!("container {} sets allowPrivilegeEscalation: true", c.container.name),
            ),
            None => hits.container(
                &c,
                "securityContext",
                format!(
                    "container {} does not set allowPrivilegeEscalation: false (it defaults to true)",
                    c.container.name
                ),
            ),
        }
    }
    Ok(())
}

pub(crate) fn run_as_root(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let user = effective_run_as_user(&c);
        let non_root = effective_run_as_non_root(&c);
        if user.is_none() && non_root != Some(true) {
            let detail = if non_root == Some(false) {
                "sets runAsNonRoot: false and no runAsUser"
            } else {
                "sets neither runAsNonRoot: true nor a non-zero runAsUser (pod or container level)"
            };
            hits.container(
                &c,
                "securityContext",
                format!(
                    "container {} may run as root: it {detail}, so the image's USER decides",
                    c.container.name
                ),
            );
        }
    }
    Ok(())
}

pub(crate) fn run_as_user_zero(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        if effective_run_as_user(&c) == Some(0) {
            let own = c
                .container
                .security_context
                .as_ref()
                .and_then(|s| s.run_as_user)
                .is_some();
            let (field, level) = if own {
                ("securityContext.runAsUser", "container")
            } else {
                ("securityContext", "pod")
            };
            let mut msg = format!(
                "container {} runs as UID 0 (runAsUser: 0 at {level} level)",
                c.container.name
            );
            if effective_run_as_non_root(&c) == Some(true) {
                msg.push_str("; with runAsNonRoot: true the kubelet will refuse to start it");
            }
            hits.container(&c, field, msg);
        }
    }
    Ok(())
}

pub(crate) fn read_only_root_fs(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        if pod_of(&c).is_windows() {
            continue; // a Linux-only setting the API server rejects on Windows pods
        }
        if sc_bool(c.container, |s| s.read_only_root_filesystem) != Some(true) {
            hits.container(
                &c,
                "securityContext.readOnlyRootFilesystem",
                format!(
                    "container {} has a writable root filesystem",
                    c.container.name
                ),
            );
        }
    }
    Ok(())
}

/// Normalizes a capability name: upper case, without the `CAP_` prefix.
pub(crate) fn normalize_cap(cap: &str) -> String {
    let up = cap.trim().to_ascii_uppercase();
    up.strip_prefix("CAP_").map(str::to_string).unwrap_or(up)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CapsParams {
    capabilities: Vec<String>,
}

pub(crate) fn capabilities_added(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<CapsParams> = params(check)?;
    if p.capabilities.is_empty() {
        return Err("capabilities must not be empty".into());
    }
    let wanted: Vec<String> = p.capabilities.iter().map(|c| normalize_cap(c)).collect();
    for c in ctx.containers() {
        let Some(caps) = c
            .container
            .security_context
            .as_ref()
            .and_then(|s| s.capabilities.as_ref())
        else {
            continue;
        };
        let mut found: Vec<String> = caps
            .add
            .iter()
            .map(|a| normalize_cap(a))
            .filter(|a| wanted.contains(a))
            .collect();
        found.dedup();
        if !found.is_empty() {
            hits.container(
                &c,
                "securityContext.capabilities.add",
                format!(
                    "container {} adds capabilit{} {}",
                    c.container.name,
                    if found.len() == 1 { "y" } else { "ies" },
                    found.join(", ")
                ),
            );
        }
    }
    Ok(())
}

pub(crate) fn capabilities_not_dropped(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        if pod_of(&c).is_windows() {
            continue; // a Linux-only setting the API server rejects on Windows pods
        }
        let drops_all = c
            .container
            .security_context
            .as_ref()
            .and_then(|s| s.capabilities.as_ref())
            .is_some_and(|caps| caps.drop.iter().any(|d| normalize_cap(d) == "ALL"));
        if !drops_all {
            hits.container(
                &c,
                "securityContext.capabilities.drop",
                format!(
                    "container {} does not drop ALL capabilities (the runtime's default set stays)",
                    c.container.name
                ),
            );
        }
    }
    Ok(())
}

pub(crate) fn proc_mount(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let pm = c
            .container
            .security_context
            .as_ref()
            .and_then(|s| s.proc_mount.as_deref());
        if pm == Some("Unmasked") {
            hits.container(
                &c,
                "securityContext.procMount",
                format!("container {} uses procMount: Unmasked", c.container.name),
            );
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SeccompParams {
    /// Fire only on an explicit `Unconfined` profile; otherwise fire only when no profile is
    /// set (two checks, so one container never gets both).
    #[serde(default)]
    unconfined_only: bool,
}

pub(crate) fn seccomp(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<SeccompParams> = params(check)?;
    for c in ctx.containers() {
        if pod_of(&c).is_windows() {
            continue; // a Linux-only setting the API server rejects on Windows pods
        }
        let own = c
            .container
            .security_context
            .as_ref()
            .and_then(|s| s.seccomp_profile.as_ref());
        let pod = pod_of(&c)
            .security_context
            .as_ref()
            .and_then(|s| s.seccomp_profile.as_ref());
        let effective: Option<&SeccompProfile> = own.or(pod);
        match effective.map(|s| s.type_.as_str()) {
            Some("Unconfined") if p.unconfined_only => hits.container(
                &c,
                "securityContext.seccompProfile",
                format!(
                    "container {} runs with seccomp profile Unconfined",
                    c.container.name
                ),
            ),
            None if !p.unconfined_only => hits.container(
                &c,
                "securityContext.seccompProfile",
                format!(
                    "container {} sets no seccomp profile (pod or container level): it runs Unconfined unless the kubelet enables --seccomp-default",
                    c.container.name
                ),
            ),
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn apparmor(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let own = c
            .container
            .security_context
            .as_ref()
            .and_then(|s| s.app_armor_profile.as_ref());
        let pod = pod_of(&c)
            .security_context
            .as_ref()
            .and_then(|s| s.app_armor_profile.as_ref());
        let field_unconfined = own.or(pod).is_some_and(|p| p.type_ == "Unconfined");
        let key = format!(
            "container.apparmor.security.beta.kubernetes.io/{}",
            c.container.name
        );
        let annotation_unconfined = c
            .workload
            .pod_annotations()
            .get(&key)
            .is_some_and(|v| v == "unconfined");
        if field_unconfined || annotation_unconfined {
            hits.container(
                &c,
                "securityContext.appArmorProfile",
                format!("container {} runs AppArmor-unconfined", c.container.name),
            );
        }
    }
    Ok(())
}

/// SELinux types the Pod Security Standards (baseline) allow.
const ALLOWED_SELINUX_TYPES: [&str; 4] = [
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

pub(crate) fn selinux(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let opts = [
            c.container
                .security_context
                .as_ref()
                .and_then(|s| s.se_linux_options.as_ref()),
            pod_of(&c)
                .security_context
                .as_ref()
                .and_then(|s| s.se_linux_options.as_ref()),
        ];
        for o in opts.into_iter().flatten() {
            let bad_type = o
                .type_
                .as_deref()
                .is_some_and(|t| !t.is_empty() && !ALLOWED_SELINUX_TYPES.contains(&t));
            let custom_user_role = o.user.as_deref().is_some_and(|u| !u.is_empty())
                || o.role.as_deref().is_some_and(|r| !r.is_empty());
            if bad_type || custom_user_role {
                hits.container(
                    &c,
                    "securityContext.seLinuxOptions",
                    format!(
                        "container {} sets custom SELinux options (type outside container_t/container_init_t/container_kvm_t/container_engine_t, or a user/role)",
                        c.container.name
                    ),
                );
                break;
            }
        }
    }
    Ok(())
}

pub(crate) fn windows_host_process(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let own = c
            .container
            .security_context
            .as_ref()
            .and_then(|s| s.windows_options.as_ref())
            .and_then(|w| w.host_process);
        let pod = pod_of(&c)
            .security_context
            .as_ref()
            .and_then(|s| s.windows_options.as_ref())
            .and_then(|w| w.host_process);
        if own.or(pod) == Some(true) {
            hits.container(
                &c,
                "securityContext.windowsOptions.hostProcess",
                format!(
                    "container {} is a Windows HostProcess container (full access to the node)",
                    c.container.name
                ),
            );
        }
    }
    Ok(())
}

pub(crate) fn sudo_in_command(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let words = c.container.command.iter().chain(&c.container.args);
        let uses_sudo = words.flat_map(|w| w.split_whitespace()).any(|w| {
            let base = w.rsplit('/').next().unwrap_or(w);
            base == "sudo" || base == "doas"
        });
        if uses_sudo {
            hits.container(
                &c,
                "command",
                format!(
                    "container {} runs sudo in its command or arguments",
                    c.container.name
                ),
            );
        }
    }
    Ok(())
}
