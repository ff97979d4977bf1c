//! Whether a version is affected by one OSV `affected` entry, following the OSV schema's
//! evaluation algorithm exactly:
//!
//! - affected if the version equals one of `versions`, or lies in any range;
//! - a range applies only if the version is below one of its `limit` events (no limit = `*`);
//! - events are sorted by version (`introduced: "0"` first); walking them in order,
//!   `introduced` (`v >= introduced`) sets vulnerable, `fixed` (`v >= fixed`) clears it and
//!   `last_affected` (`v > last_affected`) clears it.
//!
//! `GIT` ranges cannot be evaluated against package versions and are skipped (counted);
//! a range with an event version the ecosystem cannot parse is skipped (counted).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

use palisade_model::{Ecosystem, VersionScheme};
use palisade_version::{Version, VersionError};

use crate::record::{AffectedPackage, RangeEvent, RangeKind, VersionRange};

/// Counters of what could not be evaluated.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RangeStats {
    /// `GIT` ranges skipped.
    pub git_ranges_skipped: u64,
    /// Ranges skipped because an event version could not be parsed.
    pub unparseable_ranges: u64,
}

/// The outcome for one affected entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluation {
    /// The version is affected; `fixed` is the first fixed version above it, if any.
    Affected {
        /// The nearest fixed version above the installed version.
        fixed: Option<String>,
    },
    /// The version is not affected.
    NotAffected,
}

/// Parses `version` for a range of `kind` in `ecosystem`.
pub fn parse_for(
    ecosystem: &Ecosystem,
    kind: &RangeKind,
    version: &str,
) -> Result<Version, VersionError> {
    match kind {
        RangeKind::Semver if semver_ranges_use_semver(ecosystem) => {
            palisade_version::semver::SemVersion::parse(version).map(Version::SemVer)
        }
        _ => palisade_version::parse(ecosystem, version),
    }
}

/// Whether `SEMVER` ranges of `ecosystem` are ordered by SemVer precedence: all but the Go
/// scheme, whose own ordering reads the `v`-prefixed and `go1.x` spellings.
fn semver_ranges_use_semver(ecosystem: &Ecosystem) -> bool {
    ecosystem.version_scheme() != Some(VersionScheme::Go)
}

/// Parse results by version string (`None`: unparseable).
type ParsedBySpelling = HashMap<String, Option<Rc<Version>>>;

/// Parsed versions memoized during one matching run (advisories repeat the same version
/// strings many times, e.g. PyPI `versions` lists).
#[derive(Debug, Default)]
pub struct VersionCache {
    maps: HashMap<(Ecosystem, bool), ParsedBySpelling>,
}

impl VersionCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// `version` parsed for a range of `kind` in `ecosystem` (as [`parse_for`]), memoized.
    pub fn get(
        &mut self,
        ecosystem: &Ecosystem,
        kind: &RangeKind,
        version: &str,
    ) -> Option<Rc<Version>> {
        let semver = *kind == RangeKind::Semver && semver_ranges_use_semver(ecosystem);
        let map = self.maps.entry((ecosystem.clone(), semver)).or_default();
        if let Some(v) = map.get(version) {
            return v.clone();
        }
        let parsed = parse_for(ecosystem, kind, version).ok().map(Rc::new);
        map.insert(version.to_string(), parsed.clone());
        parsed
    }
}

/// The first version of `affected`'s ranges (the installed one included, as each range reads
/// it) that cannot be parsed, with the parser's error; `GIT` ranges are not read.
pub fn unparseable_version(
    ecosystem: &Ecosystem,
    installed: &str,
    affected: &AffectedPackage,
) -> Option<(String, VersionError)> {
    affected
        .ranges
        .iter()
        .filter(|r| r.kind != RangeKind::Git)
        .flat_map(|r| {
            let bounds = r.events.iter().filter_map(|e| match e {
                RangeEvent::Introduced(v) if v == "0" => None,
                RangeEvent::Limit(v) if v == "*" => None,
                other => Some(other.version()),
            });
            std::iter::once(installed)
                .chain(bounds)
                .map(move |v| (v, &r.kind))
        })
        .find_map(|(v, kind)| {
            parse_for(ecosystem, kind, v)
                .err()
                .map(|e| (v.to_string(), e))
        })
}

