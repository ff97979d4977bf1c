//! Reachability between reach classes and external cells.
//!
//! A connection from S to D on a port is allowed when S's egress allows it (S not isolated for
//! egress, or some egress rule of a policy selecting S covers D and the port) AND D's ingress
//! allows it (D not isolated for ingress, or some ingress rule of a policy selecting D covers S
//! and the port). External addresses have no policies of their own: they accept everything a pod's
//! egress allows and send whatever a pod's ingress allows.
//!
//! The computation walks one source at a time and fills a dense row over all destinations,
//! applying only the rules that concern that source; port sets are interned so unions and
//! intersections are memoised by id.

use rustc_hash::FxHashMap;

use crate::analysis::Analysis;
use crate::policy::{Direction, Ports};
use crate::ports::PortSet;
use crate::universe::NamedPorts;

/// A node of the class graph: a reach class or an external cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// Reach class index.
    Class(usize),
    /// External cell index.
    Cell(usize),
}

/// Allowed connections between classes and cells, with interned port sets.
#[derive(Debug, Clone)]
pub struct Reachability {
    nclasses: usize,
    port_sets: Vec<PortSet>,
    /// (source node, destination node, port-set id), sorted; node ids: classes first, then cells.
    edges: Vec<(u32, u32, u32)>,
}

const EMPTY: u32 = 0;
const ALL: u32 = 1;

/// Interns port sets and memoises union/intersection on ids.
struct Interner {
    sets: Vec<PortSet>,
    ids: FxHashMap<PortSet, u32>,
    unions: FxHashMap<(u32, u32), u32>,
    intersections: FxHashMap<(u32, u32), u32>,
}

impl Interner {
    fn new() -> Self {
        let mut i = Interner {
            sets: Vec::new(),
            ids: FxHashMap::default(),
            unions: FxHashMap::default(),
            intersections: FxHashMap::default(),
        };
        i.intern(PortSet::empty());
        i.intern(PortSet::all());
        i
    }

    fn intern(&mut self, s: PortSet) -> u32 {
        if let Some(&id) = self.ids.get(&s) {
            return id;
        }
        let id = self.sets.len() as u32;
        self.sets.push(s.clone());
        self.ids.insert(s, id);
        id
    }

    fn union(&mut self, a: u32, b: u32) -> u32 {
        if a == b || b == EMPTY || a == ALL {
            return a;
        }
        if a == EMPTY || b == ALL {
            return b;
        }
        let key = (a.min(b), a.max(b));
        if let Some(&r) = self.unions.get(&key) {
            return r;
        }
        let s = self.sets[a as usize].union(&self.sets[b as usize]);
        let r = self.intern(s);
        self.unions.insert(key, r);
        r
    }

    fn intersect(&mut self, a: u32, b: u32) -> u32 {
        if a == b || b == ALL || a == EMPTY {
            return a;
        }
        if a == ALL || b == EMPTY {
            return b;
        }
        let key = (a.min(b), a.max(b));
        if let Some(&r) = self.intersections.get(&key) {
            return r;
        }
        let s = self.sets[a as usize].intersection(&self.sets[b as usize]);
        let r = self.intern(s);
        self.intersections.insert(key, r);
        r
    }
}

/// Resolves rule ports against destinations, memoised per (rule, named-port signature).
struct PortResolver<'x> {
    rule_ports: Vec<&'x Ports>,
    /// Named-port signature id per class; `u32::MAX` stands for external addresses.
    class_sig: Vec<u32>,
    sig_ports: Vec<&'x NamedPorts>,
    constant: Vec<Option<u32>>,
    memo: FxHashMap<(u32, u32), u32>,
}

impl<'x> PortResolver<'x> {
    fn new(a: &'x Analysis<'_>, interner: &mut Interner) -> Self {
        let rule_ports: Vec<&Ports> = a
            .classes
            .rules
            .iter()
            .map(|r| &a.policies[r.policy].rules(r.dir).unwrap_or(&[])[r.index].ports)
            .collect();
        let mut sig_ids: FxHashMap<&NamedPorts, u32> = FxHashMap::default();
        let mut sig_ports = Vec::new();
        let class_sig = a
            .classes
            .members
            .iter()
            .map(|m| {
                let np = &a.universe.members[m[0]].named_ports;
                *sig_ids.entry(np).or_insert_with(|| {
                    sig_ports.push(np);
                    (sig_ports.len() - 1) as u32
                })
            })
            .collect();
        let constant = rule_ports
            .iter()
            .map(|p| (!p.has_names()).then(|| interner.intern(p.resolve(None))))
            .collect();
        PortResolver {
            rule_ports,
            class_sig,
            sig_ports,
            constant,
            memo: FxHashMap::default(),
        }
    }

