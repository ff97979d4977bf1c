//! Equivalence classes of workloads.
//!
//! Step 1 groups workloads by (namespace, pod labels, named ports that some policy refers to):
//! selectors are evaluated once per such *label class*, never per workload.
//! Step 2 evaluates every selector "atom" (the pods each policy selects, the pods each rule's
//! peers cover) on label classes, and merges label classes that belong to exactly the same atoms
//! and have the same named ports into *reach classes*. Two workloads of one reach class are
//! indistinguishable to every policy, so reachability is computed once per pair of reach
//! classes. With no policy at all, every workload lands in one class.

use std::collections::{HashMap, HashSet};

use palisade_model::Labels;

use crate::bitset::BitSet;
use crate::ipspace::IpPartition;
use crate::policy::{Direction, NamespaceScope, Peer, Peers, Policy};
use crate::selectors::Selector;
use crate::universe::{NamedPorts, Universe};

/// One rule of one policy, in a flat numbering across all policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RuleId {
    /// Index of the policy.
    pub(crate) policy: usize,
    /// Direction.
    pub(crate) dir: Direction,
    /// Index of the rule inside `spec.ingress` / `spec.egress`.
    pub(crate) index: usize,
}

/// Reach classes and the atoms evaluated on them.
#[derive(Debug, Clone)]
pub(crate) struct Classes {
    /// Reach class of every endpoint.
    pub(crate) class_of: Vec<usize>,
    /// Endpoints of every reach class, ascending.
    pub(crate) members: Vec<Vec<usize>>,
    /// Number of label classes (for statistics).
    pub(crate) label_classes: usize,
    /// Reach classes each policy selects (ascending).
    pub(crate) selected: Vec<Vec<usize>>,
    /// Every rule of every policy that affects its direction.
    pub(crate) rules: Vec<RuleId>,
    /// Per rule: reach classes its peers cover (`None` = every pod).
    pub(crate) rule_pods: Vec<Option<BitSet>>,
    /// Per rule: external cells its peers cover (`None` = every address).
    pub(crate) rule_cells: Vec<Option<BitSet>>,
}

struct LabelClass<'a> {
    ns: usize,
    labels: &'a Labels,
    named: NamedPorts,
    endpoints: Vec<usize>,
}

