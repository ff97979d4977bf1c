//! Vulnerability reports of `image scan` and `sbom scan`: the JSON values, the table section
//! and SARIF 2.1.0.
//!
//! JSON shape (both commands add these two keys next to their packages):
//!
//! ```text
//! "vulnerability_scan": {
//!   "status": "matched" | "unavailable",   // unavailable: no usable database (see "reason")
//!   "database": "/path/vuln.db",           // when a path was resolved
//!   "reason": "…",                         // only when unavailable
//!   "fail_on": "high", "fixable_only": false,
//!   "shown": 9, "hidden": 1,               // hidden = left out by --fixable-only
//!   "counts": {"critical": 0, "high": 3, "medium": 0, "low": 0, "info": 0, "unknown": 6},
//!   "notorious": 1, "failed": true,        // failed = exit status 1 under --fail-on
//!   "stats": { …matcher counters… }
//! },
//! "vulnerabilities": [ { "id", "aliases", "advisories", "package", "ecosystem",
//!   "installed_version", "source_package", "fixed_version", "severity", "cvss_score",
//!   "cvss_vector", "notorious", "notorious_name", "summary", "path", "purl" }, … ]
//! ```
//!
//! `vulnerabilities` holds the shown vulnerabilities, most severe first (unknown severity
//! last), then by CVSS score, id and package.

use std::collections::BTreeMap;
use std::fmt::Write;

use palisade_model::{Package, Severity};
use palisade_vuln::policy::{self, PolicyVerdict, VulnPolicy};
use palisade_vuln::{MatchStats, VulnMatch};
use serde::Serialize;
use serde_json::{Value, json};

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
    /// Vulnerabilities shown.
    pub shown: usize,
    /// Vulnerabilities left out by `--fixable-only`.
    pub hidden: usize,
    /// Shown vulnerabilities by severity (`unknown` when the data names none).
    pub counts: BTreeMap<&'static str, usize>,
    /// Shown vulnerabilities on the notorious list.
    pub notorious: usize,
    /// Whether `--fail-on` fails (exit status 1).
    pub failed: bool,
    /// Matcher counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<MatchStats>,
    /// The shown vulnerabilities, most severe first (serialized as the top-level
    /// `vulnerabilities`).
    #[serde(skip)]
    pub vulnerabilities: Vec<ReportedVuln>,
    /// Why `--fail-on` fails.
    #[serde(skip)]
    pub verdict: Option<PolicyVerdict>,
}

/// The CLI policy: `--fail-on` fails on a shown vulnerability at or above the threshold or on a
/// notorious one; `--fixable-only` hides unfixable ones except notorious vulnerabilities.
pub fn cli_policy(fail_on: Option<Severity>, fixable_only: bool) -> VulnPolicy {
    VulnPolicy {
        fail_on,
        fixable_only,
        block_fixable_at: None,
        fail_on_notorious: true,
    }
}

fn severity_key(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Critical) => "critical",
        Some(Severity::High) => "high",
        Some(Severity::Medium) => "medium",
        Some(Severity::Low) => "low",
        Some(Severity::Info) => "info",
        None => "unknown",
    }
}

/// Most severe first, unknown severity last; then CVSS score, id, package and version.
fn report_order(a: &VulnMatch, b: &VulnMatch) -> std::cmp::Ordering {
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
    /// A report for matches of `packages` under the CLI options.
    pub fn matched(
        database: String,
        matches: &[VulnMatch],
        stats: MatchStats,
        packages: &[Package],
        fail_on: Option<Severity>,
        fixable_only: bool,
    ) -> VulnReport {
        let policy = cli_policy(fail_on, fixable_only);
        let mut shown: Vec<VulnMatch> = policy::visible(&policy, matches)
            .into_iter()
            .cloned()
            .collect();
        shown.sort_by(report_order);
        let verdict = fail_on.map(|_| policy::evaluate(&policy, &shown));
        let mut counts: BTreeMap<&'static str, usize> =
            ["critical", "high", "medium", "low", "info", "unknown"]
                .into_iter()
                .map(|k| (k, 0))
                .collect();
        for m in &shown {
            *counts.entry(severity_key(m.severity)).or_insert(0) += 1;
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
            fail_on,
            fixable_only,
            hidden: matches.len() - shown.len(),
            shown: shown.len(),
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

    /// A report for when no database could be used.
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
            shown: 0,
            hidden: 0,
            counts: BTreeMap::new(),
            notorious: 0,
            failed: false,
            stats: None,
            vulnerabilities: Vec::new(),
            verdict: None,
        }
    }

    /// The `vulnerability_scan` and `vulnerabilities` members to add to a JSON report.
    pub fn json_members(&self) -> anyhow::Result<(Value, Value)> {
        Ok((
            serde_json::to_value(self)?,
            serde_json::to_value(&self.vulnerabilities)?,
        ))
    }

    /// The one-line summary printed on stderr when `--fail-on` fails.
    pub fn failure_message(&self) -> Option<String> {
        let v = self.verdict.as_ref().filter(|v| v.failed)?;
        let mut ids: Vec<&str> = v.violations.iter().map(|x| x.id.as_str()).collect();
        ids.dedup();
        let more = ids.len().saturating_sub(5);
        ids.truncate(5);
        Some(format!(
            "{} vulnerabilit{} at or above {} or notorious: {}{}",
            v.violations.len(),
            if v.violations.len() == 1 { "y" } else { "ies" },
            self.fail_on.map(|s| s.to_string()).unwrap_or_default(),
            ids.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ))
    }
}

