//! Sinks for scan results. Analyzers return plain values; only this crate knows the output
//! formats: a terminal table, JSON (a documented, versioned schema), SARIF 2.1.0 and JUnit XML.
//!
//! - [`write`]: the scan report in one [`Format`].
//! - [`sarif`]: the typed SARIF 2.1.0 model, its URI encoder and log writer, shared by every
//!   SARIF output of the workspace (the command line's vulnerability reports use it too).
//! - [`read_baseline`]: the findings of an earlier JSON report, beside the schema it reads.
//! - [`snapshot`]: the scan as a central snapshot (`palisade_api::Snapshot`) for
//!   `palisade scan --push`.
//! - [`pending`]: a snapshot whose finding records are made only as they are written (the
//!   sensor's), and [`delta`]: what changed since the state central acknowledged.

mod baseline;
pub mod delta;
mod escaped;
mod format;
mod grid;
mod json;
mod junit;
pub mod pending;
mod pretty;
pub mod sarif;
mod sarif_scan;
pub mod snapshot;
mod table;

use std::collections::BTreeMap;

use palisade_checks::{Catalog, Exception, Suppressed};
use palisade_model::{Diagnostic, Finding, Severity};

pub use baseline::{BaselineError, read_baseline};
pub use format::{Format, write};
pub use json::{JSON_SCHEMA_ID, to_json, write_json};
pub use junit::{to_junit, write_junit};
pub use sarif_scan::{to_sarif, write_sarif};
pub use table::{Grouping, TableOptions, summary_line, to_table, write_table};

/// Everything a scan report shows.
#[derive(Debug, Clone)]
pub struct ScanReport<'a> {
    /// Findings, in the order to show them.
    pub findings: &'a [Finding],
    /// Inputs that could not be read.
    pub diagnostics: &'a [Diagnostic],
    /// Findings suppressed by exceptions (kept for audit).
    pub suppressed: &'a [Suppressed],
    /// Exceptions past their expiry date.
    pub expired_exceptions: &'a [Exception],
    /// The catalog the findings came from (rule metadata for SARIF and JUnit).
    pub catalog: &'a Catalog,
    /// Number of objects scanned.
    pub objects: usize,
    /// Kinds no built-in check analyses, with object counts (shown in the summary).
    pub unanalysed_kinds: &'a [(String, usize)],
    /// Number of files read.
    pub files: usize,
    /// Tool version.
    pub version: &'a str,
    /// The riskiest workloads (`palisade_risk::top_risks` of the analysis' ranking); shown
    /// before the findings.
    pub top_risks: Option<&'a [palisade_risk::TopRisk]>,
    /// What registry access learned about each image (digests, signatures, vulnerabilities,
    /// errors), when it was enabled.
    pub images: Option<&'a palisade_model::RegistryFactsTable>,
}

impl ScanReport<'_> {
    /// Finding counts per severity (every severity present, zero included).
    pub fn counts(&self) -> BTreeMap<Severity, usize> {
        let mut m: BTreeMap<Severity, usize> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        for f in self.findings {
            *m.entry(f.severity).or_default() += 1;
        }
        m
    }
}
