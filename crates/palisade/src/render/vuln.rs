//! Sinks of the vulnerability report (`palisade_vuln::VulnReport`) of `image scan` and
//! `sbom scan`: the JSON members, the table section and SARIF 2.1.0. What is shown, in which
//! order, the counts and the `--fail-on` verdict are the report's (palisade-vuln); this module
//! only formats them.
//!
//! JSON shape (both commands add these two keys next to their packages):
//!
//! ```text
//! "vulnerability_scan": {
//!   "status": "matched" | "unavailable",   // unavailable: no usable database (see "reason")
//!   "database": "/path/vuln.db",           // when a path was resolved
//!   "reason": "…",                         // only when unavailable
//!   "fail_on": "high", "fixable_only": false,
//!   "min_severity": "high",               // when given
//!   "shown": 9, "hidden": 1,               // hidden = left out by --fixable-only/--min-severity
//!   "suppressed": [ {"id", "package", "installed_version", "severity",
//!                    "suppressed": {"by": "ignore_file", "reason", "expires"}
//!                                | {"by": "vex", "status", "justification", "impact_statement", "document"}} ],
//!   "expired_ignores": [ {"id", "reason", "expires", "package"} ],   // no longer applied
//!   "counts": {"critical": 0, "high": 3, "medium": 0, "low": 0, "info": 0, "unknown": 6},
//!   "notorious": 1, "failed": true,        // failed = exit status 1 under --fail-on
//!   "stats": { …matcher counters…, "unparsed_versions": [ {"package", "ecosystem",
//!              "advisory", "version", "reason"} ] }   // versions that could not be parsed
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

use palisade_model::Severity;
use palisade_report::sarif::{
    self, ArtifactLocation, Configuration, Driver, Fingerprint, Level, Location, LogicalLocation,
    Message, PhysicalLocation, Rule, RuleIndexAt, RuleProperties, SarifResult,
};
use palisade_vuln::VulnMatch;
use palisade_vuln::report::{SEVERITY_NAMES, ScanStatus, VulnReport, severity_name};
use serde::Serialize;
use serde_json::Value;

/// The `vulnerability_scan` and `vulnerabilities` members to add to a JSON report.
pub fn json_members(report: &VulnReport) -> serde_json::Result<(Value, Value)> {
    Ok((
        serde_json::to_value(report)?,
        serde_json::to_value(&report.vulnerabilities)?,
    ))
}

