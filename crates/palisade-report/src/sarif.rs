//! SARIF 2.1.0 output (OASIS Static Analysis Results Interchange Format).

use std::collections::BTreeMap;

use palisade_model::Severity;
use serde_json::{Value, json};

use crate::ScanReport;

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF `level` for a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
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

/// A relative file path as a SARIF URI (forward slashes, percent-encoding of reserved bytes).
fn uri(file: &str) -> String {
    let mut out = String::new();
    for b in file.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            b'\\' => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if out.starts_with('/') {
        // Absolute paths become absolute file URIs (RFC 8089).
        return format!("file://{out}");
    }
    out.strip_prefix("./").map(str::to_string).unwrap_or(out)
}

/// Writes the report as a SARIF 2.1.0 log with one run.
pub fn write_sarif(r: &ScanReport<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    for c in r.catalog.checks() {
        rule_index.insert(c.id.as_str(), rules.len());
        let mut tags = vec!["security".to_string(), c.category.clone()];
        tags.extend(c.references.cis.iter().map(|s| format!("CIS-{s}")));
        rules.push(json!({
            "id": c.id,
            "name": c.name,
            "shortDescription": {"text": c.title},
            "fullDescription": {"text": c.rationale},
            "help": {"text": c.remediation},
            "defaultConfiguration": {"level": level(c.severity)},
            "properties": {
                "tags": tags,
                "security-severity": security_severity(c.severity),
                "precision": "high",
            },
        }));
    }
    let notifications: Vec<Value> = r
        .diagnostics
        .iter()
        .map(|d| {
            let mut loc = json!({"physicalLocation": {"artifactLocation": {"uri": uri(&d.file)}}});
            if d.line > 0 {
                let mut region = json!({"startLine": d.line});
                if d.column > 0 {
                    region["startColumn"] = json!(d.column);
                }
                loc["physicalLocation"]["region"] = region;
            }
            json!({
                "level": match d.level {
                    palisade_model::DiagnosticLevel::Error => "error",
                    palisade_model::DiagnosticLevel::Warning => "warning",
                },
                "message": {"text": d.message},
                "locations": [loc],
            })
        })
        .collect();
    let doc = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "palisade",
                "version": r.version,
                "informationUri": "https://example.invalid/palisade",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": !r.diagnostics.iter().any(|d| d.level == palisade_model::DiagnosticLevel::Error),
                "toolExecutionNotifications": notifications,
            }],
            "results": [],
        }],
    });
    // The run skeleton is small; results are streamed into it so that memory does not grow
    // with a JSON tree of every result.
    let results = Results {
        findings: r.findings,
        rule_index: &rule_index,
    };
    let run = SarifRun {
        tool: &doc["runs"][0]["tool"],
        invocations: &doc["runs"][0]["invocations"],
        results,
    };
    let log = SarifLog {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: [run],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

/// Renders the report as SARIF text.
pub fn to_sarif(r: &ScanReport<'_>) -> String {
    let mut buf = Vec::new();
    let _ = write_sarif(r, &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}

#[derive(serde::Serialize)]
struct SarifLog<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [SarifRun<'a>; 1],
}

#[derive(serde::Serialize)]
struct SarifRun<'a> {
    tool: &'a Value,
    invocations: &'a Value,
    results: Results<'a>,
}

struct Results<'a> {
    findings: &'a [palisade_model::Finding],
    rule_index: &'a BTreeMap<&'a str, usize>,
}

impl serde::Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.findings.len()))?;
        for f in self.findings {
            seq.serialize_element(&result_json(f, self.rule_index))?;
        }
        seq.end()
    }
}

fn result_json(f: &palisade_model::Finding, rule_index: &BTreeMap<&str, usize>) -> Value {
    let mut region = serde_json::Map::new();
    if f.object.source.line > 0 {
        region.insert("startLine".into(), json!(f.object.source.line));
    }
    let mut physical = json!({
        "artifactLocation": {"uri": uri(&f.object.source.file)},
    });
    if !region.is_empty() {
        physical["region"] = Value::Object(region);
    }
    let mut result = json!({
        "ruleId": f.check_id,
        "level": level(f.severity),
        "message": {"text": format!("{}: {}", f.object, f.message)},
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{
                "name": f.object.name,
                "fullyQualifiedName": f.object.to_string(),
                "kind": "resource",
            }],
        }],
        "partialFingerprints": {"palisadeFinding/v1": f.fingerprint()},
        "properties": {"severity": f.severity},
    });
    if let Some(i) = rule_index.get(&*f.check_id) {
        result["ruleIndex"] = json!(i);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn uris_are_relative_and_escaped() {
        assert_eq!(uri("./a b/c.yaml"), "a%20b/c.yaml");
        assert_eq!(uri("dir\\x.yaml"), "dir/x.yaml");
        assert_eq!(uri("/tmp/x y.yaml"), "file:///tmp/x%20y.yaml");
    }
}
