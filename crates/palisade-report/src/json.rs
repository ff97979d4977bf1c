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
use crate::pretty::{ObjectWriter, PrettyText};

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

impl FindingJson<'_> {
    /// Writes the finding as its serialization in serde_json's pretty layout would be
    /// written, byte for byte (the tests compare the two), without serde's per-member work.
    fn write_pretty(&self, text: &mut PrettyText<'_>) {
        text.open();
        text.key("check_id", true);
        text.string(self.check_id);
        text.key("severity", false);
        text.string(self.severity.as_str());
        text.key("title", false);
        self.title.write_to(text);
        text.key("message", false);
        text.string(self.message);
        text.key("remediation", false);
        self.remediation.write_to(text);
        text.key("object", false);
        text.open();
        text.key("api_version", true);
        text.string(self.object.api_version);
        text.key("kind", false);
        text.string(self.object.kind);
        text.key("namespace", false);
        text.optional(self.object.namespace);
        text.key("name", false);
        text.string(self.object.name);
        text.close(true);
        text.key("file", false);
        text.string(self.file);
        text.key("line", false);
        text.number(u64::from(self.line));
        text.member_if_some("cluster", self.cluster);
        text.member_if_some("resource_version", self.resource_version);
        text.key("container", false);
        text.optional(self.container);
        text.key("path", false);
        text.optional(self.path);
        text.key("fingerprint", false);
        text.joined(
            &self.fingerprint.0.fingerprint_parts(),
            Finding::FINGERPRINT_SEPARATOR,
        );
        text.member_if_some("suppressed_by", self.suppressed_by);
        text.member_if_some("reason", self.reason);
        text.close(true);
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
    doc.par_array_with("findings", r.findings, |f, text| {
        FindingJson::new(f, &texts).write_pretty(text)
    })?;
    doc.par_array_with("suppressed", r.suppressed, |sup, text| {
        let mut f = FindingJson::new(&sup.finding, &texts);
        f.suppressed_by = Some(sup.by);
        f.reason = Some(&sup.reason);
        f.write_pretty(text)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use palisade_model::meta::{LiveSource, ObjectRef, SourceLocation};
    use palisade_model::{Finding, Severity};

    use super::FindingJson;
    use crate::escaped::EscapedTexts;
    use crate::pretty::{PrettyText, write_value};

    /// Texts that JSON escapes in every way serde_json does (quotes, backslashes, the short
    /// escapes, `\u00XX` controls), multi-byte UTF-8 that it does not, and plain ones, at
    /// several lengths so they fall both in whole eight-byte words and in the remainder.
    const TEXTS: &[&str] = &[
        "",
        "plain",
        "container c0 runs privileged",
        "say \"hi\"",
        "C:\\path\\to",
        "line\nbreak\ttab\rcr\u{8}bs\u{c}ff",
        "\u{1}\u{1f} controls \u{7f} del",
        "unicode é 日本 🚀 and a quote\" at the end",
        "sixteen bytes!!!\"",
        "exactly8",
        "exactly8\\",
    ];

    fn findings() -> Vec<(Finding, Option<(&'static str, String)>)> {
        let mut out = Vec::new();
        for (i, text) in TEXTS.iter().enumerate() {
            let live = (i % 2 == 1).then(|| {
                Arc::new(LiveSource {
                    cluster: Arc::from(*text),
                    resource_version: format!("{i}{text}"),
                })
            });
            let object = Arc::new(ObjectRef {
                api_version: format!("v{text}"),
                kind: format!("K{text}"),
                namespace: (i % 3 != 0).then(|| text.to_string()),
                name: format!("n{text}"),
                source: SourceLocation {
                    live,
                    ..SourceLocation::new(*text, i as u32 * 1000)
                },
            });
            let finding = Finding {
                check_id: Arc::from(format!("PAL-{text}")),
                severity: Severity::ALL[i % Severity::ALL.len()],
                title: Arc::from(*text),
                message: text.to_string(),
                remediation: Arc::from(format!("fix {text}")),
                object,
                container: (i % 2 == 0).then(|| Arc::from(*text)),
                path: (i % 4 != 1).then(|| Arc::from(format!("spec.{text}"))),
            };
            let suppressed = (i % 3 == 2).then(|| ("config", text.to_string()));
            out.push((finding, suppressed));
        }
        out
    }

    /// The hand-written text of each finding is serde_json's pretty serialization of it, with
    /// its check texts escaped beforehand or not, at any depth.
    #[test]
    fn a_finding_written_by_hand_is_byte_for_byte_its_serde_serialization() {
        let all = findings();
        let escaped = EscapedTexts::of(all.iter().flat_map(|(f, _)| [&f.title, &f.remediation]));
        let none = EscapedTexts::of(std::iter::empty());
        for texts in [&escaped, &none] {
            for (finding, suppressed) in &all {
                let mut json = FindingJson::new(finding, texts);
                if let Some((by, reason)) = suppressed {
                    json.suppressed_by = Some(by);
                    json.reason = Some(reason);
                }
                for depth in [0, 2] {
                    let mut expected = Vec::new();
                    write_value(&mut expected, depth, &json).unwrap();
                    let mut written = Vec::new();
                    json.write_pretty(&mut PrettyText::at(&mut written, depth));
                    assert_eq!(
                        String::from_utf8(written).unwrap(),
                        String::from_utf8(expected).unwrap(),
                        "{finding:?}"
                    );
                }
            }
        }
    }
}
