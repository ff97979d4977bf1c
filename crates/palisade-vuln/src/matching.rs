//! Matching inventoried packages against advisories.
//!
//! - Distribution packages (Debian, Ubuntu, Alpine, RPM) are matched by their *source*
//!   package (`source_name`, `source_version` when present), restricted to advisories of the
//!   same release when both sides name one.
//! - PyPI names are compared in PEP 503 normalized form; other names exactly.
//! - A Go binary's toolchain is matched as the `stdlib` module of the Go ecosystem
//!   (see [`go_stdlib_package`]).
//! - Advisories that share an id or alias (CVE / GHSA / PYSEC / RUSTSEC / GO / DSA …) and
//!   affect the same package are merged, so one vulnerability is reported once per package.

use std::collections::{BTreeSet, HashMap};

use palisade_model::{Ecosystem, Package, Severity};
use serde::Serialize;

use crate::cvss;
use crate::notorious::notorious_name;
use crate::range::{self, Evaluation, RangeStats};
use crate::record::Advisory;
use crate::release::{normalize_release, split_ecosystem};

/// The module name under which the Go vulnerability database lists the standard library.
pub const GO_STDLIB: &str = "stdlib";

/// What to look up for one package.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageKey {
    /// Ecosystem (without release).
    pub ecosystem: Ecosystem,
    /// Normalized package name (the source package for distributions).
    pub name: String,
}

/// One vulnerability of one installed package, after alias merging.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VulnMatch {
    /// The reported id: the CVE when the merged advisories name exactly one, otherwise the
    /// first matching advisory id in sorted order.
    pub id: String,
    /// Every other id of the vulnerability (sorted).
    pub aliases: Vec<String>,
    /// The ids of the advisory records that matched (sorted).
    pub advisories: Vec<String>,
    /// Package name as installed.
    pub package: String,
    /// Ecosystem of the package.
    pub ecosystem: Ecosystem,
    /// Installed version (as installed; the source version for distro matching is in
    /// `source_package`'s advisory context).
    pub installed_version: String,
    /// Source package used for matching, when it differs from `package`.
    pub source_package: Option<String>,
    /// The version that fixes every merged advisory, when one exists.
    pub fixed_version: Option<String>,
    /// Severity: from the highest CVSS score, else the database's rating.
    pub severity: Option<Severity>,
    /// The highest CVSS base score among the merged advisories.
    pub cvss_score: Option<f64>,
    /// The vector of that score.
    pub cvss_vector: Option<String>,
    /// Whether the vulnerability is on the notorious list.
    pub notorious: bool,
    /// Its common name when notorious (`Log4Shell`).
    pub notorious_name: Option<String>,
    /// One-line summary from the first advisory that has one.
    pub summary: Option<String>,
    /// Where the package was found (file path in the image).
    pub path: Option<String>,
}

/// Counters of one matching run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MatchStats {
    /// Packages examined.
    pub packages: u64,
    /// Packages skipped because their ecosystem has no known version ordering.
    pub unsupported_ecosystem: u64,
    /// Packages skipped because their installed version could not be parsed.
    pub unparseable_installed_version: u64,
    /// Withdrawn advisories ignored.
    pub withdrawn_skipped: u64,
    /// Range counters.
    pub ranges: RangeStats,
    /// Each version that could not be parsed, naming the package (and the advisory when the
    /// version is a range bound): what was not matched is said, never a silent zero.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unparsed_versions: Vec<UnparsedVersion>,
}

/// A version that could not be parsed, so a package was not matched (installed version) or
/// one advisory was not evaluated for it (range bound).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnparsedVersion {
    /// Package name as installed.
    pub package: String,
    /// Ecosystem of the package.
    pub ecosystem: Ecosystem,
    /// The advisory whose range could not be read; `None` when the installed version itself
    /// could not be parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
    /// The version string that could not be parsed.
    pub version: String,
    /// Why, as the version parser says it.
    pub reason: String,
}