struct Index<'u, 'a> {
    universe: &'u Universe<'a>,
    classes: Vec<LabelClass<'a>>,
    by_ns: Vec<Vec<usize>>,
    by_label: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'u, 'a> Index<'u, 'a> {
    fn build(universe: &'u Universe<'a>, referenced_names: &HashSet<&str>) -> Self {
        let mut classes: Vec<LabelClass<'a>> = Vec::new();
        // Keyed by whole label maps: foldhash (randomly seeded, so crafted labels cannot aim
        // at collisions) hashes them several times faster than SipHash.
        let mut key_to_class: foldhash::HashMap<(usize, &'a Labels, NamedPorts), usize> =
            foldhash::HashMap::default();
        for (ei, e) in universe.members.iter().enumerate() {
            let named: NamedPorts = e
                .named_ports
                .iter()
                .filter(|(k, _)| referenced_names.contains(k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let key = (e.namespace, e.labels, named);
            let ci = match key_to_class.get(&key) {
                Some(&ci) => ci,
                None => {
                    let ci = classes.len();
                    classes.push(LabelClass {
                        ns: key.0,
                        labels: key.1,
                        named: key.2.clone(),
                        endpoints: Vec::new(),
                    });
                    key_to_class.insert(key, ci);
                    ci
                }
            };
            classes[ci].endpoints.push(ei);
        }
        let mut by_ns = vec![Vec::new(); universe.namespaces.len()];
        let mut by_label: HashMap<(&'a str, &'a str), Vec<usize>> = HashMap::new();
        for (ci, c) in classes.iter().enumerate() {
            by_ns[c.ns].push(ci);
            for (k, v) in c.labels {
                by_label
                    .entry((k.as_str(), v.as_str()))
                    .or_default()
                    .push(ci);
            }
        }
        Index {
            universe,
            classes,
            by_ns,
            by_label,
        }
    }

    /// Label classes in the namespaces `scope` covers whose pods match `pods` (None = all).
    fn pods_in(&self, scope: &Scope, pods: Option<&Selector>, out: &mut Vec<usize>) {
        if let Some(sel) = pods {
            // Use the rarest matchLabels pair as the candidate list.
            let shortest = sel
                .match_labels()
                .iter()
                .map(|(k, v)| {
                    self.by_label
                        .get(&(k.as_str(), v.as_str()))
                        .map_or(&[][..], Vec::as_slice)
                })
                .min_by_key(|l| l.len());
            // In one namespace, its own classes may be fewer than the pair's across the cluster
            // (`app: web` in every namespace): take the shorter list.
            let own = match scope {
                Scope::One(Some(ns)) => Some(self.by_ns[*ns].as_slice()),
                _ => None,
            };
            let shortest = match (shortest, own) {
                (Some(pair), Some(own)) if own.len() < pair.len() => Some(own),
                (shortest, _) => shortest,
            };
            if let Some(cands) = shortest {
                out.extend(cands.iter().copied().filter(|&ci| {
                    let c = &self.classes[ci];
                    scope.covers(c.ns) && sel.matches(c.labels)
                }));
                return;
            }
        }
        let in_ns = |ns: usize| {
            self.by_ns[ns]
                .iter()
                .copied()
                .filter(move |&ci| pods.is_none_or(|s| s.matches(self.classes[ci].labels)))
        };
        match scope {
            Scope::One(ns) => out.extend(ns.iter().flat_map(|&ns| in_ns(ns))),
            Scope::Mask(mask) => {
                for (ns, on) in mask.iter().enumerate() {
                    if *on {
                        out.extend(in_ns(ns));
                    }
                }
            }
        }
    }

    /// The policy's own namespace (a look-up, not a mask over every namespace).
    fn own_namespace(&self, name: &str) -> Scope {
        Scope::One(self.universe.find_namespace(name))
    }

    fn peer_classes(&self, peer: &Peer, out: &mut Vec<usize>) {
        if let Peer::Pods { namespaces, pods } = peer {
            let scope = match namespaces {
                NamespaceScope::Own(ns) => self.own_namespace(ns),
                NamespaceScope::Matching(sel) => Scope::Mask(
                    self.universe
                        .namespaces
                        .iter()
                        .map(|n| sel.matches(&n.labels))
                        .collect(),
                ),
            };
            self.pods_in(&scope, pods.as_ref(), out);
        }
    }
}

/// The namespaces a selection looks in.
enum Scope {
    /// One namespace (`None`: a namespace no workload or Namespace object has).
    One(Option<usize>),
    /// The namespaces whose entry is true.
    Mask(Vec<bool>),
}

impl Scope {
    fn covers(&self, ns: usize) -> bool {
        match self {
            Scope::One(one) => *one == Some(ns),
            Scope::Mask(mask) => mask[ns],
        }
    }
}

/// What a rule's pod peers are, as a key: rules with equal keys cover the same label classes,
/// so their atom is evaluated once and shared (many policies admit the same peers, e.g. one
/// team's namespaces; evaluating each again made the atoms grow with rules × classes).
type PeersKey<'p> = Vec<(Option<&'p str>, Option<&'p Selector>, Option<&'p Selector>)>;

fn peers_key(peers: &[Peer]) -> PeersKey<'_> {
    peers
        .iter()
        .filter_map(|peer| match peer {
            Peer::Pods { namespaces, pods } => Some(match namespaces {
                NamespaceScope::Own(ns) => (Some(ns.as_str()), None, pods.as_ref()),
                NamespaceScope::Matching(sel) => (None, Some(sel), pods.as_ref()),
            }),
            Peer::IpBlock { .. } | Peer::Nothing => None,
        })
        .collect()
}

/// Port names that any policy refers to.
fn referenced_port_names(policies: &[Policy]) -> HashSet<&str> {
    let mut names = HashSet::new();
    for p in policies {
        for rules in [p.ingress.as_deref(), p.egress.as_deref()]
            .into_iter()
            .flatten()
        {
            for r in rules {
                names.extend(r.ports.names());
            }
        }
    }
    names
}

/// Builds reach classes and evaluates every atom.
pub(crate) fn build(universe: &Universe<'_>, policies: &[Policy], cells: &IpPartition) -> Classes {
    let referenced = referenced_port_names(policies);
    let index = Index::build(universe, &referenced);
    let nlc = index.classes.len();

    // Atoms on label classes: policy selections first, then rule peer sets.
    let mut signature: Vec<Vec<u32>> = vec![Vec::new(); nlc];
    let mut atom_members: Vec<Vec<usize>> = Vec::new();
    let mut buf = Vec::new();
    for p in policies {
        buf.clear();
        if let Some(sel) = &p.selector {
            index.pods_in(&index.own_namespace(&p.namespace), Some(sel), &mut buf);
        }
        atom_members.push(sorted_unique(&mut buf));
    }
    let mut rules = Vec::new();
    let mut rule_atom: Vec<Option<usize>> = Vec::new();
    let mut atom_of_peers: HashMap<PeersKey<'_>, usize> = HashMap::new();
    for (pi, p) in policies.iter().enumerate() {
        for dir in [Direction::Ingress, Direction::Egress] {
            for (ri, rule) in p.rules(dir).into_iter().flatten().enumerate() {
                rules.push(RuleId {
                    policy: pi,
                    dir,
                    index: ri,
                });
                match &rule.peers {
                    Peers::Any => rule_atom.push(None),
                    Peers::List(peers) => {
                        let next = atom_members.len();
                        let atom = *atom_of_peers.entry(peers_key(peers)).or_insert(next);
                        if atom == next {
                            buf.clear();
                            for peer in peers {
                                index.peer_classes(peer, &mut buf);
                            }
                            atom_members.push(sorted_unique(&mut buf));
                        }
                        rule_atom.push(Some(atom));
                    }
                }
            }
        }
    }
    for (ai, members) in atom_members.iter().enumerate() {
        for &lc in members {
            signature[lc].push(ai as u32);
        }
    }

    // Merge label classes with equal signatures and named ports into reach classes.
    let mut reach_of_lc = vec![0usize; nlc];
    let mut key_to_reach: HashMap<(&[u32], &NamedPorts), usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for lc in 0..nlc {
        let key = (signature[lc].as_slice(), &index.classes[lc].named);
        let next = members.len();
        let rc = *key_to_reach.entry(key).or_insert(next);
        if rc == next {
            members.push(Vec::new());
        }
        reach_of_lc[lc] = rc;
        members[rc].extend(index.classes[lc].endpoints.iter().copied());
    }
    for m in &mut members {
        m.sort_unstable();
    }
    let nrc = members.len();
    let mut class_of = vec![0usize; universe.members.len()];
    for (rc, m) in members.iter().enumerate() {
        for &e in m {
            class_of[e] = rc;
        }
    }
    let to_reach = |lcs: &[usize]| -> Vec<usize> {
        let mut v: Vec<usize> = lcs.iter().map(|&lc| reach_of_lc[lc]).collect();
        sorted_unique(&mut v)
    };
    let selected: Vec<Vec<usize>> = atom_members[..policies.len()]
        .iter()
        .map(|m| to_reach(m))
        .collect();
    // Reach classes of each rule's atom, built once per atom (rules share atoms).
    let mut atom_pods: HashMap<usize, BitSet> = HashMap::new();
    let rule_pods: Vec<Option<BitSet>> = rule_atom
        .iter()
        .map(|a| {
            a.map(|ai| {
                atom_pods
                    .entry(ai)
                    .or_insert_with(|| {
                        let mut b = BitSet::new(nrc);
                        for rc in to_reach(&atom_members[ai]) {
                            b.insert(rc);
                        }
                        b
                    })
                    .clone()
            })
        })
        .collect();
    let rule_cells = rules
        .iter()
        .map(|r| {
            let rule = &policies[r.policy].rules(r.dir).unwrap_or(&[])[r.index];
            rule_cell_set(&rule.peers, cells)
        })
        .collect();
    Classes {
        class_of,
        members,
        label_classes: nlc,
        selected,
        rules,
        rule_pods,
        rule_cells,
    }
}

/// External cells covered by a rule's peers (`None` = every address).
fn rule_cell_set(peers: &Peers, cells: &IpPartition) -> Option<BitSet> {
    let Peers::List(list) = peers else {
        return None;
    };
    let mut set = BitSet::new(cells.len());
    for peer in list {
        if let Peer::IpBlock { cidr, except } = peer {
            let mut block = BitSet::new(cells.len());
            for c in cells.cells_of(cidr) {
                block.insert(c);
            }
            for e in except {
                for c in cells.cells_of(e) {
                    block.remove(c);
                }
            }
            set.union_with(&block);
        }
    }
    Some(set)
}

fn sorted_unique(v: &mut Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v.dedup();
    std::mem::take(v)
}
