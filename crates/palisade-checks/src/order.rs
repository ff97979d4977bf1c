//! The report order of findings, computed on compact keys.
//!
//! Findings are ordered most severe first, then by object (file, line, kind, name), check ID,
//! container and path. Millions of findings share a few hundred thousand objects and a hundred
//! checks (their [`Arc`]s are shared), so each distinct object and check is ranked once, by the
//! string comparisons, and the findings are then sorted on `(severity, object rank, check
//! rank)`: integer comparisons, with container and path compared only between findings of the
//! same object and check.

use std::cmp::Ordering;
use std::sync::Arc;

use palisade_model::{Finding, Severity};
use rayon::prelude::*;

/// The positions of `findings` in report order (equal findings keep their input order).
pub(crate) fn report_order(findings: &[Finding]) -> Vec<usize> {
    assert!(u32::try_from(findings.len()).is_ok(), "over 2^32 findings");
    let objects = Ranks::of(findings.iter().map(|f| &f.object), |a, b| {
        a.source
            .cmp(&b.source)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.name.cmp(&b.name))
    });
    let checks = Ranks::of(findings.iter().map(|f| &f.check_id), |a, b| a.cmp(b));
    // u32 positions keep the keyed list at 16 bytes a finding.
    let mut keyed: Vec<(Key, u32)> = findings
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            let key = Key {
                severity: std::cmp::Reverse(f.severity),
                object: objects.rank(&f.object),
                check: checks.rank(&f.check_id),
            };
            (key, i as u32)
        })
        .collect();
    keyed.par_sort_unstable_by(|(ka, a), (kb, b)| {
        ka.cmp(kb)
            .then_with(|| within_object_and_check(&findings[*a as usize], &findings[*b as usize]))
            .then(a.cmp(b))
    });
    keyed.into_iter().map(|(_, i)| i as usize).collect()
}

/// The part of the order that precedes object and check: compared as integers.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    severity: std::cmp::Reverse<Severity>,
    object: u32,
    check: u32,
}

/// The order between two findings of the same severity, object and check.
fn within_object_and_check(a: &Finding, b: &Finding) -> Ordering {
    a.container
        .cmp(&b.container)
        .then_with(|| a.path.cmp(&b.path))
}

/// The rank of each distinct shared value (by address) under an order: values that compare
/// equal share a rank.
struct Ranks {
    /// `(address, rank)`, sorted by address.
    by_address: Vec<(usize, u32)>,
}

impl Ranks {
    fn of<'a, T: ?Sized + Sync + 'a>(
        values: impl Iterator<Item = &'a Arc<T>>,
        order: impl Fn(&T, &T) -> Ordering + Sync,
    ) -> Ranks {
        // Findings come in runs about one object: repeats in a row are skipped at once.
        let mut distinct: Vec<(usize, &T)> = Vec::new();
        for v in values {
            let at = address(v);
            if distinct.last().is_none_or(|(last, _)| *last != at) {
                distinct.push((at, &**v));
            }
        }
        distinct.par_sort_unstable_by_key(|(a, _)| *a);
        distinct.dedup_by_key(|(a, _)| *a);
        let mut sorted: Vec<usize> = (0..distinct.len()).collect();
        sorted.par_sort_unstable_by(|&i, &j| order(distinct[i].1, distinct[j].1));
        let mut by_address: Vec<(usize, u32)> = distinct.iter().map(|(a, _)| (*a, 0)).collect();
        let mut rank = 0u32;
        for pair in sorted.windows(2) {
            if order(distinct[pair[0]].1, distinct[pair[1]].1) != Ordering::Equal {
                rank += 1;
            }
            by_address[pair[1]].1 = rank;
        }
        Ranks { by_address }
    }

    /// The rank of `value`, one of the values ranked.
    fn rank<T: ?Sized>(&self, value: &Arc<T>) -> u32 {
        let at = self
            .by_address
            .binary_search_by_key(&address(value), |(a, _)| *a);
        at.map_or(u32::MAX, |i| self.by_address[i].1)
    }
}

/// The address of a shared value (its identity while the values are borrowed).
fn address<T: ?Sized>(v: &Arc<T>) -> usize {
    Arc::as_ptr(v).cast::<()>() as usize
}

/// Sorts `findings` by `cmp`, equal ones in their order, without a second copy of them (a
/// stable sort's scratch space holds half the findings): their positions are sorted, in
/// parallel, and the findings moved into place once.
pub fn sort_findings_by(
    findings: &mut [Finding],
    cmp: impl Fn(&Finding, &Finding) -> Ordering + Sync,
) {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.par_sort_unstable_by(|&a, &b| cmp(&findings[a], &findings[b]).then(a.cmp(&b)));
    permute(findings, order);
}

/// Reorders `items` in place so that position `i` holds the element that was at `order[i]`.
/// `order` must be a permutation of the positions; each cycle of it is followed with swaps, so
/// no second copy of the items is made.
pub(crate) fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    const DONE: usize = usize::MAX;
    debug_assert_eq!(items.len(), order.len());
    for start in 0..items.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = order[at];
            order[at] = DONE;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_sorted_in_place_keep_the_order_of_equal_ones() {
        let object = Arc::new(palisade_model::meta::ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: None,
            name: "p".into(),
            source: palisade_model::meta::SourceLocation::new("f.yaml", 1),
        });
        let mut findings: Vec<Finding> = (0..50)
            .map(|i| Finding {
                check_id: "PAL-1".into(),
                severity: [Severity::Low, Severity::High, Severity::Medium][i % 3],
                title: "t".into(),
                message: format!("m{i}"),
                remediation: "r".into(),
                object: object.clone(),
                container: None,
                path: None,
            })
            .collect();
        let mut expected = findings.clone();
        expected.sort_by_key(|f| std::cmp::Reverse(f.severity));
        sort_findings_by(&mut findings, |a, b| b.severity.cmp(&a.severity));
        assert_eq!(findings, expected);
    }

    #[test]
    fn permute_places_each_element_where_the_order_says() {
        // Several cycles, a fixed point and a two-cycle.
        let order = vec![3, 0, 2, 5, 1, 4, 7, 6];
        let mut items: Vec<char> = "abcdefgh".chars().collect();
        let expected: Vec<char> = order.iter().map(|&i| items[i]).collect();
        permute(&mut items, order);
        assert_eq!(items, expected);
        let mut none: Vec<u8> = Vec::new();
        permute(&mut none, Vec::new());
        assert!(none.is_empty());
    }
}