impl std::fmt::Display for UnparsedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.advisory {
            None => write!(
                f,
                "package {} ({}): installed version {:?} cannot be parsed ({}); it was not matched against any advisory",
                self.package, self.ecosystem, self.version, self.reason
            ),
            Some(id) => write!(
                f,
                "package {} ({}): advisory {id} has a version {:?} that cannot be parsed ({}); that advisory was not evaluated for it",
                self.package, self.ecosystem, self.version, self.reason
            ),
        }
    }
}

/// The name and version a package is matched with (source package for distributions).
fn match_identity(pkg: &Package) -> (&str, &str) {
    if pkg.ecosystem.is_distro() {
        (
            pkg.source_name
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or(&pkg.name),
            pkg.source_version
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or(&pkg.version),
        )
    } else {
        (&pkg.name, &pkg.version)
    }
}

/// The lookup key of a package (`None` for ecosystems without a version ordering).
pub fn package_key(pkg: &Package) -> Option<PackageKey> {
    if !palisade_version::is_supported(&pkg.ecosystem) {
        return None;
    }
    let (name, _) = match_identity(pkg);
    Some(PackageKey {
        ecosystem: pkg.ecosystem.clone(),
        name: pkg.ecosystem.normalize_name(name),
    })
}

/// The package standing for a Go binary's standard library, built with toolchain `go_version`
/// (`go1.21.3` as `runtime.Version()` / build info reports it).
pub fn go_stdlib_package(go_version: &str, binary_path: Option<&str>) -> Package {
    let mut p = Package::new(Ecosystem::Go, GO_STDLIB, go_version);
    p.path = binary_path.map(String::from);
    p
}

/// Advisories indexed by the packages they affect.
#[derive(Debug, Default, Clone)]
pub struct CandidateSet {
    advisories: Vec<Advisory>,
    index: HashMap<PackageKey, Vec<usize>>,
    ids: HashMap<String, usize>,
}

impl CandidateSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an advisory (a second record with the same id and source is merged into the first).
    pub fn insert(&mut self, advisory: Advisory) {
        let key_id = format!("{}\u{0}{}", advisory.source.as_str(), advisory.id);
        let idx = match self.ids.get(&key_id) {
            Some(&i) => {
                self.advisories[i].merge_from(advisory);
                i
            }
            None => {
                self.advisories.push(advisory);
                let i = self.advisories.len() - 1;
                self.ids.insert(key_id, i);
                i
            }
        };
        for a in &self.advisories[idx].affected {
            let (ecosystem, _) = split_ecosystem(&a.ecosystem);
            let key = PackageKey {
                name: ecosystem.normalize_name(&a.name),
                ecosystem,
            };
            let list = self.index.entry(key).or_default();
            if !list.contains(&idx) {
                list.push(idx);
            }
        }
    }

    /// Number of advisories.
    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// Advisories affecting a package key.
    pub fn candidates(&self, key: &PackageKey) -> impl Iterator<Item = &Advisory> {
        self.index
            .get(key)
            .into_iter()
            .flat_map(|v| v.iter().map(|i| &self.advisories[*i]))
    }
}

/// One advisory that matched, with the fixed version relevant to the installed version.
struct Hit<'a> {
    advisory: &'a Advisory,
    fixed: Option<String>,
}

/// Matches every package against the candidate set.
///
/// Packages that match by the same identity (several binary packages of one source package
/// and version in one release) are evaluated once.
pub fn match_packages(set: &CandidateSet, packages: &[Package]) -> (Vec<VulnMatch>, MatchStats) {
    let mut stats = MatchStats::default();
    let mut scores = ScoreCache::default();
    let mut memo: HashMap<(PackageKey, String, Option<String>), Vec<VulnMatch>> = HashMap::new();
    let mut out = Vec::new();
    for pkg in packages {
        let identity = package_key(pkg).map(|key| {
            let (_, version) = match_identity(pkg);
            (key, version.to_string(), release_of(pkg))
        });
        if let Some(template) = identity.as_ref().and_then(|id| memo.get(id)) {
            stats.packages += 1;
            out.extend(template.iter().map(|m| for_package(m, pkg)));
            continue;
        }
        let matches = match_one(set, pkg, &mut stats, &mut scores);
        if let Some(id) = identity {
            memo.insert(id, matches.clone());
        }
        out.extend(matches);
    }
    (out, stats)
}

