//! Exposure and blast radius per workload: isolation, who can reach it, what it can reach if it
//! is breached, external address ranges in both directions, and Services/Ingresses that publish
//! it outside the cluster.

use std::collections::BTreeSet;

use palisade_model::api::IntOrString;
use palisade_model::{ObjectRef, Service, WorkloadId};
use serde::Serialize;

use crate::analysis::Analysis;
use crate::evaluate::{Node, Reachability};
use crate::ipspace::IpInterval;
use crate::policy::Direction;
use crate::ports::{PortSet, Protocol};

/// An external range with the ports allowed to or from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalAccess {
    /// The range.
    pub range: IpInterval,
    /// Ports (destination ports of the connection).
    pub ports: PortSet,
}

/// How a Service or Ingress publishes a workload outside the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Publication {
    /// The Service (type NodePort or LoadBalancer) or Ingress.
    pub via: ObjectRef,
    /// `NodePort`, `LoadBalancer` or `Ingress`.
    pub kind: String,
    /// For an Ingress, the Service it routes to.
    pub service: Option<String>,
    /// Target ports on the workload's pods that the publication forwards to.
    pub target_ports: PortSet,
    /// Whether the workload's ingress policies admit some external address on one of those
    /// ports. For Ingresses traffic arrives from the ingress controller's pods instead, so this
    /// is only indicative there.
    pub admitted_by_policy: bool,
}

/// Exposure of one workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkloadExposure {
    /// The workload.
    pub workload: WorkloadId,
    /// Some policy selects it for ingress.
    pub ingress_isolated: bool,
    /// Some policy selects it for egress.
    pub egress_isolated: bool,
    /// Other workloads that can open a connection to it (any port).
    pub reachable_from_workloads: usize,
    /// Namespaces of those workloads.
    pub reachable_from_namespaces: usize,
    /// Other workloads it can open a connection to (blast radius if breached).
    pub can_reach_workloads: usize,
    /// Namespaces of those workloads.
    pub can_reach_namespaces: usize,
    /// External ranges that can connect to it.
    pub external_ingress: Vec<ExternalAccess>,
    /// External ranges it can connect to.
    pub external_egress: Vec<ExternalAccess>,
    /// Services and Ingresses that publish it.
    pub published: Vec<Publication>,
}

/// Exposure of every workload, sorted by workload.
#[derive(Debug, Clone, Serialize)]
pub struct Exposure {
    /// Total workloads considered.
    pub workloads_total: usize,
    /// Total namespaces considered.
    pub namespaces_total: usize,
    /// Per-workload exposure.
    pub workloads: Vec<WorkloadExposure>,
}

/// Counts of workloads and namespaces on the other side of a class's edges.
struct Reach {
    workloads: usize,
    namespaces: usize,
}

impl Reach {
    const NONE: Reach = Reach {
        workloads: 0,
        namespaces: 0,
    };
}

/// Workloads per namespace, summed over some classes; cleared in time proportional to the
/// namespaces it touched, so it can be reused for every class.
struct NamespaceTally {
    per_ns: Vec<usize>,
    touched: Vec<usize>,
    workloads: usize,
}

impl NamespaceTally {
    fn new(namespaces: usize) -> NamespaceTally {
        NamespaceTally {
            per_ns: vec![0; namespaces],
            touched: Vec::new(),
            workloads: 0,
        }
    }

    fn clear(&mut self) {
        for ns in self.touched.drain(..) {
            self.per_ns[ns] = 0;
        }
        self.workloads = 0;
    }

    fn add(&mut self, ns: usize, n: usize) {
        if self.per_ns[ns] == 0 && n > 0 {
            self.touched.push(ns);
        }
        self.per_ns[ns] += n;
        self.workloads += n;
    }

    fn count(&self, ns: usize) -> usize {
        self.per_ns[ns]
    }

    /// `(namespace, workloads)` of the namespaces with workloads, in order of first addition.
    fn entries(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.touched.iter().map(|&ns| (ns, self.per_ns[ns]))
    }

    /// Namespaces with at least one workload.
    fn namespaces(&self) -> usize {
        self.touched.len()
    }
}