/// The one-line summary printed on stderr when `--fail-on` fails.
pub fn failure_message(report: &VulnReport) -> Option<String> {
    let v = report.verdict.as_ref().filter(|v| v.failed)?;
    let mut ids: Vec<&str> = v.violations.iter().map(|x| x.id.as_str()).collect();
    ids.dedup();
    let more = ids.len().saturating_sub(5);
    ids.truncate(5);
    Some(format!(
        "{} vulnerabilit{} at or above {} or notorious: {}{}",
        v.violations.len(),
        if v.violations.len() == 1 { "y" } else { "ies" },
        report.fail_on.map(|s| s.to_string()).unwrap_or_default(),
        ids.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
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
    let name = severity_name(m.severity).to_ascii_uppercase();
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
    let counts: Vec<String> = SEVERITY_NAMES
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
        let why = match (report.fixable_only, report.min_severity) {
            (true, Some(s)) => {
                format!("without a fix or below {s} (--fixable-only, --min-severity)")
            }
            (false, Some(s)) => format!("below {s} (--min-severity)"),
            _ => "without a fix (--fixable-only)".into(),
        };
        let _ = write!(out, "; {} {why} not shown", report.hidden);
    }
    if !report.suppressed.is_empty() {
        let _ = write!(out, "; {} accepted (listed below)", report.suppressed.len());
    }
    let unparsed = report
        .stats
        .as_ref()
        .map_or(0, |s| s.unparsed_versions.len());
    if unparsed > 0 {
        let _ = write!(
            out,
            "; {unparsed} version{} could not be parsed, so not everything was matched (warnings on stderr)",
            if unparsed == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(
        out,
        "   [database {}]",
        report.database.as_deref().unwrap_or("?")
    );
    if !report.vulnerabilities.is_empty() {
        out.push_str(&shown_table(report));
    }
    if !report.suppressed.is_empty() {
        out.push_str(&suppressed_table(report));
    }
    out
}

/// The accepted vulnerabilities, each with who accepted it and why.
fn suppressed_table(report: &VulnReport) -> String {
    use palisade_vuln::Suppression;
    let mut rows: Vec<Vec<String>> = vec![
        ["ACCEPTED", "PACKAGE", "INSTALLED", "BY", "WHY"]
            .map(String::from)
            .to_vec(),
    ];
    for s in &report.suppressed {
        let (by, why) = match &s.suppressed {
            Suppression::IgnoreFile { reason, expires } => {
                (format!("ignore file (until {expires})"), reason.clone())
            }
            Suppression::Vex {
                status,
                justification,
                impact_statement,
                ..
            } => (
                format!("VEX {}", status.as_str()),
                [justification.as_deref(), impact_statement.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": "),
            ),
        };
        rows.push(vec![
            s.id.clone(),
            s.package.clone(),
            s.installed_version.clone(),
            by,
            why,
        ]);
    }
    columns(&rows)
}

/// The shown vulnerabilities.
fn shown_table(report: &VulnReport) -> String {
    let mut out = String::new();
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

fn sarif_level(m: &VulnMatch) -> Level {
    match m.severity {
        Some(Severity::Critical | Severity::High) => Level::Error,
        Some(Severity::Medium) => Level::Warning,
        _ if m.notorious => Level::Error,
        _ => Level::Note,
    }
}

fn help_uri(id: &str) -> String {
    if id.starts_with("CVE-") {
        format!("https://www.cve.org/CVERecord?id={id}")
    } else {
        format!("https://osv.dev/vulnerability/{id}")
    }
}

/// The rule of a vulnerability id (from its first shown match).
fn rule(m: &VulnMatch) -> Rule {
    let short = m
        .summary
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| format!("Vulnerability {}", m.id));
    Rule {
        id: m.id.clone(),
        name: m.id.clone(),
        short_description: Message::new(short),
        full_description: None,
        help: None,
        help_uri: Some(help_uri(&m.id)),
        default_configuration: Configuration {
            level: sarif_level(m),
        },
        properties: RuleProperties {
            tags: vec!["security".into(), "vulnerability".into()],
            security_severity: security_severity(m),
            precision: None,
            aliases: m.aliases.clone(),
        },
    }
}

/// A vulnerability result's property bag.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VulnProperties<'a> {
    package: &'a str,
    installed_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fixed_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<&'a str>,
    subject: &'a str,
}

/// Writes a SARIF 2.1.0 log of the shown vulnerabilities (none without a report, under
/// `--no-vulns`): one rule per vulnerability id, one result per affected package, located at
/// the file the package was found in (inside the image or, for an SBOM, the SBOM file
/// `artifact`) and logically at the package (its purl).
pub fn write_sarif(
    report: Option<&VulnReport>,
    subject: &str,
    artifact: Option<&str>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let shown = report.map_or(&[][..], |r| &r.vulnerabilities[..]);
    let mut rules: Vec<Rule> = Vec::new();
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    for v in shown {
        rule_index.entry(v.m.id.as_str()).or_insert_with(|| {
            rules.push(rule(&v.m));
            rules.len() - 1
        });
    }
    // The SBOM file: an absolute path becomes a `file://` URI.
    let artifact_uri = artifact.map(|a| {
        let uri = sarif::image_path_uri(a);
        if a.starts_with('/') {
            format!("file:///{uri}")
        } else {
            uri
        }
    });
    let driver = Driver::palisade(env!("CARGO_PKG_VERSION"), rules);
    sarif::write_log(out, &driver, None, shown, |v| {
        let m = &v.m;
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
        let uri = artifact_uri
            .clone()
            .unwrap_or_else(|| sarif::image_path_uri(m.path.as_deref().unwrap_or(".")));
        let logical_name = v
            .purl
            .clone()
            .unwrap_or_else(|| format!("{}/{}@{}", m.ecosystem, m.package, m.installed_version));
        SarifResult {
            rule_id: &m.id,
            rule_index: rule_index.get(m.id.as_str()).copied(),
            rule_index_at: RuleIndexAt::AfterRuleId,
            level: sarif_level(m),
            message: Message::new(message),
            locations: vec![Location {
                physical_location: Some(PhysicalLocation {
                    artifact_location: ArtifactLocation { uri },
                    region: None,
                }),
                logical_locations: vec![LogicalLocation {
                    name: &m.package,
                    fully_qualified_name: logical_name,
                    kind: "module",
                }],
            }],
            partial_fingerprints: Fingerprint {
                key: "palisadeVulnerability/v1",
                value: format!(
                    "{}|{}|{}|{}",
                    m.id, m.ecosystem, m.package, m.installed_version
                ),
            },
            properties: VulnProperties {
                package: &m.package,
                installed_version: &m.installed_version,
                fixed_version: m.fixed_version.as_deref(),
                purl: v.purl.as_deref(),
                subject,
            },
        }
    })
}