/// A match found for another package of the same identity, restated for `pkg`.
fn for_package(m: &VulnMatch, pkg: &Package) -> VulnMatch {
    let (name, _) = match_identity(pkg);
    VulnMatch {
        package: pkg.name.clone(),
        installed_version: pkg.version.clone(),
        source_package: (name != pkg.name).then(|| name.to_string()),
        path: pkg.path.clone(),
        ..m.clone()
    }
}

fn release_of(pkg: &Package) -> Option<String> {
    pkg.distro_release
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .map(|r| normalize_release(&pkg.ecosystem, r))
}

/// CVSS scores already computed in this run, by vector.
#[derive(Default)]
struct ScoreCache(
    HashMap<String, Option<cvss::CvssScore>>,
    range::VersionCache,
);

impl ScoreCache {
    fn score(&mut self, vector: &str) -> Option<&cvss::CvssScore> {
        if !self.0.contains_key(vector) {
            self.0
                .insert(vector.to_string(), cvss::score_vector(vector).ok());
        }
        self.0.get(vector).and_then(Option::as_ref)
    }
}

/// Matches one package.
pub fn match_package(set: &CandidateSet, pkg: &Package, stats: &mut MatchStats) -> Vec<VulnMatch> {
    match_one(set, pkg, stats, &mut ScoreCache::default())
}

fn match_one(
    set: &CandidateSet,
    pkg: &Package,
    stats: &mut MatchStats,
    scores: &mut ScoreCache,
) -> Vec<VulnMatch> {
    stats.packages += 1;
    let Some(key) = package_key(pkg) else {
        stats.unsupported_ecosystem += 1;
        return Vec::new();
    };
    let (_, version) = match_identity(pkg);
    if let Err(e) = palisade_version::parse(&pkg.ecosystem, version) {
        stats.unparseable_installed_version += 1;
        stats.unparsed_versions.push(UnparsedVersion {
            package: pkg.name.clone(),
            ecosystem: pkg.ecosystem.clone(),
            advisory: None,
            version: version.to_string(),
            reason: reason_of(&e),
        });
        return Vec::new();
    }
    let release = release_of(pkg);
    let mut hits: Vec<Hit> = Vec::new();
    for advisory in set.candidates(&key) {
        if advisory.withdrawn.is_some() {
            stats.withdrawn_skipped += 1;
            continue;
        }
        let mut matched = false;
        let mut fixed: Option<String> = None;
        for affected in &advisory.affected {
            let (ecosystem, adv_release) = split_ecosystem(&affected.ecosystem);
            if ecosystem != key.ecosystem || ecosystem.normalize_name(&affected.name) != key.name {
                continue;
            }
            if let (Some(want), Some(have)) = (&release, &adv_release)
                && want != have
            {
                continue;
            }
            let unparseable_before = stats.ranges.unparseable_ranges;
            let evaluation = range::evaluate_cached(
                &pkg.ecosystem,
                version,
                affected,
                &mut stats.ranges,
                &mut scores.1,
            );
            if stats.ranges.unparseable_ranges > unparseable_before
                && let Some((bad, e)) =
                    range::unparseable_version(&pkg.ecosystem, version, affected)
            {
                stats.unparsed_versions.push(UnparsedVersion {
                    package: pkg.name.clone(),
                    ecosystem: pkg.ecosystem.clone(),
                    advisory: Some(advisory.id.clone()),
                    version: bad,
                    reason: reason_of(&e),
                });
            }
            if let Evaluation::Affected { fixed: f } = evaluation {
                matched = true;
                fixed = lowest(&pkg.ecosystem, fixed, f);
            }
        }
        if matched {
            hits.push(Hit { advisory, fixed });
        }
    }
    merge_hits(pkg, &hits, scores)
}

