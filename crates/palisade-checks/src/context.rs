//! What templates see: the inventory plus indexes built once per scan.

use std::collections::{BTreeMap, HashSet};

use palisade_model::api::{Container, ContainerKind};
use palisade_model::{Inventory, Workload};

/// Evaluation context shared by every template in one scan.
pub struct Ctx<'a> {
    /// The inventory being checked.
    pub inv: &'a Inventory,
    /// `(namespace, name)` of every ServiceAccount in the inventory.
    pub service_accounts: HashSet<(&'a str, &'a str)>,
    /// Number of NetworkPolicies per namespace.
    pub policies_per_namespace: BTreeMap<&'a str, usize>,
    /// Whether the inventory holds any ServiceAccount at all (checks about missing service
    /// accounts cannot decide on inputs that carry none).
    pub has_service_accounts: bool,
    /// Per namespace, the container resources a LimitRange defaults: `("limits", "cpu")` for
    /// `default.cpu`, `("requests", "memory")` for `defaultRequest.memory`.
    pub limit_range_defaults: BTreeMap<&'a str, HashSet<(&'static str, String)>>,
    /// `(namespace, kind, name)` of workloads that a HorizontalPodAutoscaler scales.
    pub autoscaled: HashSet<(&'a str, String, String)>,
}

impl<'a> Ctx<'a> {
    /// Builds the indexes for `inv`.
    pub fn new(inv: &'a Inventory) -> Ctx<'a> {
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
        let mut limit_range_defaults: BTreeMap<&str, HashSet<(&'static str, String)>> =
            BTreeMap::new();
        let mut autoscaled = HashSet::new();
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
        Ctx {
            inv,
            service_accounts,
            policies_per_namespace,
            has_service_accounts: !inv.service_accounts.is_empty(),
            limit_range_defaults,
            autoscaled,
        }
    }

    /// Workloads to check: every workload except those managed by another listed workload (a
    /// ReplicaSet of a listed Deployment is checked through the Deployment).
    pub fn workloads(&self) -> impl Iterator<Item = &'a Workload> + '_ {
        self.inv
            .workloads
            .iter()
            .filter(|w| !self.inv.is_owned_by_listed_workload(w))
    }

    /// Every container of every checked workload, with its field path.
    pub fn containers(&self) -> impl Iterator<Item = ContainerAt<'a>> + '_ {
        self.workloads().flat_map(|w| {
            let base = w.pod_spec_path();
            let mut counters = [0usize; 3];
            w.spec.pod.all_containers().map(move |(kind, c)| {
                let (list, slot) = match kind {
                    ContainerKind::Init => ("initContainers", 0),
                    ContainerKind::Regular => ("containers", 1),
                    ContainerKind::Ephemeral => ("ephemeralContainers", 2),
                };
                let index = counters[slot];
                counters[slot] += 1;
                ContainerAt {
                    workload: w,
                    container: c,
                    kind,
                    path: format!("{base}.{list}[{index}]"),
                }
            })
        })
    }
}

/// A container with its workload and field path.
pub struct ContainerAt<'a> {
    /// The workload.
    pub workload: &'a Workload,
    /// The container.
    pub container: &'a Container,
    /// Which list it is in.
    pub kind: ContainerKind,
    /// Field path, e.g. `spec.template.spec.containers[1]`.
    pub path: String,
}
