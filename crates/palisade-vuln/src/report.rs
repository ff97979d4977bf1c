//! The vulnerability report of one package list (`image scan`, `sbom scan`): which matches are
//! shown (`--fixable-only`), in which order, their counts per severity and whether `--fail-on`
//! fails (notorious vulnerabilities always do). A typed value; its sinks only format it.
//!
//! Serialized (serde), the report is the `vulnerability_scan` member of the JSON outputs; the
//! shown vulnerabilities ([`VulnReport::vulnerabilities`]) are serialized separately, as the
//! top-level `vulnerabilities` member.

use std::collections::BTreeMap;

use palisade_model::time::Date;
use palisade_model::{Package, Severity};
use serde::Serialize;

use crate::matching::{MatchStats, VulnMatch};
use crate::policy::{self, PolicyVerdict, VulnPolicy};
use crate::suppress::{IgnoreRule, Suppression, Suppressions};

/// What the command line asks of a report.
#[derive(Debug, Clone)]
pub struct ReportOptions<'a> {
    /// `--fail-on`.
    pub fail_on: Option<Severity>,
    /// `--fixable-only`.
    pub fixable_only: bool,
    /// `--min-severity`: hide vulnerabilities below it (and those of unknown severity);
    /// notorious ones are always shown.
    pub min_severity: Option<Severity>,
    /// Accepted vulnerabilities (`--ignore-file`, `--vex`).
    pub suppressions: &'a Suppressions,
    /// The day ignore entries expire against.
    pub today: Date,
}

/// A match left out because it was accepted, with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct SuppressedVuln {
    /// Vulnerability id.
    pub id: String,
    /// Package.
    pub package: String,
    /// Installed version.
    pub installed_version: String,
    /// Severity.
    pub severity: Option<Severity>,
    /// Why.
    pub suppressed: Suppression,
}

/// Whether matching ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Packages were matched against the database.
    Matched,
    /// No usable database: nothing was matched (see the reason).
    Unavailable,
}

/// One vulnerability as reported: the match plus the package URL of the affected package.
#[derive(Debug, Clone, Serialize)]
pub struct ReportedVuln {
    /// The match.
    #[serde(flatten)]
    pub m: VulnMatch,
    /// Package URL of the affected package, when the inventory has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// The outcome of matching one package list, after the report options.
#[derive(Debug, Clone, Serialize)]
pub struct VulnReport {
    /// Whether matching ran.
    pub status: ScanStatus,
    /// The database file, when one was resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Why matching did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `--fail-on`.
    pub fail_on: Option<Severity>,
    /// `--fixable-only`.
    pub fixable_only: bool,
    /// `--min-severity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
    /// Vulnerabilities shown.
    pub shown: usize,
    /// Vulnerabilities left out by `--fixable-only` or `--min-severity`.
    pub hidden: usize,
    /// Vulnerabilities accepted by the ignore file or VEX statements, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<SuppressedVuln>,
    /// Ignore-file entries past their expiry (no longer applied).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expired_ignores: Vec<IgnoreRule>,
    /// Shown vulnerabilities by severity name ([`severity_name`]; `unknown` when the data
    /// names none).
    pub counts: BTreeMap<&'static str, usize>,
    /// Shown vulnerabilities on the notorious list.
    pub notorious: usize,
    /// Whether `--fail-on` fails (exit status 1).
    pub failed: bool,
    /// Matcher counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<MatchStats>,
    /// The shown vulnerabilities, in [`report_order`] (serialized separately, see the module
    /// documentation).
    #[serde(skip)]
    pub vulnerabilities: Vec<ReportedVuln>,
    /// Why `--fail-on` fails.
    #[serde(skip)]
    pub verdict: Option<PolicyVerdict>,
}

/// The command-line policy: `--fail-on` fails on a shown vulnerability at or above the
/// threshold or on a notorious one; `--fixable-only` hides unfixable ones except notorious
/// vulnerabilities.
pub fn cli_policy(fail_on: Option<Severity>, fixable_only: bool) -> VulnPolicy {
    VulnPolicy {
        fail_on,
        fixable_only,
        block_fixable_at: None,
        fail_on_notorious: true,
    }
}

/// Severity names from most to least severe, `unknown` (no severity in the data) last.
pub const SEVERITY_NAMES: [&str; 6] = ["critical", "high", "medium", "low", "info", "unknown"];

/// The name of a severity in the report's counts; `unknown` for none.
pub fn severity_name(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Critical) => "critical",
        Some(Severity::High) => "high",
        Some(Severity::Medium) => "medium",
        Some(Severity::Low) => "low",
        Some(Severity::Info) => "info",
        None => "unknown",
    }
}

