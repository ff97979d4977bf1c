//! The workload-level connectivity list: class edges expanded to (source, destination, ports)
//! rows between workloads and external IP ranges.

use std::fmt;
use std::net::IpAddr;

use palisade_model::{Diagnostic, WorkloadId};
use serde::Serialize;

use crate::analysis::{Analysis, Stats};
use crate::evaluate::{Node, Reachability};
use crate::ipspace::IpInterval;
use crate::policy::Direction;
use crate::ports::PortSet;
use crate::universe::LookupError;

/// One side of a connection: a workload or a range of external addresses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Endpoint {
    /// A workload (all of its pods).
    Workload(WorkloadId),
    /// External addresses no pod has (one cell of the IP partition).
    External(IpInterval),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Workload(w) => w.namespace_first().fmt(f),
            Endpoint::External(i) => i.fmt(f),
        }
    }
}

/// One allowed connection: `src` may open connections to `dst` on `ports`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Connection {
    /// Who opens the connection.
    pub src: Endpoint,
    /// Who accepts it.
    pub dst: Endpoint,
    /// Destination ports allowed, per protocol.
    pub ports: PortSet,
}

/// Isolation state of one workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkloadSummary {
    /// The workload.
    pub id: WorkloadId,
    /// Some policy selects it for ingress.
    pub ingress_isolated: bool,
    /// Some policy selects it for egress.
    pub egress_isolated: bool,
}

/// The full connectivity list.
#[derive(Debug, Clone, Serialize)]
pub struct Connectivity {
    /// Problem sizes.
    pub stats: Stats,
    /// Every workload, sorted.
    pub workloads: Vec<WorkloadSummary>,
    /// The external IP ranges the policies distinguish, ascending.
    pub external_ranges: Vec<IpInterval>,
    /// Every allowed connection, sorted by source then destination.
    pub connections: Vec<Connection>,
    /// Problems found in the policies.
    #[serde(serialize_with = "crate::diagnostics::serialize")]
    pub diagnostics: Vec<Diagnostic>,
}

/// A source or destination in a query: a workload (by index) or an external address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Index into [`crate::Universe::members`].
    Workload(usize),
    /// An external address.
    Ip(IpAddr),
}

impl Analysis<'_> {
    /// Resolves `NAMESPACE/NAME`, `NAMESPACE/KIND/NAME` or an IP address.
    pub fn target(&self, spec: &str) -> Result<Target, LookupError> {
        if let Ok(ip) = spec.parse::<IpAddr>() {
            return Ok(Target::Ip(ip));
        }
        self.universe.find_workload(spec).map(Target::Workload)
    }

    /// The output name of workload `member`.
    pub fn endpoint(&self, member: usize) -> Endpoint {
        Endpoint::Workload(self.universe.members[member].id.clone())
    }

    /// The class-graph node of a target.
    pub fn node(&self, t: Target) -> Node {
        match t {
            Target::Workload(m) => Node::Class(self.classes.class_of[m]),
            Target::Ip(ip) => Node::Cell(self.cells.cell_of(ip)),
        }
    }

    /// Members of a node: workload indexes of a class (empty for a cell).
    pub fn node_members(&self, n: Node) -> &[usize] {
        match n {
            Node::Class(c) => &self.classes.members[c],
            Node::Cell(_) => &[],
        }
    }

    /// Calls `f` for every workload-level connection, in class order (unsorted). With `focus`,
    /// only rows whose source or destination is that workload.
    pub fn for_each_connection(
        &self,
        reach: &Reachability,
        focus: Option<usize>,
        mut f: impl FnMut(Connection),
    ) {
        let focus_class = focus.map(|m| self.classes.class_of[m]);
        for (s, d, ports) in reach.edges() {
            if let Some(fc) = focus_class
                && s != Node::Class(fc)
                && d != Node::Class(fc)
            {
                continue;
            }
            let srcs = self.expand(s);
            let dsts = self.expand(d);
            for (sm, se) in &srcs {
                for (dm, de) in &dsts {
                    if let Some(fm) = focus
                        && *sm != Some(fm)
                        && *dm != Some(fm)
                    {
                        continue;
                    }
                    f(Connection {
                        src: se.clone(),
                        dst: de.clone(),
                        ports: ports.clone(),
                    });
                }
            }
        }
    }

    /// Number of workload-level rows [`Analysis::for_each_connection`] would produce, computed
    /// from class sizes without expanding (to bound output before materialising it).
    pub fn connection_count(&self, reach: &Reachability, focus: Option<usize>) -> u64 {
        let size = |n: Node| match n {
            Node::Class(c) => self.classes.members[c].len() as u64,
            Node::Cell(_) => 1,
        };
        match focus {
            None => reach.edges().map(|(s, d, _)| size(s) * size(d)).sum(),
            Some(m) => {
                let fc = Node::Class(self.classes.class_of[m]);
                reach
                    .edges()
                    .map(|(s, d, _)| match (s == fc, d == fc) {
                        (true, true) => size(s) + size(d) - 1,
                        (true, false) => size(d),
                        (false, true) => size(s),
                        (false, false) => 0,
                    })
                    .sum()
            }
        }
    }

    fn expand(&self, n: Node) -> Vec<(Option<usize>, Endpoint)> {
        match n {
            Node::Class(c) => self.classes.members[c]
                .iter()
                .map(|&m| (Some(m), self.endpoint(m)))
                .collect(),
            Node::Cell(c) => vec![(None, Endpoint::External(self.cells.cell(c)))],
        }
    }

    /// The sorted connectivity list (optionally restricted to one workload). It holds every
    /// row in memory; [`crate::Listing`] streams the same rows in the same order.
    pub fn connectivity(&self, reach: &Reachability, focus: Option<usize>) -> Connectivity {
        let mut connections = Vec::new();
        self.for_each_connection(reach, focus, |c| connections.push(c));
        connections.sort_by(|a, b| (&a.src, &a.dst).cmp(&(&b.src, &b.dst)));
        Connectivity {
            connections,
            ..self.connectivity_head(focus)
        }
    }

    /// [`Analysis::connectivity`] without its connections (empty): statistics, workloads,
    /// external ranges and diagnostics, for writers that stream the rows from a
    /// [`crate::Listing`].
    pub fn connectivity_head(&self, focus: Option<usize>) -> Connectivity {
        let mut workloads: Vec<WorkloadSummary> = (0..self.universe.members.len())
            .filter(|&m| focus.is_none_or(|f| f == m))
            .map(|m| WorkloadSummary {
                id: self.universe.members[m].id.clone(),
                ingress_isolated: self.is_isolated(m, Direction::Ingress),
                egress_isolated: self.is_isolated(m, Direction::Egress),
            })
            .collect();
        workloads.sort_by(|a, b| a.id.cmp(&b.id));
        Connectivity {
            stats: self.stats(),
            workloads,
            external_ranges: (0..self.cells.len()).map(|c| self.cells.cell(c)).collect(),
            connections: Vec::new(),
            diagnostics: self.diagnostics.clone(),
        }
    }

    /// Allowed ports between two targets (external-to-external is never modelled: empty).
    pub fn allowed_ports<'r>(
        &self,
        reach: &'r Reachability,
        src: Target,
        dst: Target,
    ) -> &'r PortSet {
        reach.ports(self.node(src), self.node(dst))
    }
}