/// Aligned columns; the last column is not padded.
fn columns(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; n];
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                let _ = write!(line, "{c:<w$}  ", w = widths[i]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn severity_cell(m: &VulnMatch) -> String {
    let name = severity_key(m.severity).to_ascii_uppercase();
    match m.cvss_score {
        Some(s) => format!("{name} {s:.1}"),
        None => name,
    }
}

fn aliases_cell(aliases: &[String]) -> String {
    const SHOWN: usize = 3;
    if aliases.is_empty() {
        return "-".into();
    }
    let mut s = aliases
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if aliases.len() > SHOWN {
        let _ = write!(s, " +{} more", aliases.len() - SHOWN);
    }
    s
}

/// The vulnerability section of a table report.
pub fn table(report: &VulnReport) -> String {
    let mut out = String::new();
    if report.status == ScanStatus::Unavailable {
        let _ = writeln!(
            out,
            "Vulnerabilities: not matched: {}",
            report.reason.as_deref().unwrap_or("no database")
        );
        return out;
    }
    let order = ["critical", "high", "medium", "low", "info", "unknown"];
    let counts: Vec<String> = order
        .iter()
        .filter_map(|k| {
            let n = report.counts.get(k).copied().unwrap_or(0);
            (n > 0).then(|| format!("{n} {k}"))
        })
        .collect();
    let _ = write!(
        out,
        "Vulnerabilities: {}{}",
        report.shown,
        if counts.is_empty() {
            String::new()
        } else {
            format!(" ({})", counts.join(", "))
        }
    );
    if report.notorious > 0 {
        let _ = write!(out, ", {} notorious", report.notorious);
    }
    if report.hidden > 0 {
        let _ = write!(
            out,
            "; {} without a fix not shown (--fixable-only)",
            report.hidden
        );
    }
    let _ = writeln!(
        out,
        "   [database {}]",
        report.database.as_deref().unwrap_or("?")
    );
    if report.vulnerabilities.is_empty() {
        return out;
    }
    let any_notorious = report.notorious > 0;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header: Vec<String> = ["SEVERITY", "ID", "PACKAGE", "INSTALLED", "FIXED", "ALIASES"]
        .map(String::from)
        .to_vec();
    if any_notorious {
        header.push("NOTORIOUS".into());
    }
    rows.push(header);
    for v in &report.vulnerabilities {
        let m = &v.m;
        let package = match &m.source_package {
            Some(src) => format!("{} ({src})", m.package),
            None => m.package.clone(),
        };
        let mut row = vec![
            severity_cell(m),
            m.id.clone(),
            package,
            m.installed_version.clone(),
            m.fixed_version.clone().unwrap_or_else(|| "-".into()),
            aliases_cell(&m.aliases),
        ];
        if any_notorious {
            row.push(m.notorious_name.clone().unwrap_or_default());
        }
        rows.push(row);
    }
    out.push_str(&columns(&rows));
    out
}

/// The `security-severity` code-scanning tools read (0.0–10.0): the CVSS score when known,
/// else a representative score of the rating.
fn security_severity(m: &VulnMatch) -> Option<String> {
    m.cvss_score
        .or(match m.severity {
            Some(Severity::Critical) => Some(9.5),
            Some(Severity::High) => Some(8.0),
            Some(Severity::Medium) => Some(5.5),
            Some(Severity::Low) => Some(2.0),
            Some(Severity::Info) => Some(0.0),
            None => None,
        })
        .map(|s| format!("{s:.1}"))
}

fn sarif_level(m: &VulnMatch) -> &'static str {
    match m.severity {
        Some(Severity::Critical | Severity::High) => "error",
        Some(Severity::Medium) => "warning",
        _ if m.notorious => "error",
        _ => "note",
    }
}

