//! The JSON report. Its schema is versioned by `schema`; fields are only ever added.

use serde_json::{Value, json};

use crate::ScanReport;

/// Identifier of the JSON report schema.
pub const JSON_SCHEMA_ID: &str = "palisade.dev/scan-report/v1";

fn finding_json(f: &palisade_model::Finding) -> Value {
    json!({
        "check_id": f.check_id,
        "severity": f.severity,
        "title": f.title,
        "message": f.message,
        "remediation": f.remediation,
        "object": {
            "api_version": f.object.api_version,
            "kind": f.object.kind,
            "namespace": f.object.namespace,
            "name": f.object.name,
        },
        "file": f.object.source.file.as_ref(),
        "line": f.object.source.line,
        "container": f.container,
        "path": f.path,
        "fingerprint": f.fingerprint(),
    })
}

/// Renders the report as pretty-printed JSON.
pub fn to_json(r: &ScanReport<'_>) -> String {
    let counts: serde_json::Map<String, Value> = r
        .counts()
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), json!(n)))
        .collect();
    let doc = json!({
        "schema": JSON_SCHEMA_ID,
        "tool": {"name": "palisade", "version": r.version},
        "summary": {
            "files": r.files,
            "objects": r.objects,
            "findings": r.findings.len(),
            "by_severity": counts,
            "suppressed": r.suppressed.len(),
            "diagnostics": r.diagnostics.len(),
        },
        "findings": r.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "suppressed": r.suppressed.iter().map(|s| {
            let mut v = finding_json(&s.finding);
            v["suppressed_by"] = json!(s.by);
            v["reason"] = json!(s.reason);
            v
        }).collect::<Vec<_>>(),
        "expired_exceptions": r.expired_exceptions,
        "diagnostics": r.diagnostics,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}