/// The report's order: most severe first, unknown severity last; then CVSS score (highest
/// first), id, package, installed version and path.
pub fn report_order(a: &VulnMatch, b: &VulnMatch) -> std::cmp::Ordering {
    let rank = |m: &VulnMatch| m.severity.map_or(0, |s| s as u8 + 1);
    rank(b)
        .cmp(&rank(a))
        .then_with(|| {
            b.cvss_score
                .unwrap_or(-1.0)
                .total_cmp(&a.cvss_score.unwrap_or(-1.0))
        })
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.package.cmp(&b.package))
        .then_with(|| a.installed_version.cmp(&b.installed_version))
        .then_with(|| a.path.cmp(&b.path))
}

impl VulnReport {
    /// A report for `matches` of `packages` (from `database`) under the command-line options.
    pub fn matched(
        database: String,
        matches: &[VulnMatch],
        stats: MatchStats,
        packages: &[Package],
        options: &ReportOptions<'_>,
    ) -> VulnReport {
        let policy = cli_policy(options.fail_on, options.fixable_only);
        let mut suppressed = Vec::new();
        let accepted: Vec<VulnMatch> = matches
            .iter()
            .filter(|m| match options.suppressions.why(m, options.today) {
                Some(why) => {
                    suppressed.push(SuppressedVuln {
                        id: m.id.clone(),
                        package: m.package.clone(),
                        installed_version: m.installed_version.clone(),
                        severity: m.severity,
                        suppressed: why,
                    });
                    false
                }
                None => true,
            })
            .cloned()
            .collect();
        let severe_enough = |m: &VulnMatch| {
            m.notorious
                || options
                    .min_severity
                    .is_none_or(|t| m.severity.is_some_and(|s| s >= t))
        };
        let mut shown: Vec<VulnMatch> = policy::visible(&policy, &accepted)
            .into_iter()
            .filter(|m| severe_enough(m))
            .cloned()
            .collect();
        shown.sort_by(report_order);
        let verdict = options.fail_on.map(|_| policy::evaluate(&policy, &shown));
        let mut counts: BTreeMap<&'static str, usize> =
            SEVERITY_NAMES.into_iter().map(|k| (k, 0)).collect();
        for m in &shown {
            *counts.entry(severity_name(m.severity)).or_insert(0) += 1;
        }
        let purl_of = |m: &VulnMatch| {
            packages
                .iter()
                .find(|p| {
                    p.name == m.package
                        && p.version == m.installed_version
                        && p.ecosystem == m.ecosystem
                        && p.path == m.path
                })
                .and_then(|p| p.purl.clone())
        };
        VulnReport {
            status: ScanStatus::Matched,
            database: Some(database),
            reason: None,
            fail_on: options.fail_on,
            fixable_only: options.fixable_only,
            min_severity: options.min_severity,
            hidden: accepted.len() - shown.len(),
            shown: shown.len(),
            suppressed,
            expired_ignores: options
                .suppressions
                .expired(options.today)
                .cloned()
                .collect(),
            counts,
            notorious: shown.iter().filter(|m| m.notorious).count(),
            failed: verdict.as_ref().is_some_and(|v| v.failed),
            stats: Some(stats),
            vulnerabilities: shown
                .into_iter()
                .map(|m| ReportedVuln {
                    purl: purl_of(&m),
                    m,
                })
                .collect(),
            verdict,
        }
    }

    /// A report for when no database could be used: nothing shown, never failed.
    pub fn unavailable(
        database: Option<String>,
        reason: String,
        fail_on: Option<Severity>,
        fixable_only: bool,
    ) -> VulnReport {
        VulnReport {
            status: ScanStatus::Unavailable,
            database,
            reason: Some(reason),
            fail_on,
            fixable_only,
            min_severity: None,
            shown: 0,
            hidden: 0,
            suppressed: Vec::new(),
            expired_ignores: Vec::new(),
            counts: BTreeMap::new(),
            notorious: 0,
            failed: false,
            stats: None,
            vulnerabilities: Vec::new(),
            verdict: None,
        }
    }

