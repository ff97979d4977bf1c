//! Simple facts for `scan` findings: namespaces without default isolation, workloads not
//! isolated, and rules that open a policy to every namespace, every peer, 0.0.0.0/0 or ::/0.

use std::collections::HashMap;

use palisade_model::inventory::DEFAULT_NAMESPACE;
use palisade_model::{Diagnostic, Inventory, Namespace, ObjectRef, SourceLocation};
use serde::Serialize;

use crate::analysis::Analysis;
use crate::policy::{Direction, NamespaceScope, Peer, Peers};

/// Default isolation of one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamespaceIsolation {
    /// The Namespace object (source `<implied>:0` when only implied by objects in it).
    pub namespace: ObjectRef,
    /// Workloads in it.
    pub workloads: usize,
    /// Policies with an empty `podSelector` that affect ingress: every pod, present or future,
    /// is isolated for ingress. Empty = no default-deny for ingress.
    pub default_deny_ingress: Vec<ObjectRef>,
    /// Same for egress.
    pub default_deny_egress: Vec<ObjectRef>,
}

/// A workload that some direction leaves unrestricted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnprotectedWorkload {
    /// The workload.
    pub workload: ObjectRef,
    /// Isolated for ingress.
    pub ingress_isolated: bool,
    /// Isolated for egress.
    pub egress_isolated: bool,
}

/// What makes a rule broad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Breadth {
    /// `from`/`to` absent or empty: every pod of every namespace and every address.
    AnyPeer,
    /// A peer with `namespaceSelector: {}`: pods of every namespace.
    AllNamespaces,
    /// An ipBlock `0.0.0.0/0` (possibly with excepts).
    AllIpv4,
    /// An ipBlock `::/0` (possibly with excepts).
    AllIpv6,
}

/// One broad rule (or peer) of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BroadRule {
    /// The policy.
    pub policy: ObjectRef,
    /// Direction of the rule.
    pub direction: Direction,
    /// Index of the rule.
    pub rule: usize,
    /// Index of the peer (`None` for [`Breadth::AnyPeer`]).
    pub peer: Option<usize>,
    /// What is broad.
    pub breadth: Breadth,
    /// Number of `except` entries of an ipBlock.
    pub excepts: usize,
    /// Whether the rule is limited to some ports.
    pub port_restricted: bool,
}

/// Facts for the check engine.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyFacts {
    /// Every namespace, sorted by name.
    pub namespaces: Vec<NamespaceIsolation>,
    /// Workloads not isolated for ingress or for egress, sorted.
    pub unprotected_workloads: Vec<UnprotectedWorkload>,
    /// Broad rules, in policy order.
    pub broad_rules: Vec<BroadRule>,
    /// Problems in policies.
    #[serde(serialize_with = "crate::diagnostics::serialize")]
    pub diagnostics: Vec<Diagnostic>,
}

/// Facts of an inventory.
pub fn facts(inventory: &Inventory) -> PolicyFacts {
    Analysis::new(inventory).facts()
}

