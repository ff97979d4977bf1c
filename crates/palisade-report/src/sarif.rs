//! SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format): the typed subset palisade
//! writes, one URI encoder for artifact locations, and [`write_log`], which writes a log of one
//! run. Every SARIF output of the workspace (the scan report here, the vulnerability reports of
//! `image scan` and `sbom scan` in the command line) is built from these types.
//!
//! Members serialize in the order of the fields; optional members are left out when absent.

use std::io::{self, Write};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeStruct};

use crate::pretty::ObjectWriter;

/// The schema a log names in `$schema`.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The SARIF version written.
pub const VERSION: &str = "2.1.0";
/// The tool's `informationUri`.
pub const INFORMATION_URI: &str = "https://example.invalid/palisade";

/// A result's or rule's `level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A serious problem.
    Error,
    /// A problem.
    Warning,
    /// Worth knowing.
    Note,
}

/// A `message` (or description): plain text.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// The text.
    pub text: String,
}

impl Message {
    /// A message of this text.
    pub fn new(text: impl Into<String>) -> Self {
        Message { text: text.into() }
    }
}

/// The tool's `driver`: who wrote the log, and the rules its results refer to.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver<'a> {
    /// Tool name.
    pub name: &'a str,
    /// Tool version.
    pub version: &'a str,
    /// Where to read about the tool.
    pub information_uri: &'a str,
    /// The rules (`ruleIndex` of a result indexes this list).
    pub rules: Vec<Rule>,
}

impl<'a> Driver<'a> {
    /// Palisade at `version`, with these rules.
    pub fn palisade(version: &'a str, rules: Vec<Rule>) -> Self {
        Driver {
            name: "palisade",
            version,
            information_uri: INFORMATION_URI,
            rules,
        }
    }
}

/// `tool`: the wrapper around the driver.
#[derive(Serialize)]
struct Tool<'d, 'a> {
    driver: &'d Driver<'a>,
}

/// A rule (`reportingDescriptor`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Stable id.
    pub id: String,
    /// Name.
    pub name: String,
    /// One-line description.
    pub short_description: Message,
    /// Longer description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_description: Option<Message>,
    /// How to fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<Message>,
    /// Where to read more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_uri: Option<String>,
    /// The level of its results.
    pub default_configuration: Configuration,
    /// Property bag.
    pub properties: RuleProperties,
}

/// A rule's `defaultConfiguration`.
#[derive(Debug, Clone, Serialize)]
pub struct Configuration {
    /// The level.
    pub level: Level,
}

/// A rule's property bag, as code-scanning tools read it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleProperties {
    /// Tags (`security` first).
    pub tags: Vec<String>,
    /// The numeric severity (0.0–10.0) as text, one decimal.
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    pub security_severity: Option<String>,
    /// How often the rule is right (`high`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<&'static str>,
    /// Other ids of what the rule reports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// An `invocation` of the tool.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation<'a> {
    /// Whether the tool ran without errors.
    pub execution_successful: bool,
    /// Problems the tool met while running.
    pub tool_execution_notifications: Vec<Notification<'a>>,
}

/// A `notification`: a problem of the run itself (an unreadable input).
#[derive(Debug, Clone, Serialize)]
pub struct Notification<'a> {
    /// Level.
    pub level: Level,
    /// What happened.
    pub message: Message,
    /// Where.
    pub locations: Vec<Location<'a>>,
}

/// A `location`: a place in a file and, optionally, the logical thing there (only the logical
/// thing for an object read from a live cluster, which has no file).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location<'a> {
    /// The file (and region).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_location: Option<PhysicalLocation>,
    /// The logical things (a Kubernetes object, a package).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logical_locations: Vec<LogicalLocation<'a>>,
}

/// A `physicalLocation`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    /// The file.
    pub artifact_location: ArtifactLocation,
    /// The region in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// An `artifactLocation`: a URI made by [`file_uri`] or [`image_path_uri`].
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactLocation {
    /// The URI.
    pub uri: String,
}

/// A `region` of a file (1-based).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// Line.
    pub start_line: u32,
    /// Column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
}

impl Region {
    /// The region at `line` and `column` (0: unknown); none when the line is unknown.
    pub fn at(line: u32, column: u32) -> Option<Region> {
        (line > 0).then_some(Region {
            start_line: line,
            start_column: (column > 0).then_some(column),
        })
    }
}

/// A `logicalLocation`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogicalLocation<'a> {
    /// Short name.
    pub name: &'a str,
    /// Unique name.
    pub fully_qualified_name: String,
    /// What it is (`resource`, `module`).
    pub kind: &'static str,
}

/// One entry of `partialFingerprints`: a versioned key and the value under it.
#[derive(Debug, Clone)]
pub struct Fingerprint {
    /// The key (`palisadeFinding/v1`).
    pub key: &'static str,
    /// The value.
    pub value: String,
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.key, &self.value)?;
        m.end()
    }
}

/// Where a result writes its `ruleIndex`. The scan log has always written it last, the
/// vulnerability logs right after `ruleId`; both are kept so the outputs stay byte-identical.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleIndexAt {
    /// Right after `ruleId`.
    AfterRuleId,
    /// Last.
    Last,
}