    /// Port-set id rule `r` allows towards destination `sig` (`u32::MAX` = external).
    fn ports(&mut self, r: usize, sig: u32, interner: &mut Interner) -> u32 {
        if let Some(c) = self.constant[r] {
            return c;
        }
        if let Some(&id) = self.memo.get(&(r as u32, sig)) {
            return id;
        }
        let named = (sig != u32::MAX).then(|| self.sig_ports[sig as usize]);
        let id = interner.intern(self.rule_ports[r].resolve(named));
        self.memo.insert((r as u32, sig), id);
        id
    }
}

impl Analysis<'_> {
    /// Computes every allowed connection between classes and external cells.
    pub fn reachability(&self) -> Reachability {
        let nc = self.classes.members.len();
        let ncell = self.cells.len();
        let nn = nc + ncell;
        let mut interner = Interner::new();
        let mut res = PortResolver::new(self, &mut interner);
        let rules = &self.classes.rules;

        // Ingress rules per source class / cell (rules whose peers are "any" apply to all). The
        // per-class lists are built when a class first needs them: where every class is isolated
        // for egress with nothing allowed out (a default deny everywhere), no ingress row is
        // needed, and the lists would hold rules x classes entries.
        let ingress_rules_by_class = || {
            let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); nc];
            for (ri, r) in rules.iter().enumerate() {
                if let (Direction::Ingress, Some(b)) = (r.dir, &self.classes.rule_pods[ri]) {
                    b.iter().for_each(|c| by_class[c].push(ri));
                }
            }
            by_class
        };
        let mut ingress_by_class: Option<Vec<Vec<usize>>> = None;
        let mut ingress_by_cell: Vec<Vec<usize>> = vec![Vec::new(); ncell];
        let mut ingress_any_pod = Vec::new();
        let mut ingress_any_cell = Vec::new();
        for (ri, r) in rules.iter().enumerate() {
            if r.dir != Direction::Ingress {
                continue;
            }
            if self.classes.rule_pods[ri].is_none() {
                ingress_any_pod.push(ri);
            }
            match &self.classes.rule_cells[ri] {
                None => ingress_any_cell.push(ri),
                Some(b) => b.iter().for_each(|c| ingress_by_cell[c].push(ri)),
            }
        }
        // Egress rules of every policy, by policy.
        let mut egress_rules_of_policy: Vec<Vec<usize>> = vec![Vec::new(); self.policies.len()];
        for (ri, r) in rules.iter().enumerate() {
            if r.dir == Direction::Egress {
                egress_rules_of_policy[r.policy].push(ri);
            }
        }
        let ingress_base: Vec<u32> = (0..nn)
            .map(|d| {
                if d < nc && !self.ingress_policies[d].is_empty() {
                    EMPTY
                } else {
                    ALL
                }
            })
            .collect();

        // Destinations whose ingress admits everything (not isolated, and every cell), ascending.
        let open: Vec<usize> = (0..nn).filter(|&d| ingress_base[d] == ALL).collect();

        // Rows are sparse: only the destinations a source's rules touch are visited (and reset
        // afterwards), so a source costs its rules and its edges, not one step per destination
        // (a dense pass over all destinations made the whole walk grow with classes squared).
        let mut edges = Vec::new();
        let mut e_row = vec![EMPTY; nn];
        let mut i_row = ingress_base;
        let mut e_touched: Vec<usize> = Vec::new();
        let mut i_touched: Vec<usize> = Vec::new();
        let mut candidates: Vec<usize> = Vec::new();
        for s in 0..nn {
            let from_cell = s >= nc;
            // Egress row: every destination when s is not isolated for egress.
            let egress_open = from_cell || self.egress_policies[s].is_empty();
            if !egress_open {
                for &pi in &self.egress_policies[s] {
                    for &ri in &egress_rules_of_policy[pi] {
                        each(self.classes.rule_pods[ri].as_ref(), nc, |d| {
                            let p = res.ports(ri, res.class_sig[d], &mut interner);
                            widen(&mut e_row, &mut e_touched, &mut interner, d, p);
                        });
                        each(self.classes.rule_cells[ri].as_ref(), ncell, |c| {
                            let p = res.ports(ri, u32::MAX, &mut interner);
                            widen(&mut e_row, &mut e_touched, &mut interner, nc + c, p);
                        });
                    }
                }
            }
            if !egress_open && e_touched.is_empty() {
                continue; // nothing may leave s
            }
            // Ingress row: what each destination's ingress admits from s.
            let (specific, any) = if from_cell {
                (&ingress_by_cell[s - nc], &ingress_any_cell)
            } else {
                let by_class = ingress_by_class.get_or_insert_with(ingress_rules_by_class);
                (&by_class[s], &ingress_any_pod)
            };
            for &ri in specific.iter().chain(any.iter()) {
                for &d in &self.classes.selected[rules[ri].policy] {
                    let p = res.ports(ri, res.class_sig[d], &mut interner);
                    widen(&mut i_row, &mut i_touched, &mut interner, d, p);
                }
            }
            // Combine, over the destinations both rows may admit. External sources only reach
            // classes (no external-to-external traffic).
            let limit = if from_cell { nc } else { nn };
            candidates.clear();
            if egress_open {
                // Destinations with a base of ALL never enter `i_touched`: the two are disjoint.
                candidates.extend(open.iter().copied().take_while(|&d| d < limit));
                candidates.extend(i_touched.iter().copied().filter(|&d| d < limit));
            } else {
                candidates.extend(e_touched.iter().copied().filter(|&d| d < limit));
            }
            candidates.sort_unstable();
            for &d in &candidates {
                let e = if egress_open { ALL } else { e_row[d] };
                let a = interner.intersect(e, i_row[d]);
                if a != EMPTY {
                    edges.push((s as u32, d as u32, a));
                }
            }
            for d in e_touched.drain(..) {
                e_row[d] = EMPTY;
            }
            for d in i_touched.drain(..) {
                i_row[d] = EMPTY;
            }
        }
        Reachability {
            nclasses: nc,
            port_sets: interner.sets,
            edges,
        }
    }
}

