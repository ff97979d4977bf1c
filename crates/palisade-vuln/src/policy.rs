//! Vulnerability policies: `--fail-on SEVERITY`, `--fixable-only`, blocking images with fixable
//! critical/high vulnerabilities, and notorious CVEs that always fail.

use palisade_model::Severity;
use serde::Serialize;

use crate::matching::VulnMatch;

/// A vulnerability policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnPolicy {
    /// Fail when a vulnerability at or above this severity is found (`--fail-on`).
    pub fail_on: Option<Severity>,
    /// Only consider vulnerabilities that have a fixed version (`--fixable-only`); notorious
    /// vulnerabilities are considered regardless.
    pub fixable_only: bool,
    /// Block when a *fixable* vulnerability at or above this severity is found (the admission
    /// rule "no fixable critical/high vulnerabilities": `Some(High)`).
    pub block_fixable_at: Option<Severity>,
    /// Always fail on a notorious vulnerability, fixable or not.
    pub fail_on_notorious: bool,
}

impl Default for VulnPolicy {
    /// The scan/admission default: block fixable high and critical, always fail notorious.
    fn default() -> Self {
        VulnPolicy {
            fail_on: None,
            fixable_only: false,
            block_fixable_at: Some(Severity::High),
            fail_on_notorious: true,
        }
    }
}

/// Why a vulnerability violates the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum ViolationReason {
    /// A notorious vulnerability (by name).
    Notorious {
        /// Its common name.
        name: String,
    },
    /// A fixable vulnerability at or above the blocking severity.
    FixableAtOrAbove {
        /// The threshold.
        threshold: Severity,
    },
    /// A vulnerability at or above the `--fail-on` severity.
    SeverityAtOrAbove {
        /// The threshold.
        threshold: Severity,
    },
}

/// One violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Vulnerability id.
    pub id: String,
    /// Package name.
    pub package: String,
    /// Installed version.
    pub installed_version: String,
    /// Why it violates the policy.
    pub reason: ViolationReason,
}

/// The verdict of a policy on a set of matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyVerdict {
    /// Whether the policy failed (there is at least one violation).
    pub failed: bool,
    /// Every violation (a vulnerability appears once, with its first applicable reason in the
    /// order notorious, fixable-at-or-above, severity-at-or-above).
    pub violations: Vec<Violation>,
}

/// Whether a vulnerability has a fixed version.
pub fn is_fixable(m: &VulnMatch) -> bool {
    m.fixed_version.is_some()
}

/// The matches a report shows under the policy (`--fixable-only` hides unfixable ones, except
/// notorious vulnerabilities when they always fail).
pub fn visible<'a>(policy: &VulnPolicy, matches: &'a [VulnMatch]) -> Vec<&'a VulnMatch> {
    matches
        .iter()
        .filter(|m| {
            !policy.fixable_only || is_fixable(m) || (policy.fail_on_notorious && m.notorious)
        })
        .collect()
}

/// Evaluates the policy. A vulnerability of unknown severity never meets a severity threshold.
pub fn evaluate(policy: &VulnPolicy, matches: &[VulnMatch]) -> PolicyVerdict {
    let at_or_above = |m: &VulnMatch, t: Severity| m.severity.is_some_and(|s| s >= t);
    let mut violations = Vec::new();
    for m in matches {
        let reason = if policy.fail_on_notorious && m.notorious {
            Some(ViolationReason::Notorious {
                name: m.notorious_name.clone().unwrap_or_default(),
            })
        } else if let Some(t) = policy
            .block_fixable_at
            .filter(|t| is_fixable(m) && at_or_above(m, *t))
        {
            Some(ViolationReason::FixableAtOrAbove { threshold: t })
        } else {
            policy
                .fail_on
                .filter(|t| (!policy.fixable_only || is_fixable(m)) && at_or_above(m, *t))
                .map(|t| ViolationReason::SeverityAtOrAbove { threshold: t })
        };
        if let Some(reason) = reason {
            violations.push(Violation {
                id: m.id.clone(),
                package: m.package.clone(),
                installed_version: m.installed_version.clone(),
                reason,
            });
        }
    }
    PolicyVerdict {
        failed: !violations.is_empty(),
        violations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(
        id: &str,
        sev: Option<Severity>,
        fixed: Option<&str>,
        notorious: Option<&str>,
    ) -> VulnMatch {
        crate::test_support::vuln_match(id, "pkg", sev, fixed, notorious)
    }

    #[test]
    fn default_blocks_fixable_high_and_notorious_only() {
        let p = VulnPolicy::default();
        let unfixed_critical = m("A", Some(Severity::Critical), None, None);
        let fixable_medium = m("B", Some(Severity::Medium), Some("1.1"), None);
        assert!(!evaluate(&p, &[unfixed_critical.clone(), fixable_medium.clone()]).failed);
        let fixable_high = m("C", Some(Severity::High), Some("1.1"), None);
        let v = evaluate(&p, &[unfixed_critical, fixable_medium, fixable_high]);
        assert!(v.failed);
        assert_eq!(v.violations.len(), 1);
        assert_eq!(
            v.violations[0].reason,
            ViolationReason::FixableAtOrAbove {
                threshold: Severity::High
            }
        );
        let log4shell = m(
            "CVE-2021-44228",
            Some(Severity::Critical),
            None,
            Some("Log4Shell"),
        );
        let v = evaluate(&p, &[log4shell]);
        assert_eq!(
            v.violations[0].reason,
            ViolationReason::Notorious {
                name: "Log4Shell".into()
            }
        );
    }

    #[test]
    fn fail_on_and_fixable_only() {
        let p = VulnPolicy {
            fail_on: Some(Severity::Medium),
            fixable_only: true,
            block_fixable_at: None,
            fail_on_notorious: true,
        };
        let unfixed_high = m("A", Some(Severity::High), None, None);
        let unknown = m("B", None, Some("2"), None);
        assert!(!evaluate(&p, &[unfixed_high.clone(), unknown]).failed);
        let fixable_medium = m("C", Some(Severity::Medium), Some("1.1"), None);
        assert!(evaluate(&p, std::slice::from_ref(&fixable_medium)).failed);
        let all = [
            unfixed_high.clone(),
            fixable_medium,
            m("D", None, None, Some("Heartbleed")),
        ];
        let shown: Vec<&str> = visible(&p, &all).iter().map(|m| m.id.as_str()).collect();
        assert_eq!(shown, ["C", "D"]);
        let lenient = VulnPolicy {
            fixable_only: false,
            ..p
        };
        assert!(evaluate(&lenient, &[unfixed_high]).failed);
    }
}
