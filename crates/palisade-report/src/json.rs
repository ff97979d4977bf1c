//! The JSON report. Its schema is versioned by `schema`; fields are only ever added.
//!
//! The report is serialized straight from borrowed findings to the writer, so memory stays
//! proportional to the findings themselves even for hundreds of thousands of them.

use std::collections::BTreeMap;
use std::io::Write;

use palisade_model::{Diagnostic, Finding};
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

use crate::ScanReport;

/// Identifier of the JSON report schema.
pub const JSON_SCHEMA_ID: &str = "palisade.dev/scan-report/v1";

#[derive(Serialize)]
struct ObjectJson<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    check_id: &'a str,
    severity: palisade_model::Severity,
    title: &'a str,
    message: &'a str,
    remediation: &'a str,
    object: ObjectJson<'a>,
    file: &'a str,
    line: u32,
    container: Option<&'a str>,
    path: Option<&'a str>,
    fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

impl<'a> FindingJson<'a> {
    fn new(f: &'a Finding) -> Self {
        FindingJson {
            check_id: &f.check_id,
            severity: f.severity,
            title: &f.title,
            message: &f.message,
            remediation: &f.remediation,
            object: ObjectJson {
                api_version: &f.object.api_version,
                kind: &f.object.kind,
                namespace: f.object.namespace.as_deref(),
                name: &f.object.name,
            },
            file: &f.object.source.file,
            line: f.object.source.line,
            container: f.container.as_deref(),
            path: f.path.as_deref(),
            fingerprint: f.fingerprint(),
            suppressed_by: None,
            reason: None,
        }
    }
}

/// Serializes findings one by one (no intermediate vector).
struct Findings<'a>(&'a [Finding]);

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for f in self.0 {
            seq.serialize_element(&FindingJson::new(f))?;
        }
        seq.end()
    }
}

struct SuppressedJson<'a>(&'a [palisade_checks::Suppressed]);

impl Serialize for SuppressedJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for sup in self.0 {
            let mut f = FindingJson::new(&sup.finding);
            f.suppressed_by = Some(sup.by);
            f.reason = Some(&sup.reason);
            seq.serialize_element(&f)?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    objects: usize,
    findings: usize,
    by_severity: BTreeMap<&'static str, usize>,
    suppressed: usize,
    diagnostics: usize,
}

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    tool: Tool<'a>,
    summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_risks: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    images: Option<&'a palisade_model::ImageFactsTable>,
    findings: Findings<'a>,
    suppressed: SuppressedJson<'a>,
    expired_exceptions: &'a [palisade_checks::Exception],
    diagnostics: &'a [Diagnostic],
}

/// Writes the report as pretty-printed JSON.
pub fn write_json(r: &ScanReport<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let report = Report {
        schema: JSON_SCHEMA_ID,
        tool: Tool {
            name: "palisade",
            version: r.version,
        },
        summary: Summary {
            files: r.files,
            objects: r.objects,
            findings: r.findings.len(),
            by_severity: r
                .counts()
                .into_iter()
                .map(|(s, n)| (s.as_str(), n))
                .collect(),
            suppressed: r.suppressed.len(),
            diagnostics: r.diagnostics.len(),
        },
        top_risks: r.top_risks.as_ref(),
        images: r.images,
        findings: Findings(r.findings),
        suppressed: SuppressedJson(r.suppressed),
        expired_exceptions: r.expired_exceptions,
        diagnostics: r.diagnostics,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}

/// Renders the report as pretty-printed JSON text.
pub fn to_json(r: &ScanReport<'_>) -> String {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail, and serde_json emits UTF-8.
    let _ = write_json(r, &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}
