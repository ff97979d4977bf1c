//! What templates see: the inventory plus indexes built once per scan.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use foldhash::{HashMap as FastMap, HashSet as FastSet};

/// The kinds of [`palisade_model::Inventory::others`] that built-in checks read (besides the
/// API-version checks, which read every object). Objects of other kinds there are analysed by
/// custom checks only, and a scan says so.
pub const OTHER_KINDS_READ: [&str; 15] = [
    "LimitRange",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "ServiceMonitor",
    "Gateway",
    "HTTPRoute",
    "GRPCRoute",
    "TLSRoute",
    "TCPRoute",
    "UDPRoute",
    "ReferenceGrant",
    "VirtualService",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "PriorityClass",
];

use palisade_model::api::{Container, ContainerKind};
use palisade_model::inventory::{DEFAULT_NAMESPACE, Resource, Role, RoleBinding};
use palisade_model::{Inventory, ObjectMeta, ObjectRef, Workload};

use rayon::prelude::*;

use crate::images::ImagePolicy;

/// The kind of a cluster-wide role: a binding finds it by name alone.
const CLUSTER_ROLE: &str = "ClusterRole";

/// Identity of an inventory object while the inventory is borrowed (it cannot move or be
/// freed meanwhile, so no two live objects share an address).
pub(crate) fn address<S>(r: &Resource<S>) -> usize {
    std::ptr::from_ref(r) as usize
}

/// Shared object references by object address.
type References = HashMap<usize, Arc<ObjectRef>, AddressHash>;

/// Hashes object addresses: one multiplication instead of SipHash (the keys are addresses
/// of inventory objects, not input an attacker chooses, and a finding looks one up each).
#[derive(Default, Clone, Copy)]
struct AddressHash;

impl std::hash::BuildHasher for AddressHash {
    type Hasher = AddressHasher;

    fn build_hasher(&self) -> AddressHasher {
        AddressHasher(0)
    }
}

/// The hasher of [`AddressHash`].
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        // Fibonacci hashing; the high half folded down so the low bits (which pick the
        // bucket) depend on every bit of the address.
        let h = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = n as u64;
    }
}

