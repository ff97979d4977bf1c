//! The scan report as a SARIF 2.1.0 log (built from the types of [`crate::sarif`]).

use std::collections::BTreeMap;

use palisade_model::{DiagnosticLevel, Finding, Severity};
use serde::Serialize;

use crate::ScanReport;
use crate::sarif::{
    ArtifactLocation, Configuration, Driver, Fingerprint, Invocation, Level, Location,
    LogicalLocation, Message, Notification, PhysicalLocation, Region, Rule, RuleIndexAt,
    RuleProperties, SarifResult, file_uri, write_log,
};

/// SARIF `level` for a severity.
fn level(s: Severity) -> Level {
    match s {
        Severity::Critical | Severity::High => Level::Error,
        Severity::Medium => Level::Warning,
        Severity::Low | Severity::Info => Level::Note,
    }
}

/// The numeric `security-severity` property code-scanning tools read (0.0–10.0).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// A location in a file (and, for findings, at a Kubernetes object).
fn location<'a>(
    file: &str,
    region: Option<Region>,
    logical: Vec<LogicalLocation<'a>>,
) -> Location<'a> {
    Location {
        physical_location: Some(PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: file_uri(file),
            },
            region,
        }),
        logical_locations: logical,
    }
}

/// A finding's property bag (with the cluster and resourceVersion of a live object).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Properties<'a> {
    severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_version: Option<&'a str>,
}

/// Writes the report as a SARIF 2.1.0 log with one run.
pub fn write_sarif(r: &ScanReport<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    for c in r.catalog.checks() {
        rule_index.insert(c.id.as_str(), rules.len());
        let mut tags = vec!["security".to_string(), c.category.clone()];
        tags.extend(c.references.cis.iter().map(|s| format!("CIS-{s}")));
        rules.push(Rule {
            id: c.id.to_string(),
            name: c.name.clone(),
            short_description: Message::new(c.title.clone()),
            full_description: Some(Message::new(c.rationale.clone())),
            help: Some(Message::new(c.remediation.clone())),
            help_uri: None,
            default_configuration: Configuration {
                level: level(c.severity),
            },
            properties: RuleProperties {
                tags,
                security_severity: Some(security_severity(c.severity).to_string()),
                precision: Some("high"),
                aliases: Vec::new(),
            },
        });
    }
    let notifications = r
        .diagnostics
        .iter()
        .map(|d| Notification {
            level: match d.level {
                DiagnosticLevel::Error => Level::Error,
                DiagnosticLevel::Warning => Level::Warning,
                DiagnosticLevel::Info => Level::Note,
            },
            message: Message::new(d.message.clone()),
            locations: vec![location(
                d.file(),
                Region::at(d.line(), d.column()),
                Vec::new(),
            )],
        })
        .collect();
    let invocations = [Invocation {
        execution_successful: !r
            .diagnostics
            .iter()
            .any(|d| d.level == DiagnosticLevel::Error),
        tool_execution_notifications: notifications,
    }];
    let driver = Driver::palisade(r.version, rules);
    write_log(out, &driver, Some(&invocations), r.findings, |f| {
        result(f, &rule_index)
    })
}

/// Renders the report as SARIF text.
pub fn to_sarif(r: &ScanReport<'_>) -> String {
    let mut buf = Vec::new();
    let _ = write_sarif(r, &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}

/// One finding as a SARIF `result`, located at its object's file and line and, logically, at
/// the object.
fn result<'a>(
    f: &'a Finding,
    rule_index: &BTreeMap<&str, usize>,
) -> SarifResult<'a, Properties<'a>> {
    let object = f.object.to_string();
    let live = f.object.source.live.as_deref();
    let logical = |fully_qualified_name: String| LogicalLocation {
        name: &f.object.name,
        fully_qualified_name,
        kind: "resource",
    };
    let at = match live {
        // A live object has no file: it is located logically, in its cluster.
        Some(l) => Location {
            physical_location: None,
            logical_locations: vec![logical(format!("{}/{object}", l.cluster))],
        },
        None => location(
            &f.object.source.file,
            Region::at(f.object.source.line, 0),
            vec![logical(object.clone())],
        ),
    };
    SarifResult {
        rule_id: &f.check_id,
        rule_index: rule_index.get(&*f.check_id).copied(),
        rule_index_at: RuleIndexAt::Last,
        level: level(f.severity),
        message: Message::new(format!("{object}: {}", f.message)),
        locations: vec![at],
        partial_fingerprints: Fingerprint {
            key: "palisadeFinding/v1",
            value: f.fingerprint_display().to_string(),
        },
        properties: Properties {
            severity: f.severity,
            cluster: live.map(|l| &*l.cluster),
            resource_version: live.map(|l| l.resource_version.as_str()),
        },
    }
}