/// The parser's reason, without the version it already names.
fn reason_of(e: &palisade_version::VersionError) -> String {
    match e {
        palisade_version::VersionError::Invalid { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

fn lowest(ecosystem: &Ecosystem, a: Option<String>, b: Option<String>) -> Option<String> {
    pick(ecosystem, a, b, std::cmp::Ordering::Less)
}

fn highest(ecosystem: &Ecosystem, a: Option<String>, b: Option<String>) -> Option<String> {
    pick(ecosystem, a, b, std::cmp::Ordering::Greater)
}

fn pick(
    ecosystem: &Ecosystem,
    a: Option<String>,
    b: Option<String>,
    want: std::cmp::Ordering,
) -> Option<String> {
    match (a, b) {
        (Some(x), Some(y)) => match palisade_version::compare(ecosystem, &y, &x) {
            Ok(o) if o == want => Some(y),
            _ => Some(x),
        },
        (x, None) => x,
        (None, y) => y,
    }
}

/// Groups hits whose id sets intersect (union-find) and builds one match per group.
fn merge_hits(pkg: &Package, hits: &[Hit], scores: &mut ScoreCache) -> Vec<VulnMatch> {
    let n = hits.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, hit) in hits.iter().enumerate() {
        for id in hit.advisory.all_ids() {
            match owner.get(id) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a != b {
                        parent[a] = b;
                    }
                }
                None => {
                    owner.insert(id, i);
                }
            }
        }
    }
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for i in 0..n {
        let root = find(&mut parent, i);
        match groups.iter_mut().find(|(r, _)| *r == root) {
            Some((_, members)) => members.push(i),
            None => groups.push((root, vec![i])),
        }
    }
    let mut out: Vec<VulnMatch> = groups
        .into_iter()
        .map(|(_, members)| build_match(pkg, hits, &members, scores))
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn build_match(
    pkg: &Package,
    hits: &[Hit],
    members: &[usize],
    scores: &mut ScoreCache,
) -> VulnMatch {
    let mut ids: BTreeSet<String> = BTreeSet::new();
    let mut records: Vec<String> = Vec::new();
    let mut fixed: Option<String> = None;
    let mut best: Option<cvss::CvssScore> = None;
    let mut rating: Option<Severity> = None;
    let mut summary: Option<String> = None;
    for &i in members {
        let hit = &hits[i];
        let a = hit.advisory;
        ids.extend(a.all_ids().map(String::from));
        records.push(a.id.clone());
        fixed = highest(&pkg.ecosystem, fixed, hit.fixed.clone());
        if summary.is_none() {
            summary = a.summary.clone();
        }
        rating = rating.max(a.rating);
        let entries = a
            .severity
            .iter()
            .chain(a.affected.iter().flat_map(|x| x.severity.iter()));
        for entry in entries {
            if !matches!(entry.kind.as_str(), "CVSS_V3" | "CVSS_V4") {
                continue;
            }
            if let Some(score) = scores.score(&entry.score)
                && best.as_ref().is_none_or(|b| score.score > b.score)
            {
                best = Some(score.clone());
            }
        }
    }
    records.sort();
    records.dedup();
    let cves: Vec<&String> = ids.iter().filter(|i| i.starts_with("CVE-")).collect();
    let id = if cves.len() == 1 {
        cves[0].clone()
    } else {
        records[0].clone()
    };
    let notorious = ids.iter().find_map(|i| notorious_name(i));
    let aliases: Vec<String> = ids.iter().filter(|i| **i != id).cloned().collect();
    let (name, _) = match_identity(pkg);
    VulnMatch {
        id,
        aliases,
        advisories: records,
        package: pkg.name.clone(),
        ecosystem: pkg.ecosystem.clone(),
        installed_version: pkg.version.clone(),
        source_package: (name != pkg.name).then(|| name.to_string()),
        fixed_version: fixed,
        severity: best.as_ref().map(cvss::CvssScore::severity).or(rating),
        cvss_score: best.as_ref().map(|b| b.score),
        cvss_vector: best.map(|b| b.vector),
        notorious: notorious.is_some(),
        notorious_name: notorious.map(String::from),
        summary,
        path: pkg.path.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{
        AffectedPackage, RangeEvent, RangeKind, ScoreEntry, SourceKind, VersionRange,
    };

    fn adv(id: &str, aliases: &[&str], eco: &str, name: &str, fixed: &str) -> Advisory {
        Advisory {
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            summary: None,
            modified: None,
            withdrawn: None,
            severity: vec![],
            rating: None,
            affected: vec![AffectedPackage {
                ecosystem: eco.into(),
                name: name.into(),
                ranges: vec![VersionRange {
                    kind: RangeKind::Ecosystem,
                    events: vec![
                        RangeEvent::Introduced("0".into()),
                        RangeEvent::Fixed(fixed.into()),
                    ],
                }],
                versions: vec![],
                severity: vec![],
            }],
            source: SourceKind::Osv,
        }
    }

    #[test]
    fn aliases_merge_into_one_match_with_the_highest_fix() {
        let mut set = CandidateSet::new();
        let mut ghsa = adv(
            "GHSA-aaaa-bbbb-cccc",
            &["CVE-2024-1234"],
            "PyPI",
            "Demo_Pkg",
            "1.5",
        );
        ghsa.severity = vec![ScoreEntry {
            kind: "CVSS_V3".into(),
            score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
        }];
        set.insert(ghsa);
        set.insert(adv(
            "PYSEC-2024-1",
            &["CVE-2024-1234"],
            "PyPI",
            "demo-pkg",
            "1.4",
        ));
        set.insert(adv("PYSEC-2024-2", &[], "PyPI", "demo.pkg", "1.1"));
        let pkg = Package::new(Ecosystem::PyPI, "demo_pkg", "1.0");
        let (matches, stats) = match_packages(&set, &[pkg]);
        assert_eq!(stats.packages, 1);
        assert_eq!(matches.len(), 2);
        let merged = &matches[0];
        assert_eq!(merged.id, "CVE-2024-1234");
        assert_eq!(merged.aliases, ["GHSA-aaaa-bbbb-cccc", "PYSEC-2024-1"]);
        assert_eq!(merged.fixed_version.as_deref(), Some("1.5"));
        assert_eq!(merged.cvss_score, Some(9.8));
        assert_eq!(merged.severity, Some(Severity::Critical));
        assert_eq!(matches[1].id, "PYSEC-2024-2");
        assert_eq!(matches[1].severity, None);
    }

    #[test]
    fn distro_packages_match_by_source_and_release() {
        let mut set = CandidateSet::new();
        set.insert(adv(
            "DSA-1-1",
            &["CVE-2023-0001"],
            "Debian:11",
            "openssl",
            "1.1.1n-0+deb11u4",
        ));
        set.insert(adv(
            "DLA-1-1",
            &["CVE-2023-0001"],
            "Debian:10",
            "openssl",
            "1.1.1n-0+deb10u4",
        ));
        let mut pkg = Package::new(Ecosystem::Debian, "libssl1.1", "1.1.1n-0+deb11u3");
        pkg.source_name = Some("openssl".into());
        pkg.distro_release = Some("bullseye".into());
        let (m, _) = match_packages(&set, &[pkg.clone()]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].advisories, ["DSA-1-1"]);
        assert_eq!(m[0].source_package.as_deref(), Some("openssl"));
        assert_eq!(m[0].fixed_version.as_deref(), Some("1.1.1n-0+deb11u4"));
        pkg.version = "1.1.1n-0+deb11u4".into();
        assert!(match_packages(&set, &[pkg]).0.is_empty());
    }

    #[test]
    fn binaries_of_one_source_each_get_their_own_match() {
        let mut set = CandidateSet::new();
        set.insert(adv(
            "DSA-2-1",
            &["CVE-2023-0002"],
            "Debian:12",
            "glibc",
            "2.36-9+deb12u3",
        ));
        let binary = |name: &str, version: &str| {
            let mut p = Package::new(Ecosystem::Debian, name, version);
            p.source_name = Some("glibc".into());
            p.source_version = Some("2.36-9+deb12u1".into());
            p.distro_release = Some("12".into());
            p.path = Some(format!("/var/lib/dpkg/status#{name}"));
            p
        };
        let pkgs = [
            binary("libc6", "2.36-9+deb12u1"),
            binary("libc-bin", "2.36-9+deb12u1+b1"),
        ];
        let (m, stats) = match_packages(&set, &pkgs);
        assert_eq!(stats.packages, 2);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].package.as_str(), m[1].package.as_str()),
            ("libc6", "libc-bin")
        );
        assert_eq!(m[1].installed_version, "2.36-9+deb12u1+b1");
        assert_eq!(m[1].path.as_deref(), Some("/var/lib/dpkg/status#libc-bin"));
        assert_eq!(m[1].source_package.as_deref(), Some("glibc"));
        assert_eq!(m[1].fixed_version.as_deref(), Some("2.36-9+deb12u3"));
    }

    #[test]
    fn notorious_and_unsupported() {
        let mut set = CandidateSet::new();
        set.insert(adv(
            "GHSA-jfh8-c2jp-5v3q",
            &["CVE-2021-44228"],
            "Maven",
            "org.apache.logging.log4j:log4j-core",
            "2.15.0",
        ));
        let pkgs = [
            Package::new(
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.14.1",
            ),
            Package::new(Ecosystem::Other("Hex".into()), "x", "1"),
            Package::new(Ecosystem::Npm, "x", "not a version"),
        ];
        let (m, stats) = match_packages(&set, &pkgs);
        assert_eq!(m.len(), 1);
        assert!(m[0].notorious);
        assert_eq!(m[0].notorious_name.as_deref(), Some("Log4Shell"));
        assert_eq!(stats.unsupported_ecosystem, 1);
        assert_eq!(stats.unparseable_installed_version, 1);
    }

    /// Issue 20 §4: what cannot be parsed is named (package, advisory, version, reason), so a
    /// report never shows a silent zero.
    #[test]
    fn unparseable_versions_are_named() {
        let mut set = CandidateSet::new();
        set.insert(adv(
            "CVE-2020-0001",
            &[],
            "Alpine:v3.11",
            "demo",
            "1.0_bogus-r0",
        ));
        set.insert(adv("CVE-2020-0002", &[], "Alpine:v3.11", "demo", "2.0-r0"));
        let pkgs = [
            Package::new(Ecosystem::Alpine, "demo", "1.5-r0"),
            Package::new(Ecosystem::Npm, "left-pad", "not a version"),
        ];
        let (m, stats) = match_packages(&set, &pkgs);
        assert_eq!(m.len(), 1, "CVE-2020-0002 still matches: {m:?}");
        assert_eq!(stats.ranges.unparseable_ranges, 1);
        let named: Vec<(String, Option<String>, String)> = stats
            .unparsed_versions
            .iter()
            .map(|u| (u.package.clone(), u.advisory.clone(), u.version.clone()))
            .collect();
        assert_eq!(
            named,
            [
                (
                    "demo".into(),
                    Some("CVE-2020-0001".into()),
                    "1.0_bogus-r0".into()
                ),
                ("left-pad".into(), None, "not a version".into()),
            ]
        );
        let shown = stats.unparsed_versions[0].to_string();
        assert!(
            shown.contains("demo") && shown.contains("CVE-2020-0001") && shown.contains("suffix"),
            "{shown}"
        );
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["unparsed_versions"][1]["package"], "left-pad");
    }
}