/// Evaluation context shared by every template in one scan.
pub struct Ctx<'a> {
    /// The inventory being checked.
    pub inv: &'a Inventory,
    /// `(namespace, name)` of every ServiceAccount in the inventory.
    pub service_accounts: FastSet<(&'a str, &'a str)>,
    /// Number of NetworkPolicies per namespace.
    pub policies_per_namespace: BTreeMap<&'a str, usize>,
    /// Whether the inventory holds any ServiceAccount at all (checks about missing service
    /// accounts cannot decide on inputs that carry none).
    pub has_service_accounts: bool,
    /// Per namespace, the container resources a LimitRange defaults: `("limits", "cpu")` for
    /// `default.cpu`, `("requests", "memory")` for `defaultRequest.memory`.
    pub limit_range_defaults: BTreeMap<&'a str, FastSet<(&'static str, String)>>,
    /// `(namespace, kind, name)` of workloads that a HorizontalPodAutoscaler scales.
    pub autoscaled: FastSet<(&'a str, String, String)>,
    /// Workloads per namespace (all of them, owned ones included), in input order.
    pub workloads_by_namespace: FastMap<&'a str, Vec<&'a Workload>>,
    /// `automountServiceAccountToken` of each ServiceAccount by `(namespace, name)`.
    pub service_account_automount: FastMap<(&'a str, &'a str), Option<bool>>,
    /// Namespaces that declare at least one ServiceAccount.
    pub namespaces_with_service_accounts: FastSet<&'a str>,
    /// The workloads to check (see [`Ctx::workloads`]), found once: every workload check
    /// iterates them.
    checked: Vec<&'a Workload>,
    /// Metadata of every Namespace by name and of every NetworkPolicy by `(namespace, name)`
    /// (the first of duplicates), so [`Ctx::meta_of`] is a look-up, not a scan per finding.
    metas: FastMap<(&'static str, &'a str, &'a str), &'a ObjectMeta>,
    /// Roles by `(kind, namespace, name)`, ClusterRoles with no namespace (the first of
    /// duplicates), so [`Ctx::bound_role`] is a look-up, not a scan of every role per binding.
    roles: FastMap<(&'a str, Option<&'a str>, &'a str), &'a Role>,
    /// NetworkPolicy facts from the network engine, computed on first use.
    pub(crate) netpol: OnceLock<palisade_netpol::PolicyFacts>,
    /// Positions in `checked` of the workloads with a container that runs a control-plane
    /// component, found on first use (see [`Ctx::control_plane_containers`]). Positions, not
    /// references: a cell of references would make `Ctx` invariant in `'a`.
    control_plane: OnceLock<Vec<usize>>,
    /// The reference findings carry for each inventory object, keyed by the object's address:
    /// built once, so the many findings about one object share one reference.
    references: References,
    /// Image policy and facts for the image checks.
    pub images: &'a ImagePolicy,
    /// What runtime agents learned, for the runtime checks (`None`: they find nothing).
    pub runtime: Option<&'a palisade_runtime::policy::RuntimePolicy>,
}

impl<'a> Ctx<'a> {
    /// Builds the indexes for `inv` with the default image policy and no image facts.
    pub fn new(inv: &'a Inventory) -> Ctx<'a> {
        static DEFAULT_IMAGES: OnceLock<ImagePolicy> = OnceLock::new();
        Ctx::with_images(inv, DEFAULT_IMAGES.get_or_init(ImagePolicy::default))
    }

    /// Builds the indexes for `inv`; image checks apply `images`.
    pub fn with_images(inv: &'a Inventory, images: &'a ImagePolicy) -> Ctx<'a> {
        let service_accounts = inv
            .service_accounts
            .iter()
            .filter_map(|sa| Some((sa.namespace()?, sa.meta.name.as_str())))
            .collect();
        let mut policies_per_namespace = BTreeMap::new();
        for p in &inv.network_policies {
            if let Some(ns) = p.namespace() {
                *policies_per_namespace.entry(ns).or_default() += 1;
            }
        }
        let mut limit_range_defaults: BTreeMap<&str, FastSet<(&'static str, String)>> =
            BTreeMap::new();
        let mut autoscaled = FastSet::default();
        for o in &inv.others {
            let Some(ns) = o.namespace() else { continue };
            match o.kind.as_str() {
                "LimitRange" => {
                    let limits = o.raw.pointer("/spec/limits").and_then(|l| l.as_array());
                    for item in limits.into_iter().flatten() {
                        if item.get("type").and_then(|t| t.as_str()) != Some("Container") {
                            continue;
                        }
                        // `default` sets limits; `defaultRequest` sets requests; a default limit
                        // also becomes the request when no defaultRequest is given.
                        for (field, sections) in [
                            ("default", &["limits", "requests"][..]),
                            ("defaultRequest", &["requests"][..]),
                        ] {
                            let keys = item.get(field).and_then(|d| d.as_object());
                            for key in keys.into_iter().flat_map(|m| m.keys()) {
                                for section in sections {
                                    limit_range_defaults
                                        .entry(ns)
                                        .or_default()
                                        .insert((section, key.clone()));
                                }
                            }
                        }
                    }
                }
                "HorizontalPodAutoscaler" => {
                    let target = o.raw.pointer("/spec/scaleTargetRef");
                    let kind = target.and_then(|t| t.get("kind")).and_then(|k| k.as_str());
                    let name = target.and_then(|t| t.get("name")).and_then(|k| k.as_str());
                    if let (Some(kind), Some(name)) = (kind, name) {
                        autoscaled.insert((ns, kind.to_string(), name.to_string()));
                    }
                }
                _ => {}
            }
        }
        let mut workloads_by_namespace: FastMap<&str, Vec<&Workload>> = FastMap::default();
        for w in &inv.workloads {
            let ns = w.namespace().unwrap_or(DEFAULT_NAMESPACE);
            workloads_by_namespace.entry(ns).or_default().push(w);
        }
        let checked = inv.top_level_workloads();
        let service_account_automount = inv
            .service_accounts
            .iter()
            .filter_map(|sa| {
                Some((
                    (sa.namespace()?, sa.meta.name.as_str()),
                    sa.spec.automount_token,
                ))
            })
            .collect();
        let namespaces_with_service_accounts = inv
            .service_accounts
            .iter()
            .filter_map(|sa| sa.namespace())
            .collect();
        let mut metas = FastMap::with_capacity_and_hasher(
            inv.namespaces.len() + inv.network_policies.len(),
            Default::default(),
        );
        for ns in &inv.namespaces {
            metas
                .entry(("Namespace", "", ns.meta.name.as_str()))
                .or_insert(&ns.meta);
        }
        for p in &inv.network_policies {
            if let Some(ns) = p.namespace() {
                metas
                    .entry(("NetworkPolicy", ns, p.meta.name.as_str()))
                    .or_insert(&p.meta);
            }
        }
        let mut roles = FastMap::with_capacity_and_hasher(inv.roles.len(), Default::default());
        for role in &inv.roles {
            let ns = if role.kind == CLUSTER_ROLE {
                None
            } else {
                role.namespace()
            };
            roles
                .entry((role.kind.as_str(), ns, role.meta.name.as_str()))
                .or_insert(role);
        }
        let mut references = HashMap::with_capacity_and_hasher(inv.object_count(), AddressHash);
        // The references are made on every core (hundreds of thousands of them in a large
        // cluster), then indexed.
        fn add<S: Sync>(to: &mut References, items: &[Resource<S>]) {
            let made: Vec<(usize, Arc<ObjectRef>)> = items
                .par_iter()
                .map(|r| (address(r), Arc::new(r.object_ref())))
                .collect();
            to.extend(made);
        }
        add(&mut references, &inv.namespaces);
        add(&mut references, &inv.workloads);
        add(&mut references, &inv.services);
        add(&mut references, &inv.ingresses);
        add(&mut references, &inv.network_policies);
        add(&mut references, &inv.service_accounts);
        add(&mut references, &inv.roles);
        add(&mut references, &inv.role_bindings);
        add(&mut references, &inv.secrets);
        add(&mut references, &inv.config_maps);
        add(&mut references, &inv.others);
        Ctx {
            inv,
            references,
            service_accounts,
            policies_per_namespace,
            has_service_accounts: !inv.service_accounts.is_empty(),
            limit_range_defaults,
            autoscaled,
            workloads_by_namespace,
            service_account_automount,
            namespaces_with_service_accounts,
            checked,
            metas,
            roles,
            netpol: OnceLock::new(),
            control_plane: OnceLock::new(),
            images,
            runtime: None,
        }
    }

    /// Workloads to check: every workload except those managed by another listed workload (a
    /// ReplicaSet of a listed Deployment is checked through the Deployment).
    pub fn workloads(&self) -> impl Iterator<Item = &'a Workload> + '_ {
        self.checked.iter().copied()
    }

    /// The shared reference to `r` (a fresh one for an object outside the inventory).
    pub fn reference<S>(&self, r: &Resource<S>) -> Arc<ObjectRef> {
        match self.references.get(&address(r)) {
            Some(shared) => Arc::clone(shared),
            None => Arc::new(r.object_ref()),
        }
    }

    /// The role a binding's `roleRef` names, if the input holds it: a ClusterRole by name, any
    /// other kind by name in the binding's namespace (the first of duplicates).
    pub(crate) fn bound_role(&self, b: &RoleBinding) -> Option<&'a Role> {
        let r = &b.spec.role_ref;
        let ns = if r.kind == CLUSTER_ROLE {
            None
        } else {
            b.namespace()
        };
        self.roles
            .get(&(r.kind.as_str(), ns, r.name.as_str()))
            .copied()
    }

    /// Whether the NetworkPolicy facts have been derived (tests of the scheduling).
    #[cfg(test)]
    pub(crate) fn netpol_derived(&self) -> bool {
        self.netpol.get().is_some()
    }

    /// NetworkPolicy facts (isolation, default-deny, broad rules) from `palisade-netpol`, the one
    /// place NetworkPolicy semantics live.
    pub fn netpol(&self) -> &palisade_netpol::PolicyFacts {
        self.netpol.get_or_init(|| palisade_netpol::facts(self.inv))
    }

    /// The metadata of the object a reference names (for ignore annotations), if it is a
    /// workload, NetworkPolicy or Namespace of the inventory.
    pub fn meta_of(&self, r: &palisade_model::ObjectRef) -> Option<&'a palisade_model::ObjectMeta> {
        let ns = r.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE);
        match r.kind.as_str() {
            "Namespace" => self.namespace_meta(&r.name),
            "NetworkPolicy" => self
                .metas
                .get(&("NetworkPolicy", ns, r.name.as_str()))
                .copied(),
            _ => self
                .workloads_in(ns)
                .iter()
                .find(|w| w.kind == r.kind && w.meta.name == r.name)
                .map(|w| &w.meta),
        }
    }

    /// Metadata of the Namespace object called `name` (the first of duplicates), looked up
    /// in the index rather than by a scan of every Namespace (a check asking once per
    /// workload would otherwise grow with workloads × namespaces).
    pub fn namespace_meta(&self, name: &str) -> Option<&'a ObjectMeta> {
        self.metas.get(&("Namespace", "", name)).copied()
    }

    /// Every object with its reference, metadata and raw form (for custom checks).
    pub fn all_objects(&self) -> Vec<(ObjectRef, &'a ObjectMeta, &'a serde_json::Value)> {
        fn add<'a, S>(
            out: &mut Vec<(ObjectRef, &'a ObjectMeta, &'a serde_json::Value)>,
            items: &'a [palisade_model::inventory::Resource<S>],
        ) {
            for r in items {
                if !r.raw.is_null() {
                    out.push((r.object_ref(), &r.meta, &*r.raw));
                }
            }
        }
        let inv = self.inv;
        let mut out = Vec::new();
        add(&mut out, &inv.namespaces);
        add(&mut out, &inv.workloads);
        add(&mut out, &inv.services);
        add(&mut out, &inv.ingresses);
        add(&mut out, &inv.network_policies);
        add(&mut out, &inv.service_accounts);
        add(&mut out, &inv.roles);
        add(&mut out, &inv.role_bindings);
        add(&mut out, &inv.secrets);
        add(&mut out, &inv.config_maps);
        add(&mut out, &inv.others);
        out
    }

    /// Workloads in namespace `ns` (owned ones included).
    pub fn workloads_in(&self, ns: &str) -> &[&'a Workload] {
        self.workloads_by_namespace
            .get(ns)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Workloads whose pods a Service selects (same namespace, `spec.selector` ⊆ pod labels).
    pub fn service_targets(&self, svc: &palisade_model::Service) -> Vec<&'a Workload> {
        let ns = svc.namespace().unwrap_or(DEFAULT_NAMESPACE);
        self.workloads_in(ns)
            .iter()
            .copied()
            .filter(|w| palisade_model::selector::map_selects(&svc.spec.selector, w.pod_labels()))
            .collect()
    }

    /// The containers of [`Ctx::containers`] that run a control-plane component, as
    /// `runs_component` (the control-plane template's test) tells, collected by the first
    /// caller: the fifty-odd control-plane checks then read this short list instead of each
    /// walking every container of the cluster.
    pub(crate) fn control_plane_containers(
        &self,
        runs_component: impl Fn(&Container) -> bool + Copy + 'a,
    ) -> impl Iterator<Item = ContainerAt<'a>> + '_ {
        let positions = self.control_plane.get_or_init(|| {
            (0..self.checked.len())
                .filter(|&i| {
                    let pod = &self.checked[i].spec.pod;
                    pod.all_containers().any(|(_, c)| runs_component(c))
                })
                .collect()
        });
        positions.iter().flat_map(move |&i| {
            containers_of(self.checked[i]).filter(move |c| runs_component(c.container))
        })
    }

    /// Every container of every checked workload, with its field path.
    pub fn containers(&self) -> impl Iterator<Item = ContainerAt<'a>> + '_ {
        self.workloads().flat_map(containers_of)
    }
}