/// A bound of the sort order: `introduced: "0"` is below and `limit: "*"` above every version.
#[derive(Debug)]
enum Bound {
    Bottom,
    At(Rc<Version>),
    Top,
}

fn cmp_version_bound(v: &Version, b: &Bound) -> Ordering {
    match b {
        Bound::Bottom => Ordering::Greater,
        Bound::Top => Ordering::Less,
        Bound::At(x) => v.compare(x).unwrap_or(Ordering::Equal),
    }
}

fn cmp_bounds(a: &Bound, b: &Bound) -> Ordering {
    match (a, b) {
        (Bound::Bottom, Bound::Bottom) | (Bound::Top, Bound::Top) => Ordering::Equal,
        (Bound::Bottom, _) | (_, Bound::Top) => Ordering::Less,
        (_, Bound::Bottom) | (Bound::Top, _) => Ordering::Greater,
        (Bound::At(x), Bound::At(y)) => x.compare(y).unwrap_or(Ordering::Equal),
    }
}

/// Evaluates one range; `None` when it cannot be evaluated.
fn evaluate_range(
    ecosystem: &Ecosystem,
    installed_raw: &str,
    range: &VersionRange,
    stats: &mut RangeStats,
    cache: &mut VersionCache,
) -> Option<Evaluation> {
    if range.kind == RangeKind::Git {
        stats.git_ranges_skipped += 1;
        return None;
    }
    let Some(installed) = cache.get(ecosystem, &range.kind, installed_raw) else {
        stats.unparseable_ranges += 1;
        return None;
    };
    let mut events: Vec<(Bound, &RangeEvent)> = Vec::with_capacity(range.events.len());
    for e in &range.events {
        let bound = match e {
            RangeEvent::Introduced(v) if v == "0" => Bound::Bottom,
            RangeEvent::Limit(v) if v == "*" => Bound::Top,
            other => match cache.get(ecosystem, &range.kind, other.version()) {
                Some(v) => Bound::At(v),
                None => {
                    stats.unparseable_ranges += 1;
                    return None;
                }
            },
        };
        events.push((bound, e));
    }
    // BeforeLimits: with no limit events an implicit "*" applies.
    let limits: Vec<&Bound> = events
        .iter()
        .filter(|(_, e)| matches!(e, RangeEvent::Limit(_)))
        .map(|(b, _)| b)
        .collect();
    if !limits.is_empty()
        && !limits
            .iter()
            .any(|b| cmp_version_bound(&installed, b) == Ordering::Less)
    {
        return Some(Evaluation::NotAffected);
    }
    // Stable sort keeps the record's order between events at the same version.
    events.sort_by(|a, b| cmp_bounds(&a.0, &b.0));
    let mut vulnerable = false;
    for (bound, event) in &events {
        let ord = cmp_version_bound(&installed, bound);
        match event {
            RangeEvent::Introduced(_) if ord != Ordering::Less => vulnerable = true,
            RangeEvent::Fixed(_) if ord != Ordering::Less => vulnerable = false,
            RangeEvent::LastAffected(_) if ord == Ordering::Greater => vulnerable = false,
            _ => {}
        }
    }
    if !vulnerable {
        return Some(Evaluation::NotAffected);
    }
    let fixed = events
        .iter()
        .filter(|(b, e)| {
            matches!(e, RangeEvent::Fixed(_)) && cmp_version_bound(&installed, b) == Ordering::Less
        })
        .map(|(_, e)| e.version().to_string())
        .next();
    Some(Evaluation::Affected { fixed })
}

