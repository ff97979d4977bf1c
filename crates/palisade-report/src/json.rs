//! The JSON report. Its schema is versioned by `schema`; fields are only ever added.
//!
//! The report is serialized straight from borrowed findings to the writer, so memory stays
//! proportional to the findings themselves even for hundreds of thousands of them.

use std::collections::BTreeMap;
use std::io::Write;

use palisade_model::Finding;
use serde::Serialize;

use crate::ScanReport;
use crate::escaped::{EscapedTexts, Text};
use crate::pretty::ObjectWriter;

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
    title: Text<'a>,
    message: &'a str,
    remediation: Text<'a>,
    object: ObjectJson<'a>,
    /// `cluster:<name>` and 0 for an object read from a live cluster.
    file: &'a str,
    line: u32,
    /// Cluster and resourceVersion of an object read from a live cluster (fields only ever
    /// added: `file` and `line` stay).
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_version: Option<&'a str>,
    container: Option<&'a str>,
    path: Option<&'a str>,
    fingerprint: Fingerprint<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

impl<'a> FindingJson<'a> {
    /// The finding's fields; its check's title and remediation escaped already in `texts`.
    fn new(f: &'a Finding, texts: &'a EscapedTexts) -> Self {
        let live = f.object.source.live.as_deref();
        FindingJson {
            check_id: &f.check_id,
            severity: f.severity,
            title: texts.get(&f.title),
            message: &f.message,
            remediation: texts.get(&f.remediation),
            object: ObjectJson {
                api_version: &f.object.api_version,
                kind: &f.object.kind,
                namespace: f.object.namespace.as_deref(),
                name: &f.object.name,
            },
            file: &f.object.source.file,
            line: f.object.source.line,
            cluster: live.map(|l| &*l.cluster),
            resource_version: live.map(|l| l.resource_version.as_str()),
            container: f.container.as_deref(),
            path: f.path.as_deref(),
            fingerprint: Fingerprint(f),
            suppressed_by: None,
            reason: None,
        }
    }
}

/// [`Finding::fingerprint`], serialized without building the string first.
struct Fingerprint<'a>(&'a Finding);

impl Serialize for Fingerprint<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.fingerprint_display())
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
    /// Kinds no built-in check analyses, with their object counts.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    unanalysed_kinds: BTreeMap<String, usize>,
}

/// Writes the report as pretty-printed JSON (members in schema order; findings formatted in
/// parallel, see [`crate::pretty`]).
pub fn write_json(r: &ScanReport<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let summary = Summary {
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
        unanalysed_kinds: r.unanalysed_kinds.iter().cloned().collect(),
    };
    let mut doc = ObjectWriter::begin(out)?;
    doc.member("schema", JSON_SCHEMA_ID)?;
    doc.member(
        "tool",
        &Tool {
            name: "palisade",
            version: r.version,
        },
    )?;
    doc.member("summary", &summary)?;
    if let Some(top) = r.top_risks {
        doc.member("top_risks", top)?;
    }
    if let Some(images) = r.images {
        doc.member("images", images)?;
    }
    let texts = EscapedTexts::of(
        (r.findings.iter())
            .chain(r.suppressed.iter().map(|s| &s.finding))
            .flat_map(|f| [&f.title, &f.remediation]),
    );
    doc.par_array("findings", r.findings, |f| FindingJson::new(f, &texts))?;
    doc.par_array("suppressed", r.suppressed, |sup| {
        let mut f = FindingJson::new(&sup.finding, &texts);
        f.suppressed_by = Some(sup.by);
        f.reason = Some(&sup.reason);
        f
    })?;
    doc.member("expired_exceptions", r.expired_exceptions)?;
    doc.member("diagnostics", r.diagnostics)?;
    doc.end()
}

/// Renders the report as pretty-printed JSON text.
pub fn to_json(r: &ScanReport<'_>) -> String {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail, and serde_json emits UTF-8.
    let _ = write_json(r, &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}
