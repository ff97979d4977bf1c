//! The compiled view of one inventory: endpoints, validated policies, the external IP partition
//! and the equivalence classes. Every query (reachability, `can`, exposure, facts) starts here.

use ipnet::IpNet;
use palisade_model::{Diagnostic, Inventory};
use serde::Serialize;

use crate::classes::{self, Classes};
use crate::ipspace::IpPartition;
use crate::policy::{self, Direction, Peer, Peers, Policy};
use crate::universe::Universe;

/// One inventory, compiled for network-policy questions.
#[derive(Debug, Clone)]
pub struct Analysis<'a> {
    pub(crate) inventory: &'a Inventory,
    pub(crate) universe: Universe<'a>,
    pub(crate) policies: Vec<Policy>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) cells: IpPartition,
    pub(crate) classes: Classes,
    /// Per reach class: policies that select it and affect ingress.
    pub(crate) ingress_policies: Vec<Vec<usize>>,
    /// Per reach class: policies that select it and affect egress.
    pub(crate) egress_policies: Vec<Vec<usize>>,
}

/// Sizes of the compiled problem.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Namespaces.
    pub namespaces: usize,
    /// Workloads (owned children excluded).
    pub workloads: usize,
    /// NetworkPolicies.
    pub policies: usize,
    /// Groups of workloads with equal namespace, labels and referenced named ports.
    pub label_classes: usize,
    /// Groups of workloads that every policy treats alike.
    pub reach_classes: usize,
    /// Cells of the external IP partition.
    pub ip_cells: usize,
}

impl<'a> Analysis<'a> {
    /// Compiles an inventory.
    pub fn new(inventory: &'a Inventory) -> Analysis<'a> {
        Analysis::with_extra_cidrs(inventory, &[])
    }

    /// Compiles an inventory, also splitting the external IP space at `extra` CIDRs (so that two
    /// analyses can share one partition, as `diff` needs).
    pub fn with_extra_cidrs(inventory: &'a Inventory, extra: &[IpNet]) -> Analysis<'a> {
        let universe = Universe::new(inventory);
        let mut diagnostics = Vec::new();
        crate::universe::duplicate_namespaces(inventory, &mut diagnostics);
        let policies = policy::compile_all(&inventory.network_policies, &mut diagnostics);
        let mut nets = ip_block_nets(&policies);
        nets.extend_from_slice(extra);
        let cells = IpPartition::new(&nets);
        let classes = classes::build(&universe, &policies, &cells);
        let n = classes.members.len();
        let mut ingress_policies = vec![Vec::new(); n];
        let mut egress_policies = vec![Vec::new(); n];
        for (pi, p) in policies.iter().enumerate() {
            for &c in &classes.selected[pi] {
                if p.ingress.is_some() {
                    ingress_policies[c].push(pi);
                }
                if p.egress.is_some() {
                    egress_policies[c].push(pi);
                }
            }
        }
        Analysis {
            inventory,
            universe,
            policies,
            diagnostics,
            cells,
            classes,
            ingress_policies,
            egress_policies,
        }
    }

    /// Problems found in the policies (the analysis went on without the invalid parts).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Namespaces and workloads.
    pub fn universe(&self) -> &Universe<'a> {
        &self.universe
    }

    /// The inventory this analysis was built from.
    pub fn inventory(&self) -> &'a Inventory {
        self.inventory
    }

    /// The external IP partition.
    pub fn ip_partition(&self) -> &IpPartition {
        &self.cells
    }

    /// Every CIDR that took part in the IP partition (for sharing it with another analysis).
    pub fn partition_nets(&self) -> Vec<IpNet> {
        ip_block_nets(&self.policies)
    }

    /// Problem sizes.
    pub fn stats(&self) -> Stats {
        Stats {
            namespaces: self.universe.namespaces.len(),
            workloads: self.universe.members.len(),
            policies: self.policies.len(),
            label_classes: self.classes.label_classes,
            reach_classes: self.classes.members.len(),
            ip_cells: self.cells.len(),
        }
    }

    /// Whether workload `member` is isolated in direction `dir` (some policy selects it and
    /// affects that direction).
    pub fn is_isolated(&self, member: usize, dir: Direction) -> bool {
        let c = self.classes.class_of[member];
        match dir {
            Direction::Ingress => !self.ingress_policies[c].is_empty(),
            Direction::Egress => !self.egress_policies[c].is_empty(),
        }
    }
}

/// Problems in an inventory's NetworkPolicies and Namespaces (what
/// [`Analysis::diagnostics`] holds), without compiling the rest of the analysis: for reports
/// that show them beside other input diagnostics (`palisade scan`).
pub fn policy_diagnostics(inventory: &Inventory) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    crate::universe::duplicate_namespaces(inventory, &mut diagnostics);
    policy::compile_all(&inventory.network_policies, &mut diagnostics);
    diagnostics
}

/// All valid ipBlock CIDRs and excepts of the compiled policies.
fn ip_block_nets(policies: &[Policy]) -> Vec<IpNet> {
    let mut nets = Vec::new();
    for p in policies {
        for rules in [p.ingress.as_deref(), p.egress.as_deref()]
            .into_iter()
            .flatten()
        {
            for r in rules {
                if let Peers::List(peers) = &r.peers {
                    for peer in peers {
                        if let Peer::IpBlock { cidr, except } = peer {
                            nets.push(*cidr);
                            nets.extend(except.iter().copied());
                        }
                    }
                }
            }
        }
    }
    nets.sort_unstable();
    nets.dedup();
    nets
}
