//! Reduces an image's matches to the [`VulnerabilityFacts`] deploy-time policy reads (scan and
//! admission): counts by severity, the fixable list and the notorious list.

use std::collections::BTreeSet;

use palisade_model::{Severity, VulnerabilityFacts, VulnerabilityRef};

use crate::matching::VulnMatch;

/// The severity recorded in facts: the match's severity, or [`Severity::Info`] when the data
/// names none (Debian tracker and Alpine secdb records carry no severity). Info never meets a
/// blocking threshold, which is what an unknown severity must not do either.
pub fn facts_severity(m: &VulnMatch) -> Severity {
    m.severity.unwrap_or(Severity::Info)
}

fn reference(m: &VulnMatch) -> VulnerabilityRef {
    VulnerabilityRef {
        id: m.id.clone(),
        severity: facts_severity(m),
        package: m.package.clone(),
        installed: m.installed_version.clone(),
        fixed: m.fixed_version.clone(),
    }
}

/// Whether `m` is notorious: on the built-in list (the match's own flag) or named, by its id or
/// one of its aliases, in `extra_notorious` (compared case-insensitively).
pub fn is_notorious(m: &VulnMatch, extra_notorious: &[String]) -> bool {
    m.notorious
        || extra_notorious.iter().any(|n| {
            m.id.eq_ignore_ascii_case(n) || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(n))
        })
}

/// The vulnerability facts of one image from its matches.
///
/// - `counts`: every match by severity (unknown severity counts as `Info`, see
///   [`facts_severity`]), fixable or not. A vulnerability that affects several packages of the
///   image counts once per package, like the matches.
/// - `fixable`: matches with a fixed version, most severe first.
/// - `notorious`: matches on the built-in notorious list or in `extra_notorious`, fixable or not.
///
/// Both lists are sorted by severity (most severe first), then id, package and installed
/// version, and hold each (id, package, installed version) once.
pub fn image_facts(matches: &[VulnMatch], extra_notorious: &[String]) -> VulnerabilityFacts {
    let mut facts = VulnerabilityFacts::default();
    let mut seen: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
    for m in matches {
        if !seen.insert((&m.id, &m.package, &m.installed_version)) {
            continue;
        }
        *facts.counts.entry(facts_severity(m)).or_insert(0) += 1;
        if m.fixed_version.is_some() {
            facts.fixable.push(reference(m));
        }
        if is_notorious(m, extra_notorious) {
            facts.notorious.push(reference(m));
        }
    }
    let order = |a: &VulnerabilityRef, b: &VulnerabilityRef| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.cmp(&b.package))
            .then_with(|| a.installed.cmp(&b.installed))
    };
    facts.fixable.sort_by(order);
    facts.notorious.sort_by(order);
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, pkg: &str, sev: Option<Severity>, fixed: Option<&str>) -> VulnMatch {
        let notorious = crate::notorious::notorious_name(id);
        let mut v = crate::test_support::vuln_match(id, pkg, sev, fixed, notorious);
        v.aliases = vec![format!("GHSA-{id}")];
        v
    }

    #[test]
    fn counts_fixable_and_notorious() {
        let matches = [
            m("CVE-2000-0001", "a", Some(Severity::Medium), Some("1.1")),
            m("CVE-2000-0002", "a", Some(Severity::Critical), None),
            m(
                "CVE-2021-44228",
                "log4j-core",
                Some(Severity::Critical),
                None,
            ),
            m("CVE-2000-0003", "b", None, Some("2.0")),
            m("CVE-2000-0004", "b", Some(Severity::High), Some("2.1")),
            // The same vulnerability of the same package twice (two paths): once.
            m("CVE-2000-0004", "b", Some(Severity::High), Some("2.1")),
        ];
        let f = image_facts(&matches, &["ghsa-CVE-2000-0001".to_string()]);
        assert_eq!(f.counts.get(&Severity::Critical), Some(&2));
        assert_eq!(f.counts.get(&Severity::High), Some(&1));
        assert_eq!(f.counts.get(&Severity::Medium), Some(&1));
        assert_eq!(f.counts.get(&Severity::Info), Some(&1), "unknown severity");
        assert_eq!(f.counts.values().sum::<usize>(), 5);
        let fixable: Vec<(&str, Severity)> = f
            .fixable
            .iter()
            .map(|r| (r.id.as_str(), r.severity))
            .collect();
        assert_eq!(
            fixable,
            [
                ("CVE-2000-0004", Severity::High),
                ("CVE-2000-0001", Severity::Medium),
                ("CVE-2000-0003", Severity::Info),
            ]
        );
        assert_eq!(f.fixable[0].fixed.as_deref(), Some("2.1"));
        let notorious: Vec<&str> = f.notorious.iter().map(|r| r.id.as_str()).collect();
        // Log4Shell from the built-in list; CVE-2000-0001 through the extra list (by alias).
        assert_eq!(notorious, ["CVE-2021-44228", "CVE-2000-0001"]);
        assert_eq!(f.notorious[0].fixed, None);
    }

    #[test]
    fn no_matches_no_facts() {
        assert_eq!(image_facts(&[], &[]), VulnerabilityFacts::default());
    }
}