    /// Whether the report cannot pass: `--fail-on` was given but nothing could be matched.
    pub fn fail_on_unanswered(&self) -> bool {
        self.fail_on.is_some() && self.status == ScanStatus::Unavailable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vuln_match;

    fn options(fail_on: Option<Severity>, fixable_only: bool) -> ReportOptions<'static> {
        static NONE: std::sync::LazyLock<Suppressions> =
            std::sync::LazyLock::new(Suppressions::default);
        ReportOptions {
            fail_on,
            fixable_only,
            min_severity: None,
            suppressions: &NONE,
            today: Date::parse("2026-12-06").unwrap(),
        }
    }

    #[test]
    fn fixable_only_hides_unfixed_except_notorious_and_orders_by_severity() {
        let matches = [
            vuln_match("LOW-1", "a", Some(Severity::Low), Some("2"), None),
            vuln_match("NONE-1", "b", None, Some("2"), None),
            vuln_match("HIGH-1", "c", Some(Severity::High), None, None),
            vuln_match("CRIT-1", "d", Some(Severity::Critical), Some("2"), None),
            vuln_match("LOG-1", "e", None, None, Some("Log4Shell")),
        ];
        let r = VulnReport::matched(
            "db".into(),
            &matches,
            MatchStats::default(),
            &[],
            &options(Some(Severity::Critical), true),
        );
        let ids: Vec<&str> = r.vulnerabilities.iter().map(|v| v.m.id.as_str()).collect();
        assert_eq!(ids, ["CRIT-1", "LOW-1", "LOG-1", "NONE-1"]);
        assert_eq!((r.shown, r.hidden, r.notorious), (4, 1, 1));
        assert_eq!(r.counts["critical"], 1);
        assert_eq!(r.counts["unknown"], 2);
        assert_eq!(r.counts["high"], 0);
        assert!(r.failed);
        let reasons = r.verdict.as_ref().map(|v| v.violations.len());
        assert_eq!(reasons, Some(2));
    }

    #[test]
    fn without_fail_on_nothing_fails_and_unavailable_cannot_pass() {
        let matches = [vuln_match("LOG-1", "e", None, None, Some("Log4Shell"))];
        let r = VulnReport::matched(
            "db".into(),
            &matches,
            MatchStats::default(),
            &[],
            &options(None, false),
        );
        assert!(!r.failed && r.verdict.is_none());
        let u = VulnReport::unavailable(None, "no db".into(), Some(Severity::High), false);
        assert!(u.fail_on_unanswered() && !u.failed);
        assert!(!VulnReport::unavailable(None, "no db".into(), None, false).fail_on_unanswered());
    }

    #[test]
    fn min_severity_hides_below_and_suppressed_matches_are_listed_with_their_reason() {
        let matches = [
            vuln_match("LOW-1", "a", Some(Severity::Low), Some("2"), None),
            vuln_match("NONE-1", "b", None, Some("2"), None),
            vuln_match("HIGH-1", "c", Some(Severity::High), None, None),
            vuln_match("CRIT-1", "d", Some(Severity::Critical), Some("2"), None),
            vuln_match("LOG-1", "e", None, None, Some("Log4Shell")),
        ];
        let suppressions = Suppressions {
            ignores: crate::suppress::parse_ignore_file(
                "vulnerabilities:\n- id: CRIT-1\n  reason: compensating control\n  expires: 2027-01-01\n- id: HIGH-1\n  reason: old\n  expires: 2026-01-01\n",
            )
            .unwrap(),
            vex: Vec::new(),
        };
        let r = VulnReport::matched(
            "db".into(),
            &matches,
            MatchStats::default(),
            &[],
            &ReportOptions {
                min_severity: Some(Severity::High),
                suppressions: &suppressions,
                ..options(Some(Severity::Critical), false)
            },
        );
        let ids: Vec<&str> = r.vulnerabilities.iter().map(|v| v.m.id.as_str()).collect();
        assert_eq!(
            ids,
            ["HIGH-1", "LOG-1"],
            "the expired entry no longer hides HIGH-1"
        );
        assert_eq!((r.shown, r.hidden), (2, 2));
        assert_eq!(r.suppressed.len(), 1);
        assert_eq!(r.suppressed[0].id, "CRIT-1");
        assert_eq!(r.expired_ignores.len(), 1);
        assert!(r.failed, "Log4Shell is notorious");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["suppressed"][0]["suppressed"]["by"], "ignore_file");
        assert_eq!(
            json["suppressed"][0]["suppressed"]["reason"],
            "compensating control"
        );
        assert_eq!(json["expired_ignores"][0]["id"], "HIGH-1");
    }
}