impl Analysis<'_> {
    /// Exposure of every workload.
    pub fn exposure(&self, reach: &Reachability) -> Exposure {
        let nc = self.classes.members.len();
        let nns = self.universe.namespaces.len();
        // Per class: how many members per namespace, in order of first appearance.
        let mut tally = NamespaceTally::new(nns);
        let ns_counts: Vec<Vec<(usize, usize)>> = self
            .classes
            .members
            .iter()
            .map(|m| {
                tally.clear();
                for &e in m {
                    tally.add(self.universe.members[e].namespace, 1);
                }
                tally.entries().collect()
            })
            .collect();
        let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); nc];
        let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); nc];
        let mut ext_in: Vec<Vec<ExternalAccess>> = vec![Vec::new(); nc];
        let mut ext_out: Vec<Vec<ExternalAccess>> = vec![Vec::new(); nc];
        for (s, d, ports) in reach.edges() {
            match (s, d) {
                (Node::Class(s), Node::Class(d)) => {
                    outgoing[s].push(d);
                    incoming[d].push(s);
                }
                (Node::Class(s), Node::Cell(c)) => ext_out[s].push(ExternalAccess {
                    range: self.cells.cell(c),
                    ports: ports.clone(),
                }),
                (Node::Cell(c), Node::Class(d)) => ext_in[d].push(ExternalAccess {
                    range: self.cells.cell(c),
                    ports: ports.clone(),
                }),
                (Node::Cell(_), Node::Cell(_)) => {}
            }
        }
        // Counts are summed once per class into a reused per-namespace tally, then read for each
        // member (a tally allocated per workload made this grow with workloads × namespaces).
        let mut from_of = Vec::with_capacity(self.universe.members.len());
        let mut to_of = Vec::with_capacity(self.universe.members.len());
        from_of.resize_with(self.universe.members.len(), || Reach::NONE);
        to_of.resize_with(self.universe.members.len(), || Reach::NONE);
        for (c, members) in self.classes.members.iter().enumerate() {
            for (others, out) in [(&incoming[c], &mut from_of), (&outgoing[c], &mut to_of)] {
                tally.clear();
                for &o in others {
                    for &(ns, n) in &ns_counts[o] {
                        tally.add(ns, n);
                    }
                }
                // The workload itself does not count as "another workload".
                let own = others.contains(&c);
                for &m in members {
                    let ns = self.universe.members[m].namespace;
                    let alone = own && tally.count(ns) == 1;
                    out[m] = Reach {
                        workloads: tally.workloads - usize::from(own),
                        namespaces: tally.namespaces() - usize::from(alone),
                    };
                }
            }
        }
        let by_namespace = ByNamespace::new(self.inventory);
        let mut workloads: Vec<WorkloadExposure> = (0..self.universe.members.len())
            .map(|m| {
                let c = self.classes.class_of[m];
                let (from, to) = (&from_of[m], &to_of[m]);
                WorkloadExposure {
                    workload: self.universe.members[m].id.clone(),
                    ingress_isolated: self.is_isolated(m, Direction::Ingress),
                    egress_isolated: self.is_isolated(m, Direction::Egress),
                    reachable_from_workloads: from.workloads,
                    reachable_from_namespaces: from.namespaces,
                    can_reach_workloads: to.workloads,
                    can_reach_namespaces: to.namespaces,
                    external_ingress: ext_in[c].clone(),
                    external_egress: ext_out[c].clone(),
                    published: self.publications(m, &ext_in[c], &by_namespace),
                }
            })
            .collect();
        workloads.sort_by(|a, b| a.workload.cmp(&b.workload));
        Exposure {
            workloads_total: self.universe.members.len(),
            namespaces_total: nns,
            workloads,
        }
    }

    /// NodePort/LoadBalancer Services selecting workload `m`, and Ingresses routing to any
    /// Service selecting it.
    fn publications(
        &self,
        m: usize,
        ext_in: &[ExternalAccess],
        by_namespace: &ByNamespace<'_>,
    ) -> Vec<Publication> {
        let member = &self.universe.members[m];
        let admitted = |ports: &PortSet| {
            ext_in
                .iter()
                .any(|e| !e.ports.intersection(ports).is_empty())
        };
        let ns = member.id.namespace.as_str();
        let selecting: Vec<&Service> = by_namespace
            .services
            .get(ns)
            .into_iter()
            .flatten()
            .copied()
            .filter(|s| palisade_model::selector::map_selects(&s.spec.selector, member.labels))
            .collect();
        let mut out = Vec::new();
        for svc in &selecting {
            let t = svc.service_type();
            if t == "NodePort" || t == "LoadBalancer" {
                let target_ports = service_target_ports(svc, None, &member.named_ports);
                out.push(Publication {
                    via: svc.object_ref(),
                    kind: t.to_string(),
                    service: None,
                    admitted_by_policy: admitted(&target_ports),
                    target_ports,
                });
            }
        }
        for ing in by_namespace.ingresses.get(ns).into_iter().flatten() {
            let backends: BTreeSet<&str> = ing.backend_services();
            for svc in &selecting {
                let name = svc.meta.name.as_str();
                if !backends.contains(name) {
                    continue;
                }
                let ports = ingress_service_ports(ing, name);
                let target_ports = service_target_ports(svc, Some(&ports), &member.named_ports);
                out.push(Publication {
                    via: ing.object_ref(),
                    kind: "Ingress".to_string(),
                    service: Some(name.to_string()),
                    admitted_by_policy: admitted(&target_ports),
                    target_ports,
                });
            }
        }
        out
    }
}

