//! The normalized advisory record every source is converted to (an OSV subset).
//!
//! Field names and event encoding follow the OSV schema, so an OSV record maps one to one;
//! Alpine secdb and Debian tracker entries are expressed as OSV-style `ECOSYSTEM` ranges
//! (`introduced: "0"`, `fixed: <version>`) on the source package.

use palisade_model::Severity;
use serde::{Deserialize, Serialize};

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// An OSV record (JSON or YAML).
    Osv,
    /// Alpine secdb (`secfixes` per origin package).
    AlpineSecdb,
    /// Debian security tracker DSA/DLA lists.
    DebianTracker,
}

impl SourceKind {
    /// Stable name used in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Osv => "osv",
            SourceKind::AlpineSecdb => "alpine-secdb",
            SourceKind::DebianTracker => "debian-tracker",
        }
    }

    /// Parses [`SourceKind::as_str`] output.
    pub fn parse(s: &str) -> Option<SourceKind> {
        match s {
            "osv" => Some(SourceKind::Osv),
            "alpine-secdb" => Some(SourceKind::AlpineSecdb),
            "debian-tracker" => Some(SourceKind::DebianTracker),
            _ => None,
        }
    }
}

/// A severity score entry (`type` and `score` as in OSV).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreEntry {
    /// `CVSS_V3`, `CVSS_V4`, `CVSS_V2`, `Ubuntu`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector or rating.
    pub score: String,
}

/// One event of a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeEvent {
    /// The vulnerability starts at this version (`"0"`: before every version).
    Introduced(String),
    /// The vulnerability is fixed at this version.
    Fixed(String),
    /// The last affected version (versions above it are unaffected).
    LastAffected(String),
    /// An upper limit on the range (`"*"`: infinity).
    Limit(String),
}

impl RangeEvent {
    /// The version string of the event.
    pub fn version(&self) -> &str {
        match self {
            RangeEvent::Introduced(v)
            | RangeEvent::Fixed(v)
            | RangeEvent::LastAffected(v)
            | RangeEvent::Limit(v) => v,
        }
    }
}

/// Kind of range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    /// Versions ordered by the ecosystem's rules.
    Ecosystem,
    /// SemVer 2.0 versions.
    Semver,
    /// Git commits (not matchable against package versions).
    Git,
}

/// A range of affected versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRange {
    /// Kind of range.
    #[serde(rename = "type")]
    pub kind: RangeKind,
    /// The events, in the order the record gives them.
    pub events: Vec<RangeEvent>,
}

/// One affected package of an advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedPackage {
    /// OSV ecosystem string, possibly with a release suffix (`Debian:11`, `Alpine:v3.11`).
    pub ecosystem: String,
    /// Package name (the source package for distributions).
    pub name: String,
    /// Ranges of affected versions.
    #[serde(default)]
    pub ranges: Vec<VersionRange>,
    /// Explicitly listed affected versions.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Per-package severity entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<ScoreEntry>,
}

/// A vulnerability advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    /// Identifier (`RUSTSEC-2021-0001`, `GO-2023-1840`, `PYSEC-…`, `CVE-…`, `DSA-5380-1`).
    pub id: String,
    /// Other identifiers of the same vulnerability.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// One-line summary when the source gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Last modification time (RFC 3339) or publication date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// Withdrawal time, when the advisory was withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Record-level severity entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<ScoreEntry>,
    /// Qualitative rating given by the database (e.g. GitHub's `database_specific.severity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Severity>,
    /// Affected packages.
    pub affected: Vec<AffectedPackage>,
    /// Source kind.
    pub source: SourceKind,
}

impl Advisory {
    /// The id and all aliases.
    pub fn all_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Adds the affected packages of `other` (same id) that this record lacks, and its aliases.
    pub fn merge_from(&mut self, other: Advisory) {
        for alias in other.aliases {
            if alias != self.id && !self.aliases.contains(&alias) {
                self.aliases.push(alias);
            }
        }
        for affected in other.affected {
            if !self.affected.contains(&affected) {
                self.affected.push(affected);
            }
        }
    }
}
