//! `palisade sbom scan FILE`: read a CycloneDX or SPDX JSON SBOM back into packages and match
//! them against the vulnerability database (feature `vuln`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::exit;
use crate::render::sbom::{Format, SbomReport};

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

/// Runs `palisade sbom …`.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::Scan {
        file,
        format,
        output,
        #[cfg(feature = "vuln")]
        vulns,
    } = command;
    #[cfg(feature = "vuln")]
    let suppressions = crate::cmd::image::suppressions(&vulns)?;
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
    let vulns = crate::cmd::image::vulnerability_report(&vulns, &suppressions, &sbom.packages);
    let report = SbomReport {
        source: &name,
        packages: &sbom.packages,
        #[cfg(feature = "vuln")]
        vulns: vulns.as_ref(),
    };
    let text = crate::render::sbom::render(&report, format)?;
    crate::output::emit_for(&text, output.as_ref(), format.for_people())?;
    #[cfg(feature = "vuln")]
    return Ok(crate::cmd::image::vulnerability_exit(vulns.as_ref()));
    #[cfg(not(feature = "vuln"))]
    Ok(ExitCode::SUCCESS)
}
