//! OSV records (JSON or YAML) parsed from bytes into [`Advisory`] values.

use std::collections::BTreeMap;

use palisade_model::Severity;
use serde::Deserialize;

use crate::ParseError;
use crate::record::{
    Advisory, AffectedPackage, RangeEvent, RangeKind, ScoreEntry, SourceKind, VersionRange,
};

/// Largest record accepted, in bytes (real OSV records are a few KiB; big Go records ~100 KiB).
pub const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;

#[derive(Deserialize)]
struct WireRecord {
    id: String,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    severity: Option<Vec<ScoreEntry>>,
    #[serde(default)]
    affected: Option<Vec<WireAffected>>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct WirePackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct WireAffected {
    #[serde(default)]
    package: Option<WirePackage>,
    #[serde(default)]
    severity: Option<Vec<ScoreEntry>>,
    #[serde(default)]
    ranges: Option<Vec<WireRange>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    ecosystem_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct WireRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<BTreeMap<String, String>>,
}

/// Parses one OSV record from JSON bytes; `origin` (a file name) is used in error messages.
pub fn parse_json(bytes: &[u8], origin: &str) -> Result<Advisory, ParseError> {
    check_size(bytes, origin)?;
    let wire: WireRecord = serde_json::from_slice(bytes)
        .map_err(|e| ParseError::new(origin, format!("invalid OSV JSON: {e}")))?;
    convert(wire, origin)
}

/// Parses one OSV record from YAML bytes (the PyPI advisory database format).
pub fn parse_yaml(bytes: &[u8], origin: &str) -> Result<Advisory, ParseError> {
    check_size(bytes, origin)?;
    let wire: WireRecord = serde_saphyr::from_slice(bytes)
        .map_err(|e| ParseError::new(origin, format!("invalid OSV YAML: {e}")))?;
    convert(wire, origin)
}

fn check_size(bytes: &[u8], origin: &str) -> Result<(), ParseError> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(ParseError::new(
            origin,
            format!(
                "record is {} bytes, more than the {MAX_RECORD_BYTES} byte limit",
                bytes.len()
            ),
        ));
    }
    Ok(())
}

/// A qualitative rating from a `severity` string field of a JSON object, if it has one.
fn rating_of(value: Option<&serde_json::Value>) -> Option<Severity> {
    value?.get("severity")?.as_str()?.parse().ok()
}

fn convert(wire: WireRecord, origin: &str) -> Result<Advisory, ParseError> {
    if wire.id.trim().is_empty() {
        return Err(ParseError::new(origin, "OSV record has an empty id"));
    }
    let id = wire.id;
    let at = |what: String| ParseError::new(origin, format!("{id}: {what}"));
    let mut rating = rating_of(wire.database_specific.as_ref());
    let mut affected = Vec::new();
    for (i, a) in wire.affected.unwrap_or_default().into_iter().enumerate() {
        let Some(package) = a.package else {
            // Entries without a package (e.g. only GIT ranges of a repository) match nothing.
            continue;
        };
        if rating.is_none() {
            rating = rating_of(a.ecosystem_specific.as_ref());
        }
        let mut ranges = Vec::new();
        for (j, r) in a.ranges.unwrap_or_default().into_iter().enumerate() {
            let kind = match r.kind.as_str() {
                "ECOSYSTEM" => RangeKind::Ecosystem,
                "SEMVER" => RangeKind::Semver,
                "GIT" => RangeKind::Git,
                other => {
                    return Err(at(format!(
                        "affected[{i}].ranges[{j}]: unknown range type {other:?}"
                    )));
                }
            };
            let mut events = Vec::with_capacity(r.events.len());
            for (k, e) in r.events.into_iter().enumerate() {
                if e.len() != 1 {
                    return Err(at(format!(
                        "affected[{i}].ranges[{j}].events[{k}]: an event must have exactly one of introduced, fixed, last_affected, limit"
                    )));
                }
                let Some((key, version)) = e.into_iter().next() else {
                    continue;
                };
                events.push(match key.as_str() {
                    "introduced" => RangeEvent::Introduced(version),
                    "fixed" => RangeEvent::Fixed(version),
                    "last_affected" => RangeEvent::LastAffected(version),
                    "limit" => RangeEvent::Limit(version),
                    other => {
                        return Err(at(format!(
                            "affected[{i}].ranges[{j}].events[{k}]: unknown event {other:?}"
                        )));
                    }
                });
            }
            ranges.push(VersionRange { kind, events });
        }
        affected.push(AffectedPackage {
            ecosystem: package.ecosystem,
            name: package.name,
            ranges,
            versions: a.versions.unwrap_or_default(),
            severity: a.severity.unwrap_or_default(),
        });
    }
    let mut aliases = wire.aliases.unwrap_or_default();
    aliases.retain(|a| *a != id);
    Ok(Advisory {
        aliases,
        summary: wire.summary.filter(|s| !s.trim().is_empty()),
        modified: wire.modified.or(wire.published),
        withdrawn: wire.withdrawn,
        severity: wire.severity.unwrap_or_default(),
        rating,
        affected,
        source: SourceKind::Osv,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_record_with_all_event_kinds() {
        let json = br#"{
          "id": "TEST-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2024-0001"],
          "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
          "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
             "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0"},
                        {"introduced": "2.0.0"}, {"last_affected": "2.1.0"}, {"limit": "*"}]}],
             "versions": ["0.9.0"]}],
          "database_specific": {"severity": "MODERATE"}
        }"#;
        let a = parse_json(json, "test.json").unwrap();
        assert_eq!(a.id, "TEST-1");
        assert_eq!(a.aliases, ["CVE-2024-0001"]);
        assert_eq!(a.rating, Some(Severity::Medium));
        assert_eq!(a.affected[0].ranges[0].events.len(), 5);
        assert_eq!(
            a.affected[0].ranges[0].events[3],
            RangeEvent::LastAffected("2.1.0".into())
        );
    }

    #[test]
    fn errors_name_the_file_and_place() {
        let err = parse_json(b"{\"id\": \"X\", \"affected\": [{\"package\": {\"ecosystem\": \"npm\", \"name\": \"a\"}, \"ranges\": [{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"0\", \"fixed\": \"1\"}]}]}]}", "bad.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.json") && err.contains("ranges[0].events[0]"),
            "{err}"
        );
        let err = parse_json(b"not json", "x.json").unwrap_err().to_string();
        assert!(err.contains("x.json"), "{err}");
        let err = parse_yaml(b"id: [unclosed", "y.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("y.yaml"), "{err}");
    }

    #[test]
    fn yaml_versions_stay_strings() {
        let yaml = b"id: PYSEC-TEST\naffected:\n- package:\n    ecosystem: PyPI\n    name: demo\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: \"0\"\n    - fixed: 2.10\n  versions:\n  - 1.0\n  - 2.9\n";
        let a = parse_yaml(yaml, "t.yaml").unwrap();
        assert_eq!(a.affected[0].versions, ["1.0", "2.9"]);
        assert_eq!(
            a.affected[0].ranges[0].events[1],
            RangeEvent::Fixed("2.10".into())
        );
    }
}
