//! Vulnerability records and matching for Palisade.
//!
//! - [`record`]: the normalized advisory model (an OSV subset) every source converts to.
//! - [`osv`], [`alpine`], [`debian`]: parsers from bytes (OSV JSON/YAML, Alpine secdb YAML,
//!   Debian security tracker DSA/DLA lists).
//! - [`range`]: the OSV evaluation algorithm over ecosystem version orderings
//!   (`palisade-version`).
//! - [`matching`]: packages → [`VulnMatch`]es (source packages for distributions, alias
//!   merging, severity, fixed version, notorious flag).
//! - [`cvss`]: CVSS v3.x and v4.0 scores computed from vectors.
//! - [`policy`]: `--fail-on`, `--fixable-only`, fixable critical/high blocking, notorious CVEs.
//! - [`report`]: the vulnerability report of a package list (shown matches, order, counts,
//!   `--fail-on` verdict) that the command line's sinks format.
//! - [`facts`]: matches → the model's `VulnerabilityFacts` for scan/admission policy.
//!
//! Pure: no files, network, clock or environment access. Storage lives in `palisade-vulndb`.

pub mod alpine;
pub mod cvss;
pub mod debian;
pub mod facts;
pub mod matching;
pub mod notorious;
pub mod osv;
pub mod policy;
pub mod range;
pub mod record;
pub mod release;
pub mod report;
pub mod suppress;
#[cfg(test)]
mod test_support;

pub use facts::image_facts;
pub use matching::{
    CandidateSet, MatchStats, PackageKey, UnparsedVersion, VulnMatch, match_packages,
};
pub use policy::{PolicyVerdict, VulnPolicy};
pub use record::{Advisory, SourceKind};
pub use report::{ReportedVuln, ScanStatus, VulnReport};
pub use suppress::{Suppression, Suppressions};

/// A record that could not be parsed; names the file (or other origin) and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {reason}")]
pub struct ParseError {
    /// File name or other origin of the bytes.
    pub origin: String,
    /// What is wrong.
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(origin: &str, reason: impl Into<String>) -> Self {
        ParseError {
            origin: origin.to_string(),
            reason: reason.into(),
        }
    }
}

/// The format of a vulnerability data file, recognized from its name and content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// One OSV record in JSON.
    OsvJson,
    /// One OSV record in YAML.
    OsvYaml,
    /// An Alpine secdb YAML file.
    AlpineSecdb,
    /// A Debian security tracker DSA/DLA list.
    DebianTrackerList,
}

/// Recognizes the format of a data file from its file name and content, if it is one.
pub fn detect_format(file_name: &str, bytes: &[u8]) -> Option<DataFormat> {
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Some(DataFormat::OsvJson)
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        if alpine::looks_like_secdb(bytes) {
            Some(DataFormat::AlpineSecdb)
        } else {
            Some(DataFormat::OsvYaml)
        }
    } else if debian::looks_like_tracker_list(bytes) {
        Some(DataFormat::DebianTrackerList)
    } else {
        None
    }
}

/// Parses a data file of a known format into advisories.
pub fn parse_file(
    format: DataFormat,
    bytes: &[u8],
    origin: &str,
) -> Result<Vec<Advisory>, ParseError> {
    match format {
        DataFormat::OsvJson => osv::parse_json(bytes, origin).map(|a| vec![a]),
        DataFormat::OsvYaml => osv::parse_yaml(bytes, origin).map(|a| vec![a]),
        DataFormat::AlpineSecdb => alpine::parse_secdb(bytes, origin),
        DataFormat::DebianTrackerList => debian::parse_list(bytes, origin),
    }
}
