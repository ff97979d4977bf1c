//! The connection listing in output order, produced from the class graph without materialising
//! it: memory grows with the number of workloads and class edges, never with the number of rows.
//!
//! Endpoints get an output *rank* (workloads sorted by [`WorkloadId`], then external ranges
//! ascending), which is the order of [`Endpoint`]'s `Ord`. Rows come source by source in rank
//! order; the destinations of one source are those of its class (its row of class edges expanded
//! to member ranks and sorted once per class, reused while consecutive sources share it). The
//! result is exactly the order of [`Analysis::connectivity`]'s sorted list.
//!
//! [`WorkloadId`]: palisade_model::WorkloadId

use std::ops::Range;

use crate::analysis::Analysis;
use crate::connectivity::Endpoint;
use crate::evaluate::{Node, Reachability};
use crate::ports::PortSet;

/// One row of the listing, by rank: `src` may open connections to `dst` on port set `ports`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Rank of the source (see [`Listing::endpoint`]).
    pub src: usize,
    /// Rank of the destination.
    pub dst: usize,
    /// Port-set id (see [`Listing::port_set`]).
    pub ports: usize,
}

/// One allowed class pair with its members, by rank: every member of `src` may open
/// connections to every member of `dst` on `ports`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassPair<'l> {
    /// Ranks of the source members (one rank for an external range), ascending.
    pub src: &'l [usize],
    /// Ranks of the destination members, ascending.
    pub dst: &'l [usize],
    /// Port-set id (see [`Listing::port_set`]).
    pub ports: usize,
}

/// The connectivity listing of one analysis, streamed in the order of the sorted list.
#[derive(Debug)]
pub struct Listing<'l, 'a> {
    analysis: &'l Analysis<'a>,
    reach: &'l Reachability,
    focus: Option<usize>,
    /// Node of every rank.
    node_of_rank: Vec<Node>,
    /// Endpoint of every rank (workload member index or cell index).
    endpoint_of_rank: Vec<Node>,
    /// Member ranks of every node (classes first, then cells), ascending.
    node_ranks: Vec<Vec<usize>>,
}

impl<'l, 'a> Listing<'l, 'a> {
    /// Prepares the listing of `reach` (only rows from or to workload `focus`, when given).
    pub fn new(analysis: &'l Analysis<'a>, reach: &'l Reachability, focus: Option<usize>) -> Self {
        let members = &analysis.universe.members;
        let class_of = &analysis.classes.class_of;
        // Workloads by id; ties (duplicate manifests) in the order the unsorted list emits them.
        let mut workloads: Vec<usize> = (0..members.len()).collect();
        workloads.sort_by(|&a, &b| {
            (&members[a].id, class_of[a], a).cmp(&(&members[b].id, class_of[b], b))
        });
        let mut cells: Vec<usize> = (0..analysis.cells.len()).collect();
        cells.sort_by_key(|&c| analysis.cells.cell(c));
        let nclasses = analysis.classes.members.len();
        let mut node_ranks = vec![Vec::new(); nclasses + cells.len()];
        let mut node_of_rank = Vec::with_capacity(workloads.len() + cells.len());
        let mut endpoint_of_rank = Vec::with_capacity(node_of_rank.capacity());
        for (rank, &m) in workloads.iter().enumerate() {
            node_ranks[class_of[m]].push(rank);
            node_of_rank.push(Node::Class(class_of[m]));
            endpoint_of_rank.push(Node::Class(m));
        }
        for &c in &cells {
            let rank = node_of_rank.len();
            node_ranks[nclasses + c].push(rank);
            node_of_rank.push(Node::Cell(c));
            endpoint_of_rank.push(Node::Cell(c));
        }
        Listing {
            analysis,
            reach,
            focus,
            node_of_rank,
            endpoint_of_rank,
            node_ranks,
        }
    }

    /// Number of endpoints (ranks): every workload, then every external range.
    pub fn endpoint_count(&self) -> usize {
        self.node_of_rank.len()
    }

    /// The endpoint of `rank`.
    pub fn endpoint(&self, rank: usize) -> Endpoint {
        match self.endpoint_of_rank[rank] {
            Node::Class(m) => self.analysis.endpoint(m),
            Node::Cell(c) => Endpoint::External(self.analysis.cells.cell(c)),
        }
    }

    /// Number of port-set ids.
    pub fn port_set_count(&self) -> usize {
        self.reach.port_set_count()
    }