/// The containers of `w`, with their field paths.
fn containers_of(w: &Workload) -> impl Iterator<Item = ContainerAt<'_>> {
    let mut counters = [0usize; 3];
    w.spec.pod.all_containers().map(move |(kind, c)| {
        let slot = match kind {
            ContainerKind::Init => 0,
            ContainerKind::Regular => 1,
            ContainerKind::Ephemeral => 2,
        };
        let index = counters[slot];
        counters[slot] += 1;
        ContainerAt {
            workload: w,
            container: c,
            kind,
            index,
        }
    })
}

/// A container with its workload and its place in the pod template.
pub struct ContainerAt<'a> {
    /// The workload.
    pub workload: &'a Workload,
    /// The container.
    pub container: &'a Container,
    /// Which list it is in.
    pub kind: ContainerKind,
    /// Its position in that list.
    pub index: usize,
}

impl ContainerAt<'_> {
    /// Field path, e.g. `spec.template.spec.containers[1]` (made when a hit needs it: most
    /// containers pass most checks).
    pub fn path(&self) -> String {
        let list = match self.kind {
            ContainerKind::Init => "initContainers",
            ContainerKind::Regular => "containers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        };
        format!("{}.{list}[{}]", self.workload.pod_spec_path(), self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::Ctx;

    /// A workload is left out of the checked ones when a workload of the owner reference's kind
    /// and name is listed in its own namespace; an owner that is not listed, or listed in
    /// another namespace, leaves it in. The workloads kept stay in input order.
    #[test]
    fn checked_workloads_leave_out_those_whose_owner_is_listed_in_their_namespace() {
        let owned = |kind: &str, name: &str, namespace: &str, owner: (&str, &str)| {
            format!(
                "apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  \
                 ownerReferences: [{{apiVersion: apps/v1, kind: {}, name: {}, uid: u}}]\n\
                 spec: {{template: {{spec: {{containers: [{{name: c, image: i}}]}}}}, \
                 containers: [{{name: c, image: i}}]}}\n",
                owner.0, owner.1
            )
        };
        let yaml = [
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\n\
             spec: {template: {spec: {containers: [{name: c, image: i}]}}}\n"
                .to_string(),
            owned("ReplicaSet", "web-1", "a", ("Deployment", "web")),
            owned("Pod", "web-1-x", "a", ("ReplicaSet", "web-1")),
            owned("Pod", "stray", "a", ("ReplicaSet", "gone")),
            owned("Pod", "other-namespace", "b", ("ReplicaSet", "web-1")),
            owned("Pod", "wrong-kind", "a", ("StatefulSet", "web-1")),
        ]
        .join("---\n");
        let inv = palisade_ingest::ingest_str("owned.yaml", &yaml).inventory;
        let names = |ws: Vec<&palisade_model::Workload>| -> Vec<String> {
            ws.iter().map(|w| w.meta.name.clone()).collect()
        };
        let expected = ["web", "stray", "other-namespace", "wrong-kind"];
        assert_eq!(names(inv.top_level_workloads()), expected);
        let ctx = Ctx::new(&inv);
        assert_eq!(names(ctx.workloads().collect()), expected);
    }

    #[test]
    fn a_binding_finds_its_role_by_kind_name_and_namespace_the_first_of_duplicates() {
        let yaml = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: a, labels: {n: first}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: a, labels: {n: second}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: to-role, namespace: a}
roleRef: {kind: Role, name: reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: elsewhere, namespace: b}
roleRef: {kind: Role, name: reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: to-cluster-role, namespace: b}
roleRef: {kind: ClusterRole, name: reader, apiGroup: rbac.authorization.k8s.io}
";
        let inv = palisade_ingest::ingest_str("rbac.yaml", yaml).inventory;
        let ctx = Ctx::new(&inv);
        let found: Vec<Option<(&str, Option<&str>)>> = inv
            .role_bindings
            .iter()
            .map(|b| {
                ctx.bound_role(b)
                    .map(|r| (r.kind.as_str(), r.meta.labels.get("n").map(String::as_str)))
            })
            .collect();
        assert_eq!(
            found,
            [
                Some(("Role", Some("first"))),
                None,
                Some(("ClusterRole", None))
            ]
        );
    }

    #[test]
    fn a_namespace_is_found_by_name_the_first_of_duplicates() {
        let yaml = "\
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {n: first}}
---
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {n: second}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
";
        let inv = palisade_ingest::ingest_str("ns.yaml", yaml).inventory;
        let ctx = Ctx::new(&inv);
        let label = |name: &str| {
            ctx.namespace_meta(name)
                .map(|m| m.labels.get("n").map(String::as_str))
        };
        assert_eq!(label("a"), Some(Some("first")));
        assert_eq!(label("b"), Some(None));
        assert_eq!(label("c"), None);
    }

    #[test]
    fn control_plane_containers_are_those_of_checked_workloads_that_run_a_component() {
        let yaml = "\
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: kube-system}
spec:
  initContainers: [{name: init, image: busybox}]
  containers:
  - {name: app, image: nginx}
  - {name: apiserver, image: k8s/kube-apiserver, command: [kube-apiserver, --v=2]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers: [{name: web, image: nginx, args: [serve]}]
";
        let inv = palisade_ingest::ingest_str("pods.yaml", yaml).inventory;
        let ctx = Ctx::new(&inv);
        let runs_apiserver = |c: &palisade_model::api::Container| {
            c.command.first().is_some_and(|w| w == "kube-apiserver")
        };
        let found: Vec<(String, String)> = ctx
            .control_plane_containers(runs_apiserver)
            .map(|c| (c.container.name.clone(), c.path()))
            .collect();
        let expected: Vec<(String, String)> = ctx
            .containers()
            .filter(|c| runs_apiserver(c.container))
            .map(|c| (c.container.name.clone(), c.path()))
            .collect();
        assert_eq!(found, expected);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "apiserver");
    }
}