/// A `result`, with a property bag of type `P`.
#[derive(Debug, Clone)]
pub struct SarifResult<'a, P> {
    /// The rule's id.
    pub rule_id: &'a str,
    /// The rule's index in [`Driver::rules`], when it is there.
    pub rule_index: Option<usize>,
    /// Where `ruleIndex` is written.
    pub rule_index_at: RuleIndexAt,
    /// Level.
    pub level: Level,
    /// What was found.
    pub message: Message,
    /// Where.
    pub locations: Vec<Location<'a>>,
    /// Identity across runs.
    pub partial_fingerprints: Fingerprint,
    /// Property bag.
    pub properties: P,
}

impl<P: Serialize> Serialize for SarifResult<'_, P> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let index = |at| self.rule_index.filter(|_| self.rule_index_at == at);
        let mut r = s.serialize_struct("result", 8)?;
        r.serialize_field("ruleId", self.rule_id)?;
        if let Some(i) = index(RuleIndexAt::AfterRuleId) {
            r.serialize_field("ruleIndex", &i)?;
        }
        r.serialize_field("level", &self.level)?;
        r.serialize_field("message", &self.message)?;
        r.serialize_field("locations", &self.locations)?;
        r.serialize_field("partialFingerprints", &self.partial_fingerprints)?;
        r.serialize_field("properties", &self.properties)?;
        if let Some(i) = index(RuleIndexAt::Last) {
            r.serialize_field("ruleIndex", &i)?;
        }
        r.end()
    }
}

/// Writes a SARIF log of one run: the driver, the invocations when given, and one result per
/// item. Results, most of the bytes, are formatted in parallel batches and streamed (see
/// `crate::pretty`), so memory does not grow with a JSON tree of every result; the text is
/// what `serde_json::to_writer_pretty` writes for the same document, plus a final newline.
pub fn write_log<'a, I, P, F>(
    out: &mut dyn Write,
    driver: &Driver<'_>,
    invocations: Option<&[Invocation<'_>]>,
    items: &'a [I],
    result: F,
) -> io::Result<()>
where
    I: Sync,
    P: Serialize,
    F: Fn(&'a I) -> SarifResult<'a, P> + Sync,
{
    let mut log = ObjectWriter::begin(out)?;
    log.member("$schema", SCHEMA)?;
    log.member("version", VERSION)?;
    log.array_of_one_object("runs", |run| {
        run.member("tool", &Tool { driver })?;
        if let Some(invocations) = invocations {
            run.member("invocations", invocations)?;
        }
        run.par_array("results", items, result)
    })?;
    log.end()
}

/// Bytes kept by [`file_uri`]: RFC 3986 unreserved characters and `/`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Bytes kept by [`image_path_uri`]: everything RFC 3986 allows in a path.
const PATH: &AsciiSet = &UNRESERVED
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// Percent-encodes every byte of `path` outside `keep` (upper-case hex).
fn encode(path: &str, keep: &'static AsciiSet) -> String {
    utf8_percent_encode(path, keep).to_string()
}

/// A file the user named (a manifest, an SBOM) as an artifact URI: backslashes become `/`, only
/// unreserved characters stay unescaped, a leading `./` goes, and an absolute path becomes a
/// `file://` URI (RFC 8089).
pub fn file_uri(file: &str) -> String {
    let out = encode(&file.replace('\\', "/"), UNRESERVED);
    if out.starts_with('/') {
        return format!("file://{out}");
    }
    match out.strip_prefix("./") {
        Some(rest) => rest.to_string(),
        None => out,
    }
}

/// A path inside an image (relative to its root; leading slashes are dropped) as a relative URI
/// reference: what RFC 3986 does not allow in a path is percent-encoded; the root is `.`.
pub fn image_path_uri(path: &str) -> String {
    let out = encode(path.trim_start_matches('/'), PATH);
    if out.is_empty() { ".".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_are_relative_and_escaped() {
        assert_eq!(file_uri("./a b/c.yaml"), "a%20b/c.yaml");
        assert_eq!(file_uri("dir\\x.yaml"), "dir/x.yaml");
        assert_eq!(file_uri("/tmp/x y.yaml"), "file:///tmp/x%20y.yaml");
        assert_eq!(file_uri("a+b:c@é.yaml"), "a%2Bb%3Ac%40%C3%A9.yaml");
    }

    #[test]
    fn image_paths_are_relative_references() {
        assert_eq!(
            image_path_uri("/var/lib/dpkg/status"),
            "var/lib/dpkg/status"
        );
        assert_eq!(image_path_uri("/opt/my app/x#1"), "opt/my%20app/x%231");
        assert_eq!(image_path_uri("/a+b:c@d/é"), "a+b:c@d/%C3%A9");
        assert_eq!(image_path_uri(""), ".");
    }

    #[test]
    fn rule_index_goes_where_asked() {
        let mut r = SarifResult {
            rule_id: "R",
            rule_index: Some(3),
            rule_index_at: RuleIndexAt::AfterRuleId,
            level: Level::Note,
            message: Message::new("m"),
            locations: Vec::new(),
            partial_fingerprints: Fingerprint {
                key: "k/v1",
                value: "f".into(),
            },
            properties: serde_json::json!({}),
        };
        let text = |r: &SarifResult<'_, serde_json::Value>| serde_json::to_string(r).unwrap();
        assert!(text(&r).starts_with(r#"{"ruleId":"R","ruleIndex":3,"level":"note""#));
        r.rule_index_at = RuleIndexAt::Last;
        assert!(
            text(&r)
                .ends_with(r#""partialFingerprints":{"k/v1":"f"},"properties":{},"ruleIndex":3}"#)
        );
    }
}