    /// The port set of id `id`.
    pub fn port_set(&self, id: usize) -> &'l PortSet {
        self.reach.port_set(id)
    }

    /// Number of rows [`Listing::for_each_row`] produces (computed from class sizes).
    pub fn row_count(&self) -> u64 {
        self.analysis.connection_count(self.reach, self.focus)
    }

    /// Calls `f` for every row in output order (sorted by source, then destination); stops at
    /// the first error `f` returns.
    pub fn for_each_row<E>(&self, f: impl FnMut(Row) -> Result<(), E>) -> Result<(), E> {
        self.for_each_row_in(0..self.endpoint_count(), f)
    }

    /// Consecutive ranges of source ranks that cover every source, each with the number of rows
    /// it produces: at most `max_rows`, unless one source alone has more (it gets a range of its
    /// own). Rows of the ranges in order are the rows of [`Listing::for_each_row`], so the
    /// ranges can be formatted in parallel and written in order.
    pub fn source_blocks(&self, max_rows: u64) -> Vec<(Range<usize>, u64)> {
        let n = self.endpoint_count();
        if self.focus.is_some() {
            return vec![(0..n, self.row_count())];
        }
        let mut per_node: Vec<Option<u64>> = vec![None; self.node_ranks.len()];
        let mut blocks = Vec::new();
        let (mut start, mut rows) = (0, 0);
        for (src, &node) in self.node_of_rank.iter().enumerate() {
            let slot = &mut per_node[self.node_index(node)];
            let here = *slot.get_or_insert_with(|| {
                let row = self.reach.edges_from(node);
                row.map(|(d, _)| self.ranks(d).len() as u64).sum()
            });
            if src > start && rows + here > max_rows {
                blocks.push((start..src, rows));
                (start, rows) = (src, 0);
            }
            rows += here;
        }
        if start < n {
            blocks.push((start..n, rows));
        }
        blocks
    }

    /// [`Listing::for_each_row`] for the sources whose ranks are in `sources`.
    pub fn for_each_row_in<E>(
        &self,
        sources: Range<usize>,
        mut f: impl FnMut(Row) -> Result<(), E>,
    ) -> Result<(), E> {
        let focus = self.focus.map(|m| {
            let rank = self.node_ranks[self.analysis.classes.class_of[m]]
                .iter()
                .copied()
                .find(|&r| self.endpoint_of_rank[r] == Node::Class(m))
                .expect("every workload has a rank");
            (rank, Node::Class(self.analysis.classes.class_of[m]))
        });
        let mut row: Vec<(usize, usize)> = Vec::new();
        let mut row_node = None;
        for (src, &node) in self.node_of_rank.iter().enumerate().skip(sources.start) {
            if src >= sources.end {
                break;
            }
            if let Some((focus_rank, focus_node)) = focus
                && src != focus_rank
            {
                let ports = self.reach.port_id(node, focus_node);
                if ports != Reachability::EMPTY_ID {
                    f(Row {
                        src,
                        dst: focus_rank,
                        ports,
                    })?;
                }
                continue;
            }
            if row_node != Some(node) {
                row.clear();
                for (d, ports) in self.reach.edges_from(node) {
                    row.extend(self.ranks(d).iter().map(|&r| (r, ports)));
                }
                row.sort_unstable();
                row_node = Some(node);
            }
            for &(dst, ports) in &row {
                f(Row { src, dst, ports })?;
            }
        }
        Ok(())
    }

    /// Number of class pairs [`Listing::for_each_class_pair`] produces.
    pub fn class_pair_count(&self) -> usize {
        self.reach.edge_count()
    }

    /// Calls `f` for every allowed class pair (the listing grouped: one call per class edge),
    /// sources by their first member's rank, then destinations likewise; stops at the first
    /// error `f` returns. The focus is ignored (a class is listed with all its members).
    pub fn for_each_class_pair<E>(
        &self,
        mut f: impl FnMut(ClassPair<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        // A node's first rank orders nodes; every node has at least one member.
        let mut sources: Vec<Node> = Vec::new();
        for (rank, &node) in self.node_of_rank.iter().enumerate() {
            if self.ranks(node)[0] == rank {
                sources.push(node);
            }
        }
        let mut dsts: Vec<(usize, Node, usize)> = Vec::new();
        for s in sources {
            dsts.clear();
            dsts.extend(
                self.reach
                    .edges_from(s)
                    .map(|(d, ports)| (self.ranks(d)[0], d, ports)),
            );
            dsts.sort_unstable_by_key(|&(first, _, _)| first);
            for &(_, d, ports) in &dsts {
                f(ClassPair {
                    src: self.ranks(s),
                    dst: self.ranks(d),
                    ports,
                })?;
            }
        }
        Ok(())
    }

    fn ranks(&self, n: Node) -> &[usize] {
        &self.node_ranks[self.node_index(n)]
    }

    /// Index of a node in `node_ranks`: classes first, then cells.
    fn node_index(&self, n: Node) -> usize {
        match n {
            Node::Class(c) => c,
            Node::Cell(c) => self.analysis.classes.members.len() + c,
        }
    }
}
