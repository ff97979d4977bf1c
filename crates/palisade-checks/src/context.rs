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
        Ctx {
            inv,
            service_accounts,
            policies_per_namespace,
            has_service_accounts: !inv.service_accounts.is_empty(),
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
