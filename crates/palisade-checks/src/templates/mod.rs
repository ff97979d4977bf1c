//! Check templates: each evaluates a family of checks, parameterised by a catalog entry.
//!
//! A template reads the [`Ctx`] and reports [`Hit`]s; the engine adds the catalog metadata and
//! applies exceptions. Templates never put Secret or environment values in messages.

mod availability;
mod container;
mod control_plane;
mod env;
mod gateway;
mod hygiene;
mod image;
mod network;
mod objects;
mod platform;
mod pod;
mod rbac;
mod rbac_bindings;
mod references;
mod resources;
mod runtime;
mod service;
mod volumes;

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
    pub container: Option<Arc<str>>,
    pub image: Option<String>,
    pub path: Option<Arc<str>>,
    pub message: String,
    /// Check IDs/names the object's ignore annotation lists, with the stated reason.
    pub ignore: Option<(Vec<String>, String)>,
    /// This hit's severity when the template decides it (else the check's).
    pub severity: Option<palisade_model::Severity>,
}

/// Collects hits for one check.
pub(crate) struct Hits<'c> {
    hits: Vec<Hit>,
    ctx: &'c Ctx<'c>,
    /// Whether hits name their container's image (only exceptions scoped to images read it).
    images: bool,
    /// The last object hit, by address, with its shared reference: a template reports the
    /// hits of one object together, and the look-up in `ctx` is a cache miss in a large
    /// inventory.
    last: Option<(usize, Arc<ObjectRef>)>,
    /// Paths and container names already given to a hit: a check's hits repeat few distinct
    /// ones (37 paths among 210,000 findings of the 10,000-workload benchmark), held once.
    shared: foldhash::HashSet<Arc<str>>,
}

impl<'c> Hits<'c> {
    /// No hits yet; object references come from `ctx`.
    pub fn new(ctx: &'c Ctx<'c>) -> Self {
        Hits {
            hits: Vec::new(),
            ctx,
            images: true,
            last: None,
            shared: foldhash::HashSet::default(),
        }
    }

    /// `text`, shared with the earlier hits that carry the same.
    fn share(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.shared.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        self.shared.insert(Arc::clone(&shared));
        shared
    }

    /// Hits that leave out their container's image (when no exception reads it).
    pub fn without_images(mut self) -> Self {
        self.images = false;
        self
    }

    /// The shared reference to `r`.
    fn reference<S>(&mut self, r: &Resource<S>) -> Arc<ObjectRef> {
        let at = crate::context::address(r);
        if let Some((last, shared)) = &self.last
            && *last == at
        {
            return Arc::clone(shared);
        }
        let shared = self.ctx.reference(r);
        self.last = Some((at, Arc::clone(&shared)));
        shared
    }

    pub fn into_inner(self) -> Vec<Hit> {
        self.hits
    }

    /// A hit on a whole object.
    pub fn object<S>(&mut self, res: &Resource<S>, path: Option<String>, message: String) {
        let object = self.reference(res);
        let path = path.map(|p| self.share(&p));
        self.hits.push(Hit {
            object,
            container: None,
            image: None,
            path,
            message,
            ignore: ignore_of(&res.meta.annotations, None),
            severity: None,
        });
    }

    /// A hit on a workload (its pod template annotations may also carry ignores).
    pub fn workload(&mut self, w: &Workload, path: Option<String>, message: String) {
        let object = self.reference(w);
        let path = path.map(|p| self.share(&p));
        self.hits.push(Hit {
            object,
            container: None,
            image: None,
            path,
            message,
            ignore: ignore_of(&w.meta.annotations, Some(w.pod_annotations())),
            severity: None,
        });
    }

    /// A hit on one container; `field` is appended to the container's path.
    pub fn container(&mut self, c: &ContainerAt<'_>, field: &str, message: String) {
        let mut path = c.path();
        if !field.is_empty() {
            path.push('.');
            path.push_str(field);
        }
        let object = self.reference(c.workload);
        let path = self.share(&path);
        let container = self.share(&c.container.name);
        self.hits.push(Hit {
            object,
            container: Some(container),
            image: if self.images {
                c.container.image.clone()
            } else {
                None
            },
            path: Some(path),
            message,
            ignore: ignore_of(
                &c.workload.meta.annotations,
                Some(c.workload.pod_annotations()),
            ),
            severity: None,
        });
    }

    /// Sets the severity of the last hit (a template that decides it per hit).
    pub fn with_severity(&mut self, severity: palisade_model::Severity) {
        if let Some(hit) = self.hits.last_mut() {
            hit.severity = Some(severity);
        }
    }
}

fn ignore_of(
    a: &palisade_model::Labels,
    b: Option<&palisade_model::Labels>,
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

/// One template: its name in the catalog, its function, and the two facts the engine and the
/// admission webhook schedule by. Every answer about a template derives from [`TEMPLATES`].
pub(crate) struct Template {
    /// The name catalog entries give in `template:`.
    pub name: &'static str,
    /// Evaluates one check of the template.
    pub run: RunFn,
    /// Whether the template's checks decide on the object alone (see [`crate::scope`]).
    pub scope: Scope,
    /// Whether the template reads the NetworkPolicy facts ([`Ctx::netpol`]).
    pub reads_network_facts: bool,
}

/// What a template's checks read besides the object they report on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Only the object it reports on (plus image facts handed to the engine).
    Object,
    /// Other objects of the cluster: must not run on a single admitted object.
    Cluster,
}

