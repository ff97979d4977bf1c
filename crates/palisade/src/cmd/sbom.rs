//! `palisade sbom scan FILE`: read a CycloneDX or SPDX JSON SBOM back into packages and match
//! them against the vulnerability database (feature `vuln`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use palisade_model::Package;
use serde::Serialize;

use crate::exit;

/// Output format of `sbom scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Package table (and vulnerability table).
    Table,
    /// `{"source", "packages", "vulnerability_scan", "vulnerabilities"}` (packages are
    /// palisade-model `Package` objects).
    Json,
    /// Vulnerabilities as SARIF 2.1.0, located at the SBOM file and the package's purl.
    #[cfg(feature = "vuln")]
    Sarif,
}

/// `palisade sbom …`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List the packages of a CycloneDX (JSON) or SPDX 2.x (JSON) document and their
    /// vulnerabilities.
    #[command(
        after_help = "Vulnerabilities (feature vuln): the packages are matched against the offline database (--db FILE, else $PALISADE_DB, else $XDG_DATA_HOME/palisade/vuln.db); without a database the packages are listed with a warning.\n\nExamples:\n  palisade sbom scan app.cdx.json\n  palisade sbom scan app.spdx.json --format json\n  palisade sbom scan app.cdx.json --fail-on critical --fixable-only\n  palisade sbom scan app.cdx.json --format sarif > app.sarif\n\nExit status: 0 success; 1 --fail-on: a shown vulnerability at or above the severity, or a notorious one; 2 usage error; 3 the file could not be read or is not an SBOM, or --fail-on was given and no database could be used."
    )]
    Scan {
        /// The SBOM file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write to FILE instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Vulnerability matching options.
        #[cfg(feature = "vuln")]
        #[command(flatten)]
        vulns: crate::cmd::image::VulnArgs,
    },
}

/// The JSON document of `sbom scan`.
#[derive(Serialize)]
struct SbomJson<'a> {
    /// The SBOM file as given.
    source: String,
    /// Its packages.
    packages: &'a [Package],
    #[cfg(feature = "vuln")]
    #[serde(skip_serializing_if = "Option::is_none")]
    vulnerability_scan: Option<serde_json::Value>,
    #[cfg(feature = "vuln")]
    #[serde(skip_serializing_if = "Option::is_none")]
    vulnerabilities: Option<serde_json::Value>,
}

/// Runs `palisade sbom …`.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::Scan {
        file,
        format,
        output,
        #[cfg(feature = "vuln")]
        vulns,
    } = command;
    let bytes = match std::fs::read(&file).with_context(|| format!("reading {}", file.display())) {
        Ok(b) => b,
        Err(e) => {
            eprintln_safe!("palisade: error: {}", crate::output::error_chain(&e));
            return Ok(exit::code(exit::INPUT_ERRORS));
        }
    };
    let name = file.display().to_string();
    let sbom = match palisade_sbom::read(&bytes, &name) {
        Ok(s) => s,
        Err(e) => {
            eprintln_safe!("palisade: error: {e}");
            return Ok(exit::code(exit::INPUT_ERRORS));
        }
    };
    #[cfg(feature = "vuln")]
    let report = crate::cmd::image::vulnerability_report(&vulns, &sbom.packages);
    let text = match format {
        Format::Json => {
            #[allow(unused_mut)]
            let mut doc = SbomJson {
                source: name.clone(),
                packages: &sbom.packages,
                #[cfg(feature = "vuln")]
                vulnerability_scan: None,
                #[cfg(feature = "vuln")]
                vulnerabilities: None,
            };
            #[cfg(feature = "vuln")]
            if let Some(r) = &report {
                let (summary, list) = r.json_members()?;
                doc.vulnerability_scan = Some(summary);
                doc.vulnerabilities = Some(list);
            }
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        Format::Table => {
            #[allow(unused_mut)]
            let mut t = crate::render::image::package_table(&sbom.packages);
            #[cfg(feature = "vuln")]
            if let Some(r) = &report {
                t.push('\n');
                t.push_str(&crate::render::vuln::table(r));
            }
            t
        }
        #[cfg(feature = "vuln")]
        Format::Sarif => {
            let empty = crate::render::vuln::VulnReport::unavailable(
                None,
                "--no-vulns".into(),
                None,
                false,
            );
            let doc =
                crate::render::vuln::sarif(report.as_ref().unwrap_or(&empty), &name, Some(&name));
            serde_json::to_string_pretty(&doc)? + "\n"
        }
    };
    crate::output::emit_for(&text, output.as_ref(), format == Format::Table)?;
    #[cfg(feature = "vuln")]
    return Ok(crate::cmd::image::vulnerability_exit(report.as_ref()));
    #[cfg(not(feature = "vuln"))]
    Ok(ExitCode::SUCCESS)
}