fn help_uri(id: &str) -> String {
    if id.starts_with("CVE-") {
        format!("https://www.cve.org/CVERecord?id={id}")
    } else {
        format!("https://osv.dev/vulnerability/{id}")
    }
}

/// A relative URI reference for a path: percent-encodes what RFC 3986 does not allow in a path.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.trim_start_matches('/').bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    if out.is_empty() { ".".into() } else { out }
}

/// A SARIF 2.1.0 log of the shown vulnerabilities: one rule per vulnerability id, one result
/// per affected package, located at the file the package was found in (inside the image or,
/// for an SBOM, the SBOM file `artifact`) and logically at the package (its purl).
pub fn sarif(report: &VulnReport, subject: &str, artifact: Option<&str>) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut results: Vec<Value> = Vec::new();
    for v in &report.vulnerabilities {
        let m = &v.m;
        let index = *rule_index.entry(m.id.as_str()).or_insert_with(|| {
            let mut props = serde_json::Map::new();
            props.insert("tags".into(), json!(["security", "vulnerability"]));
            if let Some(s) = security_severity(m) {
                props.insert("security-severity".into(), json!(s));
            }
            if !m.aliases.is_empty() {
                props.insert("aliases".into(), json!(m.aliases));
            }
            let short = m
                .summary
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| format!("Vulnerability {}", m.id));
            rules.push(json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": {"text": short},
                "helpUri": help_uri(&m.id),
                "defaultConfiguration": {"level": sarif_level(m)},
                "properties": props,
            }));
            rules.len() - 1
        });
        let fixed = match &m.fixed_version {
            Some(f) => format!("fixed in {f}"),
            None => "no fixed version".to_string(),
        };
        let message = format!(
            "{} {} {} is affected by {}{} ({fixed}){}",
            m.ecosystem,
            m.package,
            m.installed_version,
            m.id,
            m.source_package
                .as_ref()
                .map(|s| format!(" through source package {s}"))
                .unwrap_or_default(),
            m.notorious_name
                .as_ref()
                .map(|n| format!("; notorious: {n}"))
                .unwrap_or_default(),
        );
        let uri = match artifact {
            Some(a) if a.starts_with('/') => format!("file:///{}", uri_path(a)),
            Some(a) => uri_path(a),
            None => uri_path(m.path.as_deref().unwrap_or(".")),
        };
        let logical_name = v
            .purl
            .clone()
            .unwrap_or_else(|| format!("{}/{}@{}", m.ecosystem, m.package, m.installed_version));
        let mut props = serde_json::Map::new();
        props.insert("package".into(), json!(m.package));
        props.insert("installedVersion".into(), json!(m.installed_version));
        if let Some(f) = &m.fixed_version {
            props.insert("fixedVersion".into(), json!(f));
        }
        if let Some(p) = &v.purl {
            props.insert("purl".into(), json!(p));
        }
        props.insert("subject".into(), json!(subject));
        results.push(json!({
            "ruleId": m.id,
            "ruleIndex": index,
            "level": sarif_level(m),
            "message": {"text": message},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": uri}},
                "logicalLocations": [{
                    "name": m.package,
                    "fullyQualifiedName": logical_name,
                    "kind": "module",
                }],
            }],
            "partialFingerprints": {
                "palisadeVulnerability/v1": format!("{}|{}|{}|{}", m.id, m.ecosystem, m.package, m.installed_version),
            },
            "properties": props,
        }));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "palisade",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/palisade",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_are_relative_references() {
        assert_eq!(uri_path("/var/lib/dpkg/status"), "var/lib/dpkg/status");
        assert_eq!(uri_path("/opt/my app/x#1"), "opt/my%20app/x%231");
        assert_eq!(uri_path(""), ".");
    }
}
