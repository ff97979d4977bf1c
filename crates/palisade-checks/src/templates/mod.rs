//! Check templates: each evaluates a family of checks, parameterised by a catalog entry.
//!
//! A template reads the [`Ctx`] and reports [`Hit`]s; the engine adds the catalog metadata and
//! applies exceptions. Templates never put Secret or environment values in messages.

mod container;
mod env;
mod image;
mod network;
mod objects;
mod pod;
mod rbac;
mod resources;
mod service;

use std::sync::Arc;

use palisade_model::inventory::Resource;
use palisade_model::{ObjectRef, Workload};
use serde::de::DeserializeOwned;

use crate::catalog::{CatalogError, CheckDef};
use crate::context::{ContainerAt, Ctx};
use crate::exceptions::{ANNOTATION_IGNORE, ANNOTATION_IGNORE_REASON, ignore_list};

/// One raw result of a template.
#[derive(Debug)]
pub(crate) struct Hit {
    pub object: Arc<ObjectRef>,
    pub container: Option<String>,
    pub image: Option<String>,
    pub path: Option<String>,
    pub message: String,
    /// Check IDs/names the object's ignore annotation lists, with the stated reason.
    pub ignore: Option<(Vec<String>, String)>,
}

/// Collects hits for one check.
pub(crate) struct Hits<'c> {
    hits: Vec<Hit>,
    ctx: &'c Ctx<'c>,
}

impl<'c> Hits<'c> {
    /// No hits yet; object references come from `ctx`.
    pub fn new(ctx: &'c Ctx<'c>) -> Self {
        Hits {
            hits: Vec::new(),
            ctx,
        }
    }

    pub fn into_inner(self) -> Vec<Hit> {
        self.hits
    }

    /// A hit on a whole object.
    pub fn object<S>(&mut self, res: &Resource<S>, path: Option<String>, message: String) {
        self.hits.push(Hit {
            object: self.ctx.reference(res),
            container: None,
            image: None,
            path,
            message,
            ignore: ignore_of(&res.meta.annotations, None),
        });
    }

    /// A hit on a workload (its pod template annotations may also carry ignores).
    pub fn workload(&mut self, w: &Workload, path: Option<String>, message: String) {
        self.hits.push(Hit {
            object: self.ctx.reference(w),
            container: None,
            image: None,
            path,
            message,
            ignore: ignore_of(&w.meta.annotations, Some(w.pod_annotations())),
        });
    }

    /// A hit on one container; `field` is appended to the container's path.
    pub fn container(&mut self, c: &ContainerAt<'_>, field: &str, message: String) {
        let path = if field.is_empty() {
            c.path.clone()
        } else {
            format!("{}.{field}", c.path)
        };
        self.hits.push(Hit {
            object: self.ctx.reference(c.workload),
            container: Some(c.container.name.clone()),
            image: c.container.image.clone(),
            path: Some(path),
            message,
            ignore: ignore_of(
                &c.workload.meta.annotations,
                Some(c.workload.pod_annotations()),
            ),
        });
    }
}

fn ignore_of(
    a: &std::collections::BTreeMap<String, String>,
    b: Option<&std::collections::BTreeMap<String, String>>,
) -> Option<(Vec<String>, String)> {
    let mut ids = Vec::new();
    let mut reason = String::new();
    for map in std::iter::once(a).chain(b) {
        if let Some(v) = map.get(ANNOTATION_IGNORE) {
            ids.extend(ignore_list(v));
            if let Some(r) = map.get(ANNOTATION_IGNORE_REASON) {
                reason = r.clone();
            }
        }
    }
    if ids.is_empty() {
        None
    } else {
        if reason.is_empty() {
            reason = "(no reason given)".into();
        }
        Some((ids, reason))
    }
}

/// Parses a check's params for its template.
pub(crate) fn params<T: DeserializeOwned + Default + Send + Sync + 'static>(
    check: &CheckDef,
) -> Result<std::sync::Arc<T>, String> {
    check.parsed_params.get_or_parse(|| {
        if check.params.is_null() {
            return Ok(T::default());
        }
        T::deserialize(&check.params).map_err(|e| e.to_string())
    })
}

