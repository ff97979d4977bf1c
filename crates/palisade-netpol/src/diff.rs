//! What changes between two manifest sets: connections added, removed and changed (the policy
//! simulator).
//!
//! Both sides are analysed over one shared external IP partition (the union of both sides'
//! ipBlock boundaries), so external ranges compare cell by cell. Workloads are matched by
//! namespace/kind/name. Only class pairs that have an edge on at least one side are examined,
//! then expanded to workloads.

use std::collections::{HashMap, HashSet};

use palisade_model::{Diagnostic, Inventory, WorkloadId};
use serde::Serialize;

use crate::analysis::Analysis;
use crate::connectivity::Endpoint;
use crate::evaluate::{Node, Reachability};
use crate::ports::PortSet;

/// How a connection changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Denied before, allowed now.
    Added,
    /// Allowed before, denied now.
    Removed,
    /// Allowed on both sides, with different ports.
    Changed,
}

/// One changed (source, destination) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionChange {
    /// Source.
    pub src: Endpoint,
    /// Destination.
    pub dst: Endpoint,
    /// Kind of change.
    pub change: ChangeKind,
    /// Ports allowed before.
    pub before: PortSet,
    /// Ports allowed after.
    pub after: PortSet,
    /// `after` minus `before`.
    pub added: PortSet,
    /// `before` minus `after`.
    pub removed: PortSet,
}

/// The difference between two manifest sets.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// Changed pairs, sorted by source then destination.
    pub changes: Vec<ConnectionChange>,
    /// Workloads only in the old set.
    pub only_in_old: Vec<WorkloadId>,
    /// Workloads only in the new set.
    pub only_in_new: Vec<WorkloadId>,
    /// Problems in the old set's policies.
    #[serde(serialize_with = "crate::diagnostics::serialize")]
    pub old_diagnostics: Vec<Diagnostic>,
    /// Problems in the new set's policies.
    #[serde(serialize_with = "crate::diagnostics::serialize")]
    pub new_diagnostics: Vec<Diagnostic>,
}

/// A node of the joint graph: what a group of endpoints is on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Joint {
    old: Option<Node>,
    new: Option<Node>,
}

/// The diff would list more changed pairs than allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rows} changed connections (more than the limit of {limit})")]
pub struct TooManyChanges {
    /// Rows the full diff has.
    pub rows: u64,
    /// The limit.
    pub limit: u64,
}

/// Compares the connectivity of two inventories, refusing to expand more than `max_rows`
/// changed (source, destination) rows, which bounds memory on large inputs (`u64::MAX` for no
/// limit).
pub fn diff(old: &Inventory, new: &Inventory, max_rows: u64) -> Result<Diff, TooManyChanges> {
    let mut nets = Analysis::new(old).partition_nets();
    nets.extend(Analysis::new(new).partition_nets());
    nets.sort_unstable();
    nets.dedup();
    let a_old = Analysis::with_extra_cidrs(old, &nets);
    let a_new = Analysis::with_extra_cidrs(new, &nets);
    let r_old = a_old.reachability();
    let r_new = a_new.reachability();
    diff_analyses(&a_old, &r_old, &a_new, &r_new, max_rows)
}