/// Services and Ingresses per namespace, so each workload looks only at its own namespace's.
struct ByNamespace<'a> {
    services: std::collections::HashMap<&'a str, Vec<&'a Service>>,
    ingresses: std::collections::HashMap<&'a str, Vec<&'a palisade_model::Ingress>>,
}

impl<'a> ByNamespace<'a> {
    fn new(inventory: &'a palisade_model::Inventory) -> ByNamespace<'a> {
        let mut services: std::collections::HashMap<&str, Vec<&Service>> = Default::default();
        for s in &inventory.services {
            if let Some(ns) = s.namespace() {
                services.entry(ns).or_default().push(s);
            }
        }
        let mut ingresses: std::collections::HashMap<&str, Vec<&palisade_model::Ingress>> =
            Default::default();
        for i in &inventory.ingresses {
            if let Some(ns) = i.namespace() {
                ingresses.entry(ns).or_default().push(i);
            }
        }
        ByNamespace {
            services,
            ingresses,
        }
    }
}

/// Service ports an Ingress uses on one backend Service (`None` = unspecified = all).
fn ingress_service_ports(ing: &palisade_model::Ingress, svc: &str) -> Vec<Option<IntOrString>> {
    let mut out = Vec::new();
    let backends = ing
        .spec
        .default_backend
        .iter()
        .chain(ing.spec.rules.iter().flat_map(|r| {
            r.http
                .iter()
                .flat_map(|h| h.paths.iter().map(|p| &p.backend))
        }));
    for b in backends {
        if let Some(s) = &b.service
            && s.name == svc
        {
            out.push(s.port.as_ref().and_then(|p| match (&p.number, &p.name) {
                (Some(n), _) => Some(IntOrString::Int(*n)),
                (None, Some(name)) => Some(IntOrString::String(name.clone())),
                (None, None) => None,
            }));
        }
    }
    out
}

/// Target ports on the pods for the Service's ports (restricted to `used` Service ports when
/// given). Named target ports resolve against the pod's container ports.
fn service_target_ports(
    svc: &Service,
    used: Option<&[Option<IntOrString>]>,
    named: &crate::universe::NamedPorts,
) -> PortSet {
    let mut out = PortSet::empty();
    for sp in &svc.spec.ports {
        if let Some(used) = used {
            let hit = used.iter().any(|u| match u {
                None => true,
                Some(IntOrString::Int(n)) => *n == sp.port,
                Some(IntOrString::String(s)) => sp.name.as_deref() == Some(s.as_str()),
            });
            if !hit {
                continue;
            }
        }
        let proto = sp
            .protocol
            .as_deref()
            .and_then(Protocol::parse_api)
            .unwrap_or(Protocol::Tcp);
        match &sp.target_port {
            None => {
                if let Ok(p) = u16::try_from(sp.port) {
                    out.insert_range(proto, p, p);
                }
            }
            Some(IntOrString::Int(n)) => {
                if let Ok(p) = u16::try_from(*n) {
                    out.insert_range(proto, p, p);
                }
            }
            Some(IntOrString::String(name)) => {
                for &(pp, port) in named.get(name).into_iter().flatten() {
                    if pp == proto {
                        out.insert_range(pp, port, port);
                    }
                }
            }
        }
    }
    out
}