type RunFn = fn(&CheckDef, &Ctx<'_>, &mut Hits) -> Result<(), String>;

/// Every template by name.
fn lookup(name: &str) -> Option<RunFn> {
    Some(match name {
        "privileged" => container::privileged,
        "privilege_escalation" => container::privilege_escalation,
        "run_as_root" => container::run_as_root,
        "run_as_user_zero" => container::run_as_user_zero,
        "read_only_root_fs" => container::read_only_root_fs,
        "capabilities_added" => container::capabilities_added,
        "capabilities_not_dropped" => container::capabilities_not_dropped,
        "proc_mount" => container::proc_mount,
        "seccomp" => container::seccomp,
        "apparmor" => container::apparmor,
        "selinux" => container::selinux,
        "host_namespace" => pod::host_namespace,
        "host_path" => pod::host_path,
        "host_port" => pod::host_port,
        "privileged_port" => pod::privileged_port,
        "unsafe_sysctls" => pod::unsafe_sysctls,
        "automount_token" => pod::automount_token,
        "default_service_account" => pod::default_service_account,
        "missing_service_account" => pod::missing_service_account,
        "namespace_name" => pod::namespace_name,
        "secret_volume_writable" => pod::secret_volume_writable,
        "ssh_port" => pod::ssh_port,
        "env_secret_ref" => env::env_secret_ref,
        "env_secret_literal" => env::env_secret_literal,
        "env_duplicate" => env::env_duplicate,
        "resource_missing" => resources::resource_missing,
        "probe_missing" => resources::probe_missing,
        "probe_port_unknown" => resources::probe_port_unknown,
        "image_tag" => image::image_tag,
        "image_digest" => image::image_digest,
        "image_registry" => image::image_registry,
        "image_signature" => image::image_signature,
        "image_vulnerabilities" => image::image_vulnerabilities,
        "image_notorious" => image::image_notorious,
        "image_pull_policy" => image::image_pull_policy,
        "namespace_without_netpol" => network::namespace_without_netpol,
        "dangling_netpol" => network::dangling_netpol,
        "service_type" => service::service_type,
        "dangling_service" => service::dangling_service,
        "service_port_mismatch" => service::service_port_mismatch,
        "dangling_ingress" => service::dangling_ingress,
        "deprecated_api" => service::deprecated_api,
        "rbac_wildcard" => rbac::wildcard,
        "rbac_binding_to_role" => rbac::binding_to_role,
        "rbac_binding_to_group" => rbac::binding_to_group,
        "rbac_grants" => rbac::grants,
        "custom" => custom_placeholder,
        "rbac_binding_to_service_account" => rbac::binding_to_service_account,
        "rbac_binding_missing_role" => rbac::binding_missing_role,
        "windows_host_process" => container::windows_host_process,
        "sudo_in_command" => container::sudo_in_command,
        "share_process_namespace" => pod::share_process_namespace,
        "host_users" => pod::host_users,
        "node_name" => pod::node_name,
        "single_replica" => pod::single_replica,
        "missing_owner" => pod::missing_owner,
        "workload_selector_mismatch" => pod::workload_selector_mismatch,
        "known_image" => pod::known_image,
        "service_external_ips" => service::service_external_ips,
        "loadbalancer_open" => service::loadbalancer_open,
        "ingress_without_tls" => service::ingress_without_tls,
        "netpol_broad" => network::netpol_broad,
        "netpol_no_default_deny" => network::netpol_no_default_deny,
        "netpol_unprotected" => network::netpol_unprotected,
        "legacy_sa_token_secret" => objects::legacy_sa_token_secret,
        "configmap_sensitive_key" => objects::configmap_sensitive_key,
        _ => return None,
    })
}

/// Custom checks are evaluated by the engine with their predicate; the template name only
/// marks them.
fn custom_placeholder(_: &CheckDef, _: &Ctx<'_>, _: &mut Hits) -> Result<(), String> {
    Ok(())
}

/// Validates a check definition against its template (unknown template, bad params).
pub(crate) fn validate(check: &CheckDef) -> Result<(), CatalogError> {
    let Some(run_fn) = lookup(&check.template) else {
        return Err(CatalogError::UnknownTemplate {
            id: check.id.clone(),
            template: check.template.clone(),
        });
    };
    // Run on an empty inventory: parameter errors surface without objects.
    let inv = palisade_model::Inventory::default();
    let ctx = Ctx::new(&inv);
    run_fn(check, &ctx, &mut Hits::new(&ctx)).map_err(|message| CatalogError::Params {
        id: check.id.clone(),
        message,
    })
}

/// Whether a template reads the NetworkPolicy facts ([`Ctx::netpol`]).
pub(crate) fn uses_network_facts(template: &str) -> bool {
    matches!(
        template,
        "netpol_no_default_deny" | "netpol_unprotected" | "netpol_broad"
    )
}

/// Runs one check. Parameter errors were caught at catalog validation.
pub(crate) fn run(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) {
    if let Some(f) = lookup(&check.template) {
        let _ = f(check, ctx, hits);
    }
}

impl Hits<'_> {
    /// A hit on an object known by reference and metadata.
    pub fn push_ref(
        &mut self,
        object: ObjectRef,
        meta: Option<&palisade_model::ObjectMeta>,
        path: Option<String>,
        message: String,
    ) {
        self.hits.push(Hit {
            object: Arc::new(object),
            container: None,
            image: None,
            path,
            message,
            ignore: meta.and_then(|m| ignore_of(&m.annotations, None)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;

    /// The engine schedules the checks that read NetworkPolicy facts after deriving them; a
    /// template that reads them without being listed would still be right, only slower, and
    /// one listed without reading them would wait for nothing. Both are caught here.
    #[test]
    fn network_fact_readers_are_exactly_the_listed_templates() {
        let inv = palisade_ingest::ingest_str(
            "cluster.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\n\
             spec:\n  podSelector: {}\n  ingress:\n  - {}\n---\n\
             apiVersion: v1\nkind: Pod\nmetadata: {name: w, namespace: a}\n\
             spec:\n  containers:\n  - name: c\n    image: nginx\n",
        )
        .inventory;
        for check in Catalog::builtin().checks() {
            let ctx = Ctx::new(&inv);
            run(check, &ctx, &mut Hits::new(&ctx));
            assert_eq!(
                ctx.netpol_derived(),
                uses_network_facts(&check.template),
                "{} (template {})",
                check.id,
                check.template
            );
        }
    }
}
