//! The endpoints the analysis reasons about: namespaces (with their labels) and workloads (with
//! their pod-template labels and named container ports).

use std::collections::{BTreeMap, HashMap};

use palisade_model::inventory::NAMESPACE_NAME_LABEL;
use palisade_model::{
    Diagnostic, DiagnosticLevel, Inventory, Labels, ObjectRef, Workload, WorkloadId,
};

use crate::ports::Protocol;

/// Named container ports of a pod: name -> (protocol, number) pairs.
pub type NamedPorts = BTreeMap<String, Vec<(Protocol, u16)>>;

/// A namespace as the analysis sees it.
#[derive(Debug, Clone)]
pub struct NamespaceInfo {
    /// Name.
    pub name: String,
    /// Labels, always including `kubernetes.io/metadata.name`.
    pub labels: Labels,
}

/// A workload (group of identical pods) as the analysis sees it.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    /// Identity.
    pub id: WorkloadId,
    /// Index into [`Universe::namespaces`].
    pub namespace: usize,
    /// Pod labels.
    pub labels: &'a Labels,
    /// Named container ports.
    pub named_ports: NamedPorts,
    /// The workload object.
    pub workload: &'a Workload,
}

/// A warning for each Namespace declared again with labels different from its first
/// declaration: the analysis merges them (a later declaration's value wins for a key both
/// set), which is neither copy as the cluster holds it.
pub(crate) fn duplicate_namespaces(inventory: &Inventory, out: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, &palisade_model::Namespace> = HashMap::new();
    for ns in &inventory.namespaces {
        match first.get(ns.meta.name.as_str()) {
            None => {
                first.insert(&ns.meta.name, ns);
            }
            Some(f) if f.meta.labels != ns.meta.labels => out.push(
                Diagnostic::object(
                    DiagnosticLevel::Warning,
                    ns.object_ref(),
                    Some("metadata.labels".into()),
                    format!(
                        "Namespace {} is declared again with different labels (first at {})",
                        ns.meta.name, f.source
                    ),
                )
                .with_effect(
                    "namespaceSelectors are evaluated on the merged labels (a later declaration's value wins for a key both set)",
                ),
            ),
            Some(_) => {}
        }
    }
}

/// Namespaces and workloads of an inventory.
#[derive(Debug, Clone)]
pub struct Universe<'a> {
    /// Every namespace (declared, implied, or used by a workload).
    pub namespaces: Vec<NamespaceInfo>,
    /// Every workload that is not managed by another listed workload (a ReplicaSet owned by a
    /// listed Deployment is represented by the Deployment).
    pub members: Vec<Member<'a>>,
    ns_index: HashMap<String, usize>,
}

impl<'a> Universe<'a> {
    /// Builds the universe. Namespaces missing from `inventory.namespaces` (when
    /// [`Inventory::finalize`] was not called) are added with their name label.
    pub fn new(inventory: &'a Inventory) -> Universe<'a> {
        let mut u = Universe {
            namespaces: Vec::new(),
            members: Vec::new(),
            ns_index: HashMap::new(),
        };
        for ns in &inventory.namespaces {
            let idx = u.namespace_index(&ns.meta.name);
            for (k, v) in &ns.meta.labels {
                u.namespaces[idx].labels.insert(k.clone(), v.clone());
            }
        }
        for w in inventory.top_level_workloads() {
            let ns_name = w.namespace().unwrap_or("default").to_string();
            let namespace = u.namespace_index(&ns_name);
            u.members.push(Member {
                id: WorkloadId::new(ns_name, w.kind.clone(), w.name()),
                namespace,
                labels: w.pod_labels(),
                named_ports: named_ports(w),
                workload: w,
            });
        }
        u
    }

    /// Index of the namespace called `name`, adding it when unknown.
    pub(crate) fn namespace_index(&mut self, name: &str) -> usize {
        if let Some(&i) = self.ns_index.get(name) {
            return i;
        }
        let i = self.namespaces.len();
        let mut labels = Labels::new();
        labels.insert(NAMESPACE_NAME_LABEL.to_string(), name.to_string());
        self.namespaces.push(NamespaceInfo {
            name: name.to_string(),
            labels,
        });
        self.ns_index.insert(name.to_string(), i);
        i
    }

    /// Index of the namespace called `name`, if known.
    pub fn find_namespace(&self, name: &str) -> Option<usize> {
        self.ns_index.get(name).copied()
    }

    /// Finds a workload by `namespace/name` or `namespace/Kind/name`.
    pub fn find_workload(&self, spec: &str) -> Result<usize, LookupError> {
        let parts: Vec<&str> = spec.split('/').collect();
        let (ns, kind, name) = match parts.as_slice() {
            [ns, name] => (*ns, None, *name),
            [ns, kind, name] => (*ns, Some(*kind), *name),
            _ => return Err(LookupError::Syntax(spec.to_string())),
        };
        let hits: Vec<usize> = self
            .members
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.id.namespace == ns
                    && e.id.name == name
                    && kind.is_none_or(|k| e.id.kind.eq_ignore_ascii_case(k))
            })
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [one] => Ok(*one),
            [] => Err(LookupError::NotFound(spec.to_string())),
            many => Err(LookupError::Ambiguous {
                spec: spec.to_string(),
                candidates: many
                    .iter()
                    .map(|&i| self.members[i].id.namespace_first().to_string())
                    .collect(),
            }),
        }
    }

    /// The object reference of endpoint `i`.
    pub fn object_ref(&self, i: usize) -> ObjectRef {
        self.members[i].workload.object_ref()
    }
}

/// A workload reference that does not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Not `NAMESPACE/NAME`, `NAMESPACE/KIND/NAME` or an IP address.
    #[error("{0:?} is not NAMESPACE/NAME, NAMESPACE/KIND/NAME or an IP address")]
    Syntax(String),
    /// No workload has that namespace and name.
    #[error("no workload {0} in the input")]
    NotFound(String),
    /// Several workloads of different kinds share the name.
    #[error("{spec} is ambiguous: {candidates:?}; add the kind (NAMESPACE/KIND/NAME)")]
    Ambiguous {
        /// The reference as given.
        spec: String,
        /// Matching workloads.
        candidates: Vec<String>,
    },
}

/// Named ports of a workload's pods: regular containers and restartable (sidecar) init
/// containers; ports outside 1..65535 and unknown protocols are ignored (the API rejects them).
fn named_ports(w: &Workload) -> NamedPorts {
    let mut out: NamedPorts = BTreeMap::new();
    let pod = &w.spec.pod;
    let sidecars = pod
        .init_containers
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    for c in pod.containers.iter().chain(sidecars) {
        for p in &c.ports {
            let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) else {
                continue;
            };
            let Ok(number) = u16::try_from(p.container_port) else {
                continue;
            };
            if number == 0 {
                continue;
            }
            let Some(protocol) = Protocol::parse_api(p.protocol.as_deref().unwrap_or("TCP")) else {
                continue;
            };
            let entry = out.entry(name.to_string()).or_default();
            if !entry.contains(&(protocol, number)) {
                entry.push((protocol, number));
                entry.sort_unstable();
            }
        }
    }
    out
}
