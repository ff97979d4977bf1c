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
    after_help = "Examples:\n  palisade scan examples/demo-cluster\n  palisade scan k8s/ --fail-on high --format sarif --output palisade.sarif\n  helm template ./chart | palisade scan - --format json\n  palisade scan manifests/ --config palisade.yaml --group-by object\n\nThe table wraps long cells to the terminal's width; off a terminal (CI logs, pipes, --output) to $COLUMNS, or 160 columns when it is unset. Colour only on a terminal, never with NO_COLOR."
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
    pub today: Option<palisade_model::time::Date>,
    /// Reach image registries: resolve each image's digest, verify the signatures the config's
    /// `images.signatures` require, and match image packages against the vulnerability
    /// database (when one exists). Off by default: a scan of manifests stays offline.
    #[cfg(feature = "registry-facts")]
    #[arg(long)]
    pub registry: bool,
    /// With --registry: a registry (`host[:port]`) that may be reached over plain HTTP
    /// (repeatable; loopback registries always may).
    #[cfg(feature = "registry-facts")]
    #[arg(long = "insecure-registry", value_name = "HOST", requires = "registry")]
    pub insecure_registries: Vec<String>,
    /// With --registry: registry username (password from $PALISADE_REGISTRY_PASSWORD; default:
    /// the docker config's credentials).
    #[cfg(feature = "registry-facts")]
    #[arg(long, value_name = "USER", requires = "registry")]
    pub username: Option<String>,
    /// With --registry: the vulnerability database (default: as `palisade db`).
    #[cfg(feature = "registry-facts")]
    #[arg(long, value_name = "FILE", env = "PALISADE_DB", requires = "registry")]
    pub db: Option<PathBuf>,
    /// Show the N riskiest workloads before the findings (0: none).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub top_risks: usize,
    /// Print how long each phase took (ingest, checks, report) to stderr.
    #[arg(long, hide = true)]
    pub timings: bool,
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
    let mut options = config.engine_options(Some(crate::cmd::today_or(args.today)));
    for id in args.only.iter().chain(&args.skip) {
        if catalog.get(id).is_none() && !config.custom_checks.iter().any(|c| &c.id == id) {
            anyhow::bail!("unknown check {id:?} (see `palisade checks list`)");
        }
    }
    options.only.extend(args.only.iter().cloned());
    options.skip.extend(args.skip.iter().cloned());

    let clock = std::time::Instant::now();
    // Raw objects are only read by custom (CEL) checks; without them, drop them early.
    let limits = palisade_ingest::Limits {
        keep_raw: !options.custom.is_empty(),
        ..Default::default()
    };
    let ingested = crate::input::ingest_with(&args.paths, limits)?;
    let t_ingest = clock.elapsed();
    #[cfg(feature = "registry-facts")]
    let image_facts = if args.registry {
        let facts = std::sync::Arc::new(collect_image_facts(&args, &config, &ingested.inventory)?);
        options.images.facts = facts.clone();
        Some(facts)
    } else {
        None
    };
    #[cfg(not(feature = "registry-facts"))]
    let image_facts: Option<std::sync::Arc<palisade_model::ImageFactsTable>> = None;
    let engine = Engine::new(catalog, options);
    // The risk ranking's own analyses (RBAC, network reachability) do not depend on the
    // findings: they share the cores with the checks instead of running after them.
    let (mut outcome, risk_inputs) = rayon::join(
        || engine.run(&ingested.inventory),
        || risk_inputs(&ingested.inventory, args.top_risks),
    );
    let t_checks = clock.elapsed();
    for u in &outcome.undecided {
        eprintln_safe!("palisade: warning: custom check could not decide: {u}");
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

    let ranked = top_risks(
        &ingested.inventory,
        &outcome.findings,
        risk_inputs,
        args.top_risks,
    );
    let t_risk = clock.elapsed();
    let report = ScanReport {
        findings: &outcome.findings,
        diagnostics: &ingested.diagnostics,
        suppressed: &outcome.suppressed,
        expired_exceptions: &outcome.expired_exceptions,
        catalog: engine.catalog(),
        objects: ingested.inventory.object_count(),
        files: ingested.files,
        version: env!("CARGO_PKG_VERSION"),
        top_risks: ranked.as_ref().map(|r| r.json.clone()),
        images: image_facts.as_deref(),
    };
    match args.format {
        Format::Table => {
            let opts = TableOptions {
                color: output::use_color(args.color, args.output.is_some()),
                width: Some(output::table_width()),
                grouping: match args.group_by {
                    GroupBy::Severity => Grouping::Severity,
                    GroupBy::Object => Grouping::Object,
                },
            };
            output::emit_with(args.output.as_ref(), |w| {
                if let Some(r) = ranked.as_ref().filter(|r| !r.table.is_empty()) {
                    // Workload names come from the input: escaped like the findings table.
                    let table = palisade_model::terminal::escape_keep_lines(&r.table);
                    writeln!(w, "{table}")?;
                }
                palisade_report::write_table(&report, &opts, w)
            })?;
        }
        Format::Json => output::emit_with(args.output.as_ref(), |w| {
            palisade_report::write_json(&report, w)
        })?,
        Format::Sarif => output::emit_with(args.output.as_ref(), |w| {
            palisade_report::write_sarif(&report, w)
        })?,
        Format::Junit => output::emit_with(args.output.as_ref(), |w| {
            palisade_report::write_junit(&report, w)
        })?,
    }
    if args.timings {
        let t_report = clock.elapsed();
        eprintln_safe!(
            "timings: ingest {:.3} s, checks {:.3} s, risk {:.3} s, output {:.3} s ({} objects, {} findings)",
            t_ingest.as_secs_f64(),
            (t_checks - t_ingest).as_secs_f64(),
            (t_risk - t_checks).as_secs_f64(),
            (t_report - t_risk).as_secs_f64(),
            ingested.inventory.object_count(),
            outcome.findings.len()
        );
    }
    if args.format != Format::Table && !ingested.diagnostics.is_empty() {
        for d in &ingested.diagnostics {
            eprintln_safe!("{d}");
        }
    }

    let code = if ingested.has_errors() {
        exit::code(exit::INPUT_ERRORS)
    } else if let Some(threshold) = args.fail_on
        && outcome.findings.iter().any(|f| f.severity >= threshold)
    {
        exit::code(exit::FINDINGS)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends right after this returns: freeing a large inventory and hundreds of
    // thousands of findings one allocation at a time would only delay the exit.
    std::mem::forget(ingested);
    std::mem::forget(outcome);
    Ok(code)
}

/// Image facts for every image of the inventory (registry access on). Problems reaching a
/// registry are warnings: the facts say what could not be learned, and the checks that need
/// them stay silent for that image.
#[cfg(feature = "registry-facts")]
fn collect_image_facts(
    args: &Args,
    config: &Config,
    inv: &palisade_model::Inventory,
) -> anyhow::Result<palisade_model::ImageFactsTable> {
    let config_dir = args
        .config
        .as_deref()
        .and_then(std::path::Path::parent)
        .unwrap_or(std::path::Path::new("."));
    let db = match palisade_vulndb::resolve_db_path(args.db.as_deref()) {
        Ok(path) => match palisade_vulndb::VulnDb::open_existing(&path) {
            Ok(db) => Some(db),
            Err(e) => {
                eprintln_safe!(
                    "palisade: warning: no vulnerability matching ({e}); run `palisade db import` first"
                );
                None
            }
        },
        Err(e) => {
            eprintln_safe!("palisade: warning: no vulnerability matching ({e})");
            None
        }
    };
    let access = crate::imagefacts::RegistryAccess {
        insecure_registries: args.insecure_registries.clone(),
        username: args.username.clone(),
    };
    let collector = crate::imagefacts::Collector::new(&config.images, config_dir, &access, db)?;
    let table = collector.collect(&crate::imagefacts::image_references(inv));
    for (image, facts) in &table {
        for e in &facts.errors {
            eprintln_safe!("palisade: warning: image {image}: {e}");
        }
    }
    Ok(table)
}

/// The riskiest workloads in the report's two forms.
struct TopRisks {
    table: String,
    json: serde_json::Value,
}

#[cfg(feature = "visibility")]
use crate::cmd::risk::RiskInputs;

#[cfg(feature = "visibility")]
fn risk_inputs(inv: &palisade_model::Inventory, limit: usize) -> Option<RiskInputs> {
    (limit > 0).then(|| RiskInputs::derive(inv))
}

/// Ranks workloads (findings, privileges, exposure, RBAC power, network reachability) and keeps
/// the `limit` riskiest; `None` when disabled or built without the visibility feature.
#[cfg(feature = "visibility")]
fn top_risks(
    inv: &palisade_model::Inventory,
    findings: &[palisade_model::Finding],
    inputs: Option<RiskInputs>,
    limit: usize,
) -> Option<TopRisks> {
    let inputs = inputs?;
    let ranked = palisade_risk::assess(&palisade_risk::RiskContext {
        inventory: inv,
        findings,
        rbac: &inputs.rbac,
        facts: &inputs.facts,
    });
    Some(TopRisks {
        table: crate::render::risk::top_risks_section(&ranked, limit),
        json: serde_json::to_value(crate::render::risk::top_risks(&ranked, limit)).ok()?,
    })
}

#[cfg(not(feature = "visibility"))]
type RiskInputs = ();

#[cfg(not(feature = "visibility"))]
fn risk_inputs(_inv: &palisade_model::Inventory, _limit: usize) -> Option<RiskInputs> {
    None
}

#[cfg(not(feature = "visibility"))]
fn top_risks(
    _inv: &palisade_model::Inventory,
    _findings: &[palisade_model::Finding],
    _inputs: Option<RiskInputs>,
    _limit: usize,
) -> Option<TopRisks> {
    None
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
