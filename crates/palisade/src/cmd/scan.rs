//! `palisade scan`: manifests → inventory → checks → report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use palisade_checks::{Catalog, Engine};
use palisade_config::Config;
use palisade_model::Severity;
use palisade_report::{Grouping, ScanReport, TableOptions};

use crate::exit;
use crate::output::{self, ColorChoice};

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable table.
    Table,
    /// JSON (schema palisade.dev/scan-report/v1, see docs/output.md).
    Json,
    /// SARIF 2.1.0 for code-scanning tools.
    Sarif,
    /// JUnit XML for CI test reports.
    Junit,
}

/// `--group-by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    /// Most severe first.
    Severity,
    /// One section per object.
    Object,
}

/// Arguments of `palisade scan`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  palisade scan examples/demo-cluster\n  palisade scan k8s/ --fail-on high --format sarif --output palisade.sarif\n  helm template ./chart | palisade scan - --format json\n  palisade scan manifests/ --config palisade.yaml --group-by object"
)]
pub struct Args {
    /// Files or directories to scan (.yaml, .yml, .json; directories recursively); `-` reads stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with status 1 when a finding has this severity or higher.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Report only findings of this severity or higher.
    #[arg(long, value_name = "SEVERITY")]
    pub min_severity: Option<Severity>,
    /// Policy configuration (check selection, severities, exceptions).
    #[arg(long, short = 'c', value_name = "FILE", env = "PALISADE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Run only these checks (IDs or names; repeatable or comma-separated).
    #[arg(long = "check", value_delimiter = ',', value_name = "ID")]
    pub only: Vec<String>,
    /// Skip these checks (IDs or names; repeatable or comma-separated).
    #[arg(long = "skip", value_delimiter = ',', value_name = "ID")]
    pub skip: Vec<String>,
    /// Report only findings that are not in this earlier JSON report (`--format json`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Group the table by severity or by object.
    #[arg(long, value_enum, default_value_t = GroupBy::Severity)]
    pub group_by: GroupBy,
    /// Colour in the table output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Date used for exception expiry (YYYY-MM-DD; default: today, UTC).
    #[arg(long, value_name = "DATE", hide = true)]
    pub today: Option<String>,
}

/// Runs `palisade scan`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin();
    let config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config {}", path.display()))?;
            Config::from_yaml(&text, &catalog)
                .with_context(|| format!("config {}", path.display()))?
        }
        None => Config::default(),
    };
    let today = args.today.clone().unwrap_or_else(crate::cmd::today_utc);
    let mut options = config.engine_options(Some(today));
    for id in args.only.iter().chain(&args.skip) {
        if catalog.get(id).is_none() && !config.custom_checks.iter().any(|c| &c.id == id) {
            anyhow::bail!("unknown check {id:?} (see `palisade checks list`)");
        }
    }
    options.only.extend(args.only.iter().cloned());
    options.skip.extend(args.skip.iter().cloned());

    let ingested = crate::input::ingest(&args.paths)?;
    let engine = Engine::new(catalog, options);
    let mut outcome = engine.run(&ingested.inventory);
    for u in &outcome.undecided {
        eprintln!("palisade: warning: custom check could not decide: {u}");
    }
    if let Some(min) = args.min_severity {
        outcome.findings.retain(|f| f.severity >= min);
    }
    if let Some(path) = &args.baseline {
        let known = read_baseline(path)?;
        outcome
            .findings
            .retain(|f| !known.contains(&f.fingerprint()));
    }

    let report = ScanReport {
        findings: &outcome.findings,
        diagnostics: &ingested.diagnostics,
        suppressed: &outcome.suppressed,
        expired_exceptions: &outcome.expired_exceptions,
        catalog: engine.catalog(),
        objects: ingested.inventory.object_count(),
        files: ingested.files,
        version: env!("CARGO_PKG_VERSION"),
    };
    match args.format {
        Format::Table => {
            let text = palisade_report::to_table(
                &report,
                &TableOptions {
                    color: output::use_color(args.color, args.output.is_some()),
                    width: if args.output.is_some() {
                        None
                    } else {
                        output::terminal_width()
                    },
                    grouping: match args.group_by {
                        GroupBy::Severity => Grouping::Severity,
                        GroupBy::Object => Grouping::Object,
                    },
                },
            );
            output::emit(&text, args.output.as_ref())?;
        }
        Format::Json => output::emit_with(args.output.as_ref(), |w| {
            palisade_report::write_json(&report, w)
        })?,
        Format::Sarif => output::emit_with(args.output.as_ref(), |w| {
            palisade_report::write_sarif(&report, w)
        })?,
        Format::Junit => output::emit(&palisade_report::to_junit(&report), args.output.as_ref())?,
    }
    if args.format != Format::Table && !ingested.diagnostics.is_empty() {
        for d in &ingested.diagnostics {
            eprintln!("{d}");
        }
    }

    if ingested.has_errors() {
        return Ok(exit::code(exit::INPUT_ERRORS));
    }
    if let Some(threshold) = args.fail_on
        && outcome.findings.iter().any(|f| f.severity >= threshold)
    {
        return Ok(exit::code(exit::FINDINGS));
    }
    Ok(ExitCode::SUCCESS)
}

/// Fingerprints of the findings in an earlier JSON report.
fn read_baseline(path: &std::path::Path) -> anyhow::Result<std::collections::HashSet<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading baseline {}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("baseline {} is not JSON", path.display()))?;
    if doc.get("schema").and_then(|s| s.as_str()) != Some(palisade_report::JSON_SCHEMA_ID) {
        anyhow::bail!(
            "baseline {} is not a palisade JSON report (schema {})",
            path.display(),
            palisade_report::JSON_SCHEMA_ID
        );
    }
    let findings = doc
        .get("findings")
        .and_then(|f| f.as_array())
        .with_context(|| format!("baseline {} has no findings array", path.display()))?;
    Ok(findings
        .iter()
        .filter_map(|f| {
            f.get("fingerprint")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect())
}