/// Evaluates an affected entry for an installed version of `ecosystem`.
pub fn evaluate(
    ecosystem: &Ecosystem,
    installed_raw: &str,
    affected: &AffectedPackage,
    stats: &mut RangeStats,
) -> Evaluation {
    evaluate_cached(
        ecosystem,
        installed_raw,
        affected,
        stats,
        &mut VersionCache::new(),
    )
}

/// Whether `installed` equals (by the ecosystem's ordering) one of `versions`.
fn listed_in(
    ecosystem: &Ecosystem,
    installed: &str,
    versions: &[String],
    cache: &mut VersionCache,
) -> bool {
    if versions.is_empty() {
        return false;
    }
    if versions.iter().any(|v| v == installed) {
        return true;
    }
    let Some(parsed) = cache.get(ecosystem, &RangeKind::Ecosystem, installed) else {
        return false;
    };
    versions.iter().any(|v| {
        cache
            .get(ecosystem, &RangeKind::Ecosystem, v)
            .is_some_and(|b| parsed.compare(&b) == Some(Ordering::Equal))
    })
}

/// [`evaluate`] with a version cache shared across calls.
pub fn evaluate_cached(
    ecosystem: &Ecosystem,
    installed_raw: &str,
    affected: &AffectedPackage,
    stats: &mut RangeStats,
    cache: &mut VersionCache,
) -> Evaluation {
    let mut best_fixed: Option<(Rc<Version>, String)> = None;
    let mut in_range = false;
    for range in &affected.ranges {
        if let Some(Evaluation::Affected { fixed }) =
            evaluate_range(ecosystem, installed_raw, range, stats, cache)
        {
            in_range = true;
            if let Some(f) = fixed
                && let Some(parsed) = cache.get(ecosystem, &range.kind, &f)
            {
                let better = best_fixed
                    .as_ref()
                    .is_none_or(|(b, _)| parsed.compare(b) == Some(Ordering::Less));
                if better {
                    best_fixed = Some((parsed, f));
                }
            }
        }
    }
    // The explicit list only matters when no range already says "affected".
    let listed = !in_range && listed_in(ecosystem, installed_raw, &affected.versions, cache);
    if listed || in_range {
        Evaluation::Affected {
            fixed: best_fixed.map(|(_, s)| s),
        }
    } else {
        Evaluation::NotAffected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: RangeKind, events: Vec<RangeEvent>, versions: &[&str]) -> AffectedPackage {
        AffectedPackage {
            ecosystem: "x".into(),
            name: "x".into(),
            ranges: vec![VersionRange { kind, events }],
            versions: versions.iter().map(|s| s.to_string()).collect(),
            severity: Vec::new(),
        }
    }
    use RangeEvent::{Fixed, Introduced, LastAffected, Limit};

    fn affected(eco: &Ecosystem, v: &str, a: &AffectedPackage) -> Option<Option<String>> {
        match evaluate(eco, v, a, &mut RangeStats::default()) {
            Evaluation::Affected { fixed } => Some(fixed),
            Evaluation::NotAffected => None,
        }
    }

    #[test]
    fn schema_multiple_range_example() {
        // OSV schema example: [1.0.0, 1.0.2) and [3.0.0, 3.2.5) are affected.
        let a = entry(
            RangeKind::Semver,
            vec![
                Introduced("1.0.0".into()),
                Fixed("1.0.2".into()),
                Introduced("3.0.0".into()),
                Fixed("3.2.5".into()),
            ],
            &[],
        );
        let e = Ecosystem::CratesIo;
        assert_eq!(affected(&e, "0.9.0", &a), None);
        assert_eq!(affected(&e, "1.0.0", &a), Some(Some("1.0.2".into())));
        assert_eq!(affected(&e, "1.0.1", &a), Some(Some("1.0.2".into())));
        assert_eq!(affected(&e, "1.0.2", &a), None);
        assert_eq!(affected(&e, "2.5.0", &a), None);
        assert_eq!(affected(&e, "3.2.4", &a), Some(Some("3.2.5".into())));
        assert_eq!(affected(&e, "3.2.5", &a), None);
    }

    #[test]
    fn unsorted_events_are_sorted_first() {
        let a = entry(
            RangeKind::Semver,
            vec![
                Fixed("3.2.5".into()),
                Introduced("3.0.0".into()),
                Fixed("1.0.2".into()),
                Introduced("1.0.0".into()),
            ],
            &[],
        );
        assert_eq!(
            affected(&Ecosystem::Npm, "3.1.0", &a),
            Some(Some("3.2.5".into()))
        );
        assert_eq!(affected(&Ecosystem::Npm, "2.0.0", &a), None);
    }

    #[test]
    fn last_affected_is_inclusive_and_unfixed_is_open() {
        let a = entry(
            RangeKind::Ecosystem,
            vec![Introduced("0".into()), LastAffected("2.1.214".into())],
            &[],
        );
        assert_eq!(affected(&Ecosystem::Maven, "2.1.214", &a), Some(None));
        assert_eq!(affected(&Ecosystem::Maven, "2.1.215", &a), None);
        let open = entry(RangeKind::Ecosystem, vec![Introduced("0".into())], &[]);
        assert_eq!(affected(&Ecosystem::PyPI, "99.0", &open), Some(None));
    }

    #[test]
    fn limits_bound_the_range() {
        let a = entry(
            RangeKind::Semver,
            vec![Introduced("1.0.0".into()), Limit("2.0.0".into())],
            &[],
        );
        assert_eq!(affected(&Ecosystem::Npm, "1.5.0", &a), Some(None));
        assert_eq!(affected(&Ecosystem::Npm, "2.0.0", &a), None);
        let star = entry(
            RangeKind::Semver,
            vec![Introduced("1.0.0".into()), Limit("*".into())],
            &[],
        );
        assert_eq!(affected(&Ecosystem::Npm, "9.0.0", &star), Some(None));
    }

    #[test]
    fn explicit_versions_and_ecosystem_equality() {
        let a = entry(
            RangeKind::Git,
            vec![Introduced("0".into()), Fixed("abc123".into())],
            &["1.0", "1.1"],
        );
        let mut stats = RangeStats::default();
        assert!(matches!(
            evaluate(&Ecosystem::PyPI, "1.0.0", &a, &mut stats),
            Evaluation::Affected { .. }
        ));
        assert_eq!(stats.git_ranges_skipped, 1);
        assert_eq!(affected(&Ecosystem::PyPI, "1.2", &a), None);
    }

    #[test]
    fn unparseable_bounds_are_counted_not_matched() {
        let a = entry(
            RangeKind::Semver,
            vec![Introduced("0".into()), Fixed("not-a-version".into())],
            &[],
        );
        let mut stats = RangeStats::default();
        assert_eq!(
            evaluate(&Ecosystem::Npm, "1.0.0", &a, &mut stats),
            Evaluation::NotAffected
        );
        assert_eq!(stats.unparseable_ranges, 1);
    }

    #[test]
    fn go_semver_ranges_use_go_versions() {
        let a = entry(
            RangeKind::Semver,
            vec![
                Introduced("0".into()),
                Fixed("1.19.10".into()),
                Introduced("1.20.0-0".into()),
                Fixed("1.20.5".into()),
            ],
            &[],
        );
        assert_eq!(
            affected(&Ecosystem::Go, "go1.20.4", &a),
            Some(Some("1.20.5".into()))
        );
        assert_eq!(affected(&Ecosystem::Go, "go1.20.5", &a), None);
        assert_eq!(
            affected(&Ecosystem::Go, "go1.19.9", &a),
            Some(Some("1.19.10".into()))
        );
        assert_eq!(affected(&Ecosystem::Go, "go1.19.10", &a), None);
    }
}