/// Compares two analyses that share one IP partition (see [`Analysis::with_extra_cidrs`]),
/// expanding at most `max_rows` changed rows.
pub fn diff_analyses(
    a_old: &Analysis<'_>,
    r_old: &Reachability,
    a_new: &Analysis<'_>,
    r_new: &Reachability,
    max_rows: u64,
) -> Result<Diff, TooManyChanges> {
    // Joint nodes and their endpoints.
    let mut ids: HashMap<&WorkloadId, (Option<usize>, Option<usize>)> = HashMap::new();
    for (i, m) in a_old.universe.members.iter().enumerate() {
        ids.entry(&m.id).or_default().0 = Some(i);
    }
    for (i, m) in a_new.universe.members.iter().enumerate() {
        ids.entry(&m.id).or_default().1 = Some(i);
    }
    let mut joints: Vec<Joint> = Vec::new();
    let mut joint_members: Vec<Vec<Endpoint>> = Vec::new();
    let mut joint_index: HashMap<Joint, usize> = HashMap::new();
    let mut add =
        |j: Joint, e: Endpoint, joints: &mut Vec<Joint>, members: &mut Vec<Vec<Endpoint>>| {
            let next = joints.len();
            let k = *joint_index.entry(j).or_insert(next);
            if k == next {
                joints.push(j);
                members.push(Vec::new());
            }
            members[k].push(e);
        };
    let mut only_in_old = Vec::new();
    let mut only_in_new = Vec::new();
    let mut sorted_ids: Vec<_> = ids.into_iter().collect();
    sorted_ids.sort_by(|a, b| a.0.cmp(b.0));
    for (id, (o, n)) in sorted_ids {
        match (o, n) {
            (Some(_), None) => only_in_old.push(id.clone()),
            (None, Some(_)) => only_in_new.push(id.clone()),
            _ => {}
        }
        let j = Joint {
            old: o.map(|m| Node::Class(a_old.classes.class_of[m])),
            new: n.map(|m| Node::Class(a_new.classes.class_of[m])),
        };
        add(
            j,
            Endpoint::Workload(id.clone()),
            &mut joints,
            &mut joint_members,
        );
    }
    for c in 0..a_old.cells.len() {
        let j = Joint {
            old: Some(Node::Cell(c)),
            new: Some(Node::Cell(c)),
        };
        add(
            j,
            Endpoint::External(a_old.cells.cell(c)),
            &mut joints,
            &mut joint_members,
        );
    }
    let mut by_old: HashMap<Node, Vec<usize>> = HashMap::new();
    let mut by_new: HashMap<Node, Vec<usize>> = HashMap::new();
    for (k, j) in joints.iter().enumerate() {
        if let Some(o) = j.old {
            by_old.entry(o).or_default().push(k);
        }
        if let Some(n) = j.new {
            by_new.entry(n).or_default().push(k);
        }
    }
    let mut candidates: HashSet<(usize, usize)> = HashSet::new();
    for (index, reach) in [(&by_old, r_old), (&by_new, r_new)] {
        for (s, d, _) in reach.edges() {
            for &js in index.get(&s).into_iter().flatten() {
                for &jd in index.get(&d).into_iter().flatten() {
                    candidates.insert((js, jd));
                }
            }
        }
    }
    let empty = PortSet::empty();
    let mut changed = Vec::new();
    let mut rows = 0u64;
    for (js, jd) in candidates {
        let (s, d) = (joints[js], joints[jd]);
        let before = match (s.old, d.old) {
            (Some(a), Some(b)) => r_old.ports(a, b),
            _ => &empty,
        };
        let after = match (s.new, d.new) {
            (Some(a), Some(b)) => r_new.ports(a, b),
            _ => &empty,
        };
        if before == after {
            continue;
        }
        let change = if before.is_empty() {
            ChangeKind::Added
        } else if after.is_empty() {
            ChangeKind::Removed
        } else {
            ChangeKind::Changed
        };
        rows += (joint_members[js].len() * joint_members[jd].len()) as u64;
        changed.push((js, jd, change, before.clone(), after.clone()));
    }
    if rows > max_rows {
        return Err(TooManyChanges {
            rows,
            limit: max_rows,
        });
    }
    let mut changes = Vec::new();
    for (js, jd, change, before, after) in changed {
        let added = after.difference(&before);
        let removed = before.difference(&after);
        for se in &joint_members[js] {
            for de in &joint_members[jd] {
                changes.push(ConnectionChange {
                    src: se.clone(),
                    dst: de.clone(),
                    change,
                    before: before.clone(),
                    after: after.clone(),
                    added: added.clone(),
                    removed: removed.clone(),
                });
            }
        }
    }
    changes.sort_by(|a, b| (&a.src, &a.dst).cmp(&(&b.src, &b.dst)));
    Ok(Diff {
        changes,
        only_in_old,
        only_in_new,
        old_diagnostics: a_old.diagnostics.clone(),
        new_diagnostics: a_new.diagnostics.clone(),
    })
}