/// Builds [`TEMPLATES`] from groups `(scope, reads network facts) module::{function [as
/// name], …};` (a template is named after its function unless `as` names it).
macro_rules! templates {
    ($(($scope:ident, $facts:literal) $module:ident::{$($f:ident $(as $name:ident)?),+};)+) => {
        &[$($(Template {
            name: templates!(@name $f $($name)?),
            run: $module::$f,
            scope: Scope::$scope,
            reads_network_facts: $facts,
        },)+)+]
    };
    (@name $f:ident) => { stringify!($f) };
    (@name $f:ident $name:ident) => { stringify!($name) };
}

/// Every template, grouped by (scope, whether it reads NetworkPolicy facts). Why each
/// cluster-scoped template needs the cluster is documented in [`crate::scope`].
pub(crate) const TEMPLATES: &[Template] = templates! {
    (Object, false) container::{privileged, privilege_escalation, run_as_root, run_as_user_zero,
        read_only_root_fs, capabilities_added, capabilities_not_dropped, proc_mount, seccomp,
        apparmor, selinux, windows_host_process, sudo_in_command};
    (Object, false) pod::{host_namespace, host_path, host_port, privileged_port, unsafe_sysctls,
        default_service_account, namespace_name, secret_volume_writable, ssh_port,
        share_process_namespace, host_users, node_name, workload_selector_mismatch, known_image};
    (Cluster, false) pod::{automount_token, missing_service_account, single_replica, missing_owner};
    (Object, false) env::{env_secret_ref, env_secret_literal, env_duplicate};
    (Object, false) resources::{probe_missing, probe_port_unknown};
    (Cluster, false) resources::{resource_missing};
    (Object, false) image::{image_tag, image_digest, image_registry, image_signature,
        image_vulnerabilities, image_notorious, image_pull_policy};
    (Object, true) network::{netpol_broad};
    (Cluster, false) network::{namespace_without_netpol, dangling_netpol};
    (Cluster, true) network::{netpol_no_default_deny, netpol_unprotected};
    (Object, false) service::{service_type, deprecated_api, service_external_ips, loadbalancer_open,
        ingress_without_tls};
    (Cluster, false) service::{dangling_service, service_port_mismatch, dangling_ingress};
    (Object, false) rbac::{wildcard as rbac_wildcard, binding_to_role as rbac_binding_to_role,
        binding_to_group as rbac_binding_to_group, grants as rbac_grants,
        binding_to_service_account as rbac_binding_to_service_account};
    (Cluster, false) rbac::{binding_missing_role as rbac_binding_missing_role};
    (Object, false) objects::{legacy_sa_token_secret, configmap_sensitive_key};
    (Object, false) runtime::{runtime_image, runtime_allowlist};
    (Object, false) control_plane::{control_plane_flag, control_plane_admission_plugin,
        control_plane_tls_ciphers};
    (Cluster, false) control_plane::{control_plane_etcd_unique_ca};
    (Object, false) marker::{custom};
    (Object, false) availability::{pdb_eviction_policy, hpa_replicas, replicas_not_spread,
        rollout_full_outage, job_ttl_missing, bare_pod_restart_never, naked_pod};
    (Cluster, false) availability::{pdb_missing, pdb_zero_disruptions, pdb_above_hpa_minimum,
        priority_class_unset};
    (Cluster, false) references::{dangling_hpa, dangling_netpol_peer, env_ref_missing,
        dangling_servicemonitor};
    (Cluster, false) rbac_bindings::{binding_grants, binding_wildcard};
    (Object, false) hygiene::{deprecated_service_account, dns_ndots, required_metadata};
    (Object, false) gateway::{gateway_plain_http, gateway_tls_without_certificate,
        gateway_routes_from_all};
    (Cluster, false) gateway::{route_cross_namespace_backend, dangling_route_backend,
        gateway_cross_namespace_certificate};
    (Object, false) gateway::{route_any_host};
    (Object, false) platform::{ingress_annotation, webhook_fails_open};
    (Object, false) volumes::{mount_propagation, projected_token_lifetime};
};

/// The template called `name`.
pub(crate) fn template(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

/// Custom checks are evaluated by the engine with their predicate; the template name only
/// marks them.
mod marker {
    use super::{CheckDef, Ctx, Hits};

    pub(super) fn custom(_: &CheckDef, _: &Ctx<'_>, _: &mut Hits) -> Result<(), String> {
        Ok(())
    }
}

/// Validates a check definition against its template (unknown template, bad params).
pub(crate) fn validate(check: &CheckDef) -> Result<(), CatalogError> {
    let Some(template) = template(&check.template) else {
        return Err(CatalogError::UnknownTemplate {
            id: check.id.clone(),
            template: check.template.clone(),
        });
    };
    // Run on an empty inventory: parameter errors surface without objects.
    let inv = palisade_model::Inventory::default();
    let ctx = Ctx::new(&inv);
    (template.run)(check, &ctx, &mut Hits::new(&ctx)).map_err(|message| CatalogError::Params {
        id: check.id.clone(),
        message,
    })
}

/// Whether a template reads the NetworkPolicy facts ([`Ctx::netpol`]).
pub(crate) fn uses_network_facts(name: &str) -> bool {
    template(name).is_some_and(|t| t.reads_network_facts)
}

/// Runs one check. Parameter errors were caught at catalog validation.
pub(crate) fn run(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) {
    if let Some(t) = template(&check.template) {
        let _ = (t.run)(check, ctx, hits);
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
        let path = path.map(|p| self.share(&p));
        self.hits.push(Hit {
            object: Arc::new(object),
            container: None,
            image: None,
            path,
            message,
            ignore: meta.and_then(|m| ignore_of(&m.annotations, None)),
            severity: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;

    #[test]
    fn template_names_are_unique() {
        let mut names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a template is listed twice");
    }

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
