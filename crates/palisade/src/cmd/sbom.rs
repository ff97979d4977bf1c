//! `palisade sbom scan FILE`: read a CycloneDX or SPDX JSON SBOM back into packages.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;

use crate::exit;

/// Output format of `sbom scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Package table.
    Table,
    /// Packages as JSON (palisade-model `Package` objects).
    Json,
}

/// `palisade sbom …`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List the packages of a CycloneDX (JSON) or SPDX 2.x (JSON) document.
    #[command(
        after_help = "Examples:\n  palisade sbom scan app.cdx.json\n  palisade sbom scan app.spdx.json --format json\n\nExit status: 0 success; 3 the file could not be read or is not an SBOM."
    )]
    Scan {
        /// The SBOM file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// Runs `palisade sbom …`.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::Scan { file, format } = command;
    let bytes = match std::fs::read(&file).with_context(|| format!("reading {}", file.display())) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("palisade: error: {e:#}");
            return Ok(exit::code(exit::INPUT_ERRORS));
        }
    };
    let sbom = match palisade_sbom::read(&bytes, &file.display().to_string()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("palisade: error: {e}");
            return Ok(exit::code(exit::INPUT_ERRORS));
        }
    };
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&sbom.packages)? + "\n",
        Format::Table => crate::render::image::package_table(&sbom.packages),
    };
    crate::output::emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}