/// Adds ports `p` to `row[d]`, noting `d` in `touched` when it stops being empty (a union never
/// empties a set, so each destination is noted at most once per row).
fn widen(row: &mut [u32], touched: &mut Vec<usize>, interner: &mut Interner, d: usize, p: u32) {
    let was = row[d];
    row[d] = interner.union(was, p);
    if was == EMPTY && row[d] != EMPTY {
        touched.push(d);
    }
}

/// Calls `f` for every member of `set`, or for all of `0..n` when `set` is `None` ("any").
fn each(set: Option<&crate::bitset::BitSet>, n: usize, mut f: impl FnMut(usize)) {
    match set {
        None => (0..n).for_each(&mut f),
        Some(b) => b.iter().for_each(f),
    }
}

impl Reachability {
    fn node(&self, id: u32) -> Node {
        let id = id as usize;
        if id < self.nclasses {
            Node::Class(id)
        } else {
            Node::Cell(id - self.nclasses)
        }
    }

    fn id(&self, n: Node) -> u32 {
        match n {
            Node::Class(c) => c as u32,
            Node::Cell(c) => (self.nclasses + c) as u32,
        }
    }

    /// Allowed ports from `src` to `dst` (empty when none).
    pub fn ports(&self, src: Node, dst: Node) -> &PortSet {
        &self.port_sets[self.port_id(src, dst)]
    }

    /// Every allowed (source, destination, ports) between nodes, sorted by source then
    /// destination.
    pub fn edges(&self) -> impl Iterator<Item = (Node, Node, &PortSet)> + '_ {
        self.edges
            .iter()
            .map(|&(s, d, p)| (self.node(s), self.node(d), &self.port_sets[p as usize]))
    }

    /// Number of allowed node pairs.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Port-set id of "no port" (see [`Reachability::port_id`]).
    pub(crate) const EMPTY_ID: usize = EMPTY as usize;

    /// Id of the allowed port set from `src` to `dst` ([`Reachability::EMPTY_ID`] when none).
    pub(crate) fn port_id(&self, src: Node, dst: Node) -> usize {
        let key = (self.id(src), self.id(dst));
        match self.edges.binary_search_by(|e| (e.0, e.1).cmp(&key)) {
            Ok(i) => self.edges[i].2 as usize,
            Err(_) => Self::EMPTY_ID,
        }
    }

    /// Allowed (destination, port-set id) of one source node, by destination node.
    pub(crate) fn edges_from(&self, src: Node) -> impl Iterator<Item = (Node, usize)> + '_ {
        let s = self.id(src);
        let start = self.edges.partition_point(|e| e.0 < s);
        self.edges[start..]
            .iter()
            .take_while(move |e| e.0 == s)
            .map(|&(_, d, p)| (self.node(d), p as usize))
    }

    /// The port set of id `id`.
    pub(crate) fn port_set(&self, id: usize) -> &PortSet {
        &self.port_sets[id]
    }

    /// Number of port-set ids.
    pub(crate) fn port_set_count(&self) -> usize {
        self.port_sets.len()
    }
}
