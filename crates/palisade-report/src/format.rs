//! The scan report's output formats and its one entry point, [`write`].

use std::io::{self, Write};

use crate::{ScanReport, TableOptions};

/// Output formats of the scan report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// Human-readable table.
    #[cfg_attr(feature = "clap", value(alias = "text", alias = "txt"))]
    Table,
    /// JSON (schema palisade.dev/scan-report/v1, see docs/output.md).
    Json,
    /// SARIF 2.1.0 for code-scanning tools.
    Sarif,
    /// JUnit XML for CI test reports.
    Junit,
}

/// Writes the report in `format`; `table` is used by [`Format::Table`] only.
pub fn write(
    r: &ScanReport<'_>,
    format: Format,
    table: &TableOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => crate::write_table(r, table, out),
        Format::Json => crate::write_json(r, out),
        Format::Sarif => crate::write_sarif(r, out),
        Format::Junit => crate::write_junit(r, out),
    }
}