impl Analysis<'_> {
    /// Facts for the check engine.
    pub fn facts(&self) -> PolicyFacts {
        // One pass over workloads and one over policies, grouped by namespace index: a scan of
        // every policy and workload per namespace grew with namespaces × (policies + workloads).
        let nns = self.universe.namespaces.len();
        let mut workloads = vec![0usize; nns];
        for m in &self.universe.members {
            workloads[m.namespace] += 1;
        }
        let mut deny_ingress: Vec<Vec<ObjectRef>> = vec![Vec::new(); nns];
        let mut deny_egress: Vec<Vec<ObjectRef>> = vec![Vec::new(); nns];
        for p in &self.policies {
            let Some(ni) = self.universe.find_namespace(&p.namespace) else {
                continue;
            };
            if !p.selector.as_ref().is_some_and(|s| s.is_empty()) {
                continue;
            }
            if p.rules(Direction::Ingress).is_some() {
                deny_ingress[ni].push(p.object.clone());
            }
            if p.rules(Direction::Egress).is_some() {
                deny_egress[ni].push(p.object.clone());
            }
        }
        let declared = self.declared_namespaces();
        let mut namespaces: Vec<NamespaceIsolation> = self
            .universe
            .namespaces
            .iter()
            .zip(workloads)
            .zip(deny_ingress.into_iter().zip(deny_egress))
            .map(
                |((ns, workloads), (default_deny_ingress, default_deny_egress))| {
                    NamespaceIsolation {
                        namespace: namespace_ref(&declared, &ns.name),
                        workloads,
                        default_deny_ingress,
                        default_deny_egress,
                    }
                },
            )
            .collect();
        namespaces.sort_by(|a, b| a.namespace.name.cmp(&b.namespace.name));

        let mut unprotected: Vec<UnprotectedWorkload> = (0..self.universe.members.len())
            .filter_map(|m| {
                let i = self.is_isolated(m, Direction::Ingress);
                let e = self.is_isolated(m, Direction::Egress);
                (!i || !e).then(|| UnprotectedWorkload {
                    workload: self.universe.object_ref(m),
                    ingress_isolated: i,
                    egress_isolated: e,
                })
            })
            .collect();
        unprotected.sort_by(|a, b| {
            (&a.workload.namespace, &a.workload.kind, &a.workload.name).cmp(&(
                &b.workload.namespace,
                &b.workload.kind,
                &b.workload.name,
            ))
        });

        let mut broad = Vec::new();
        for p in &self.policies {
            for dir in [Direction::Ingress, Direction::Egress] {
                for (ri, rule) in p.rules(dir).into_iter().flatten().enumerate() {
                    let port_restricted = !matches!(rule.ports, crate::policy::Ports::Any);
                    let mut push = |peer: Option<usize>, breadth: Breadth, excepts: usize| {
                        broad.push(BroadRule {
                            policy: p.object.clone(),
                            direction: dir,
                            rule: ri,
                            peer,
                            breadth,
                            excepts,
                            port_restricted,
                        })
                    };
                    match &rule.peers {
                        Peers::Any => push(None, Breadth::AnyPeer, 0),
                        Peers::List(peers) => {
                            for (pi, peer) in peers.iter().enumerate() {
                                match peer {
                                    Peer::Pods {
                                        namespaces: NamespaceScope::Matching(sel),
                                        ..
                                    } if sel.is_empty() => {
                                        push(Some(pi), Breadth::AllNamespaces, 0)
                                    }
                                    Peer::IpBlock { cidr, except } if cidr.prefix_len() == 0 => {
                                        let b = match cidr {
                                            ipnet::IpNet::V4(_) => Breadth::AllIpv4,
                                            ipnet::IpNet::V6(_) => Breadth::AllIpv6,
                                        };
                                        push(Some(pi), b, except.len())
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                }
            }
        }
        PolicyFacts {
            namespaces,
            unprotected_workloads: unprotected,
            broad_rules: broad,
            diagnostics: self.diagnostics.clone(),
        }
    }

    /// Declared Namespace objects by name (the first of duplicates, as
    /// [`Inventory::namespace`](palisade_model::Inventory::namespace) finds).
    fn declared_namespaces(&self) -> HashMap<&str, &Namespace> {
        let mut by_name = HashMap::with_capacity(self.inventory.namespaces.len());
        for ns in &self.inventory.namespaces {
            by_name.entry(ns.meta.name.as_str()).or_insert(ns);
        }
        by_name
    }
}

/// The reference of the namespace called `name`: its object when declared, else an implied one.
fn namespace_ref(declared: &HashMap<&str, &Namespace>, name: &str) -> ObjectRef {
    match declared.get(name) {
        Some(ns) => ns.object_ref(),
        None => ObjectRef {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            namespace: None,
            name: if name.is_empty() {
                DEFAULT_NAMESPACE.into()
            } else {
                name.into()
            },
            source: SourceLocation::new("<implied>", 0),
        },
    }
}
