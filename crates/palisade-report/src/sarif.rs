//! SARIF 2.1.0 output (OASIS Static Analysis Results Interchange Format).

use std::collections::BTreeMap;

use palisade_model::Severity;
use serde::Serialize;
use serde_json::{Value, json};

use crate::ScanReport;
use crate::pretty::ObjectWriter;

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
            let mut loc = json!({"physicalLocation": {"artifactLocation": {"uri": uri(d.file())}}});
            if d.line() > 0 {
                let mut region = json!({"startLine": d.line()});
                if d.column() > 0 {
                    region["startColumn"] = json!(d.column());
                }
                loc["physicalLocation"]["region"] = region;
            }
            json!({
                "level": match d.level {
                    palisade_model::DiagnosticLevel::Error => "error",
                    palisade_model::DiagnosticLevel::Warning => "warning",
                    palisade_model::DiagnosticLevel::Info => "note",
                },
                "message": {"text": d.message},
                "locations": [loc],
            })
        })
        .collect();
    let tool = json!({"driver": {
        "name": "palisade",
        "version": r.version,
        "informationUri": "https://example.invalid/palisade",
        "rules": rules,
    }});
    let invocations = json!([{
        "executionSuccessful": !r.diagnostics.iter().any(|d| d.level == palisade_model::DiagnosticLevel::Error),
        "toolExecutionNotifications": notifications,
    }]);
    // The run skeleton is small; the results, most of the bytes, are formatted in parallel
    // batches and streamed (see `crate::pretty`), so memory does not grow with a JSON tree of
    // every result.
    let mut log = ObjectWriter::begin(out)?;
    log.member("$schema", SARIF_SCHEMA)?;
    log.member("version", "2.1.0")?;
    log.array_of_one_object("runs", |run| {
        run.member("tool", &tool)?;
        run.member("invocations", &invocations)?;
        run.par_array("results", r.findings, |f| result_json(f, &rule_index))
    })?;
    log.end()
}

/// Renders the report as SARIF text.
pub fn to_sarif(r: &ScanReport<'_>) -> String {
    let mut buf = Vec::new();
    let _ = write_sarif(r, &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}

/// One SARIF `result`, typed and borrowing from the finding (the members in the order SARIF
/// readers and our earlier output had them).
#[derive(Serialize)]
struct ResultJson<'a> {
    #[serde(rename = "ruleId")]
    rule_id: &'a str,
    level: &'static str,
    message: Text,
    locations: [Location<'a>; 1],
    #[serde(rename = "partialFingerprints")]
    partial_fingerprints: Fingerprints<'a>,
    properties: Properties,
    #[serde(rename = "ruleIndex", skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Location<'a> {
    #[serde(rename = "physicalLocation")]
    physical: Physical,
    #[serde(rename = "logicalLocations")]
    logical: [Logical<'a>; 1],
}

#[derive(Serialize)]
struct Physical {
    #[serde(rename = "artifactLocation")]
    artifact: Artifact,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct Artifact {
    uri: String,
}

#[derive(Serialize)]
struct Region {
    #[serde(rename = "startLine")]
    start_line: u32,
}

#[derive(Serialize)]
struct Logical<'a> {
    name: &'a str,
    #[serde(rename = "fullyQualifiedName")]
    fully_qualified_name: String,
    kind: &'static str,
}

struct Fingerprints<'a>(&'a palisade_model::Finding);

impl Serialize for Fingerprints<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(
            "palisadeFinding/v1",
            &format_args!("{}", self.0.fingerprint_display()),
        )?;
        m.end()
    }
}

#[derive(Serialize)]
struct Properties {
    severity: Severity,
}

fn result_json<'a>(
    f: &'a palisade_model::Finding,
    rule_index: &BTreeMap<&str, usize>,
) -> ResultJson<'a> {
    let object = f.object.to_string();
    ResultJson {
        rule_id: &f.check_id,
        level: level(f.severity),
        message: Text {
            text: format!("{object}: {}", f.message),
        },
        locations: [Location {
            physical: Physical {
                artifact: Artifact {
                    uri: uri(&f.object.source.file),
                },
                region: (f.object.source.line > 0).then_some(Region {
                    start_line: f.object.source.line,
                }),
            },
            logical: [Logical {
                name: &f.object.name,
                fully_qualified_name: object,
                kind: "resource",
            }],
        }],
        partial_fingerprints: Fingerprints(f),
        properties: Properties {
            severity: f.severity,
        },
        rule_index: rule_index.get(&*f.check_id).copied(),
    }
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
