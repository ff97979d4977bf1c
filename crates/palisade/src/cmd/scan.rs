//! `palisade scan`: manifests → inventory (+ registry facts) → the analysis pipeline
//! (palisade-analysis: checks, risk ranking) → report.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::ValueEnum;
use palisade_analysis::{Analysis, Filters, Inputs, Options, Phase, RiskOptions, analyze_observed};
use palisade_checks::Catalog;
#[cfg(feature = "registry-facts")]
use palisade_config::Config;
use palisade_model::Severity;
use palisade_report::{Format, Grouping, ScanReport, TableOptions};

use crate::config_file::load_config;
use crate::exit;
use crate::output::{self, ColorChoice};

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
#[cfg_attr(
    feature = "registry-facts",
    command(
        mut_arg("insecure_registries", |a| a.requires("registry").help(
            "With --registry: a registry (`host[:port]`) that may be reached over plain HTTP (repeatable; loopback registries always may)"
        )),
        mut_arg("username", |a| a.requires("registry").help(
            "With --registry: registry username (password from $PALISADE_REGISTRY_PASSWORD; default: the docker config's credentials)"
        ))
    )
)]
#[command(
    after_help = "Examples:\n  palisade scan examples/demo-cluster\n  palisade scan k8s/ --fail-on high --format sarif --output palisade.sarif\n  helm template ./chart | palisade scan - --format json\n  palisade scan manifests/ --config palisade.yaml --group-by object\n  palisade scan --cluster --context prod --namespace shop --format sarif -o prod.sarif\n\nThe table wraps long cells to the terminal's width; off a terminal (CI logs, pipes, --output) to $COLUMNS, or 160 columns when it is unset. Colour only on a terminal, never with NO_COLOR."
)]
pub struct Args {
    /// Files or directories to scan (.yaml, .yml, .json; directories recursively); `-` reads stdin.
    #[arg(required_unless_present = "cluster", value_name = "PATH")]
    pub paths: Vec<String>,
    /// A live cluster instead of paths.
    #[command(flatten)]
    pub cluster: crate::cluster_args::ClusterArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table, env = "PALISADE_FORMAT")]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with status 1 when a finding has this severity or higher.
    #[arg(long, value_name = "SEVERITY", env = "PALISADE_FAIL_ON")]
    pub fail_on: Option<Severity>,
    /// Report only findings of this severity or higher.
    #[arg(long, value_name = "SEVERITY", env = "PALISADE_MIN_SEVERITY")]
    pub min_severity: Option<Severity>,
    /// Policy configuration (check selection, severities, exceptions) [default: ./palisade.yaml
    /// or ./.palisade.yaml when present].
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
    /// With --registry: plain-HTTP registries and credentials (help texts set on `Args`).
    #[cfg(feature = "registry-facts")]
    #[command(flatten)]
    pub registry_access: crate::registry_args::RegistryArgs,
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
    /// Also send what the scan produced to central at URL (`https://host:port`) as a snapshot
    /// of --cluster-name; the report is printed as usual. A failed push exits non-zero.
    #[cfg(feature = "central")]
    #[arg(long, value_name = "URL", requires = "cluster_name")]
    pub push: Option<String>,
    /// With --push: the name of the cluster the manifests (or the live cluster read with
    /// --cluster) describe, as central knows it.
    #[cfg(feature = "central")]
    #[arg(long, value_name = "NAME", requires = "push")]
    pub cluster_name: Option<String>,
    /// With --push or a --runtime-policy URL: the token and the CA to trust.
    #[cfg(feature = "central")]
    #[command(flatten)]
    pub central: crate::central_client::ConnectArgs,
    /// What runtime agents observed, for the runtime checks (PAL-097 images that misbehaved,
    /// PAL-098 commands outside locked process allowlists): a RuntimePolicy file (`palisade
    /// agent export-policy`) or central's `https://HOST:PORT/api/v1/runtime-policy?cluster=NAME`
    /// [default: `runtime_policy:` of the configuration].
    #[arg(long, value_name = "FILE|URL")]
    pub runtime_policy: Option<String>,
}

impl Args {
    /// Whether the scan is pushed to central (which needs the raw objects).
    fn pushes(&self) -> bool {
        #[cfg(feature = "central")]
        return self.push.is_some();
        #[cfg(not(feature = "central"))]
        return false;
    }
}

/// Runs `palisade scan`: ingest and registry facts at the edge, the analysis pipeline
/// (palisade-analysis), then the report.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin();
    let config_path = crate::config_file::discover(args.config.as_deref());
    let config = load_config(config_path.as_deref(), &catalog)?;
    let mut engine = config.engine_options(Some(crate::cmd::today_or(args.today)));
    for id in args.only.iter().chain(&args.skip) {
        if catalog.get(id).is_none() && !config.custom_checks.iter().any(|c| &c.id == id) {
            anyhow::bail!("unknown check {id:?} (see `palisade checks list`)");
        }
    }
    engine.only.extend(args.only.iter().cloned());
    engine.skip.extend(args.skip.iter().cloned());

    let clock = std::time::Instant::now();
    let scanned_at = palisade_model::time::Clock::now(&palisade_model::time::SystemClock);
    // Raw objects are only read by custom (CEL) checks and sent by --push; otherwise drop them
    // early.
    let limits = palisade_ingest::Limits {
        keep_raw: !engine.custom.is_empty() || args.pushes(),
        ..Default::default()
    };
    let ingested = crate::input::read_inputs(&args.paths, &args.cluster, limits)?;
    let t_ingest = clock.elapsed();
    #[cfg(feature = "registry-facts")]
    let image_facts = if args.registry {
        Some(Arc::new(collect_image_facts(
            &args,
            &config,
            &ingested.inventory,
        )?))
    } else {
        None
    };
    #[cfg(not(feature = "registry-facts"))]
    let image_facts: Option<Arc<palisade_model::RegistryFactsTable>> = None;
    let options = Options {
        catalog,
        engine,
        filters: Filters {
            min_severity: args.min_severity,
            baseline: args.baseline.as_deref().map(read_baseline).transpose()?,
        },
        // The ranking is part of the `visibility` domain.
        risk: (cfg!(feature = "visibility") && args.top_risks > 0).then_some(RiskOptions {
            top: args.top_risks,
            network: cfg!(feature = "netpol"),
        }),
    };
    #[cfg(feature = "central")]
    let connect = Some(&args.central);
    #[cfg(not(feature = "central"))]
    let connect = None;
    let runtime_policy =
        crate::runtime_policy::load(args.runtime_policy.as_deref(), &config, connect)?;
    let inputs = Inputs {
        inventory: &ingested.inventory,
        diagnostics: &ingested.diagnostics,
        image_facts: image_facts.as_ref(),
        runtime_policy: runtime_policy.as_ref(),
    };
    let (mut t_checks, mut t_risk) = (t_ingest, t_ingest);
    let analysis = analyze_observed(&inputs, &options, &mut |phase| match phase {
        Phase::Checks => t_checks = clock.elapsed(),
        Phase::Risk => t_risk = clock.elapsed(),
    });
    for u in &analysis.undecided {
        eprintln_safe!("palisade: warning: custom check could not decide: {u}");
    }
    // NetworkPolicy and Namespace problems (invalid selectors, repeated names) are shown with
    // the input diagnostics; they do not make the input unreadable (exit status 3).
    #[cfg(feature = "netpol")]
    let diagnostics = {
        let mut all = ingested.diagnostics.clone();
        all.extend(palisade_netpol::policy_diagnostics(&ingested.inventory));
        all
    };
    #[cfg(not(feature = "netpol"))]
    let diagnostics = ingested.diagnostics.clone();
    let report = scan_report(
        &analysis,
        &diagnostics,
        &options.catalog,
        &ingested,
        image_facts.as_deref(),
    );
    write_report(&args, &report, &top_risks_table(&analysis))?;
    #[cfg(feature = "central")]
    if let (Some(url), Some(cluster)) = (&args.push, &args.cluster_name) {
        let input = palisade_report::snapshot::SnapshotInput {
            id: format!("scan-{}-{}", scanned_at.unix_ms(), std::process::id()),
            scanned_at,
            source: "manifests",
            inventory: &ingested.inventory,
            ranking: analysis.ranking.as_deref(),
        };
        push(url, cluster, &args.central, &report, &input, args.timings)?;
    }
    #[cfg(not(feature = "central"))]
    let _ = scanned_at;
    if args.timings {
        let t_report = clock.elapsed();
        eprintln_safe!(
            "timings: ingest {:.3} s, checks {:.3} s, risk {:.3} s, output {:.3} s ({} objects, {} findings)",
            t_ingest.as_secs_f64(),
            (t_checks - t_ingest).as_secs_f64(),
            (t_risk - t_checks).as_secs_f64(),
            (t_report - t_risk).as_secs_f64(),
            ingested.inventory.object_count(),
            analysis.findings.len()
        );
    }
    if args.format != Format::Table {
        crate::input::print_diagnostics(&diagnostics);
    }

    let code = if analysis.input_errors {
        exit::code(exit::INPUT_ERRORS)
    } else if let Some(threshold) = args.fail_on
        && analysis.has_finding_at_or_above(threshold)
    {
        exit::code(exit::FINDINGS)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends right after this returns: freeing a large inventory and hundreds of
    // thousands of findings one allocation at a time would only delay the exit.
    std::mem::forget(ingested);
    std::mem::forget(analysis);
    Ok(code)
}

/// The report of an analysis of `ingested` (`diagnostics`: ingest's and the policies'), for the
/// sinks and for central's snapshot.
pub fn scan_report<'a>(
    analysis: &'a Analysis,
    diagnostics: &'a [palisade_model::Diagnostic],
    catalog: &'a Catalog,
    ingested: &palisade_ingest::Ingested,
    images: Option<&'a palisade_model::RegistryFactsTable>,
) -> ScanReport<'a> {
    ScanReport {
        findings: &analysis.findings,
        diagnostics,
        suppressed: &analysis.suppressed,
        expired_exceptions: &analysis.expired_exceptions,
        catalog,
        objects: ingested.inventory.object_count(),
        unanalysed_kinds: &analysis.unanalysed_kinds,
        files: ingested.files,
        version: env!("CARGO_PKG_VERSION"),
        top_risks: analysis.top_risks.as_deref(),
        images,
    }
}

/// Sends the scan to central as a snapshot of `cluster`. With `timings`, prints how long
/// building the snapshot took and how long the push took from the first byte sent (the
/// connection included) until central acknowledged it.
#[cfg(feature = "central")]
fn push(
    url: &str,
    cluster: &str,
    connect: &crate::central_client::ConnectArgs,
    report: &ScanReport<'_>,
    input: &palisade_report::snapshot::SnapshotInput<'_>,
    timings: bool,
) -> anyhow::Result<()> {
    let clock = std::time::Instant::now();
    let snapshot = palisade_report::snapshot::snapshot(report, input);
    let built = clock.elapsed();
    let client =
        crate::central_client::Client::new(url, connect).context("pushing the scan to central")?;
    let path = crate::central_client::cluster_path(cluster, "snapshots");
    let sending = std::time::Instant::now();
    let ack: palisade_api::IngestAck = client
        .post_snapshot(&path, &snapshot)
        .context("pushing the scan to central")?;
    if timings {
        eprintln_safe!(
            "timings: push: snapshot built in {:.3} s, sent until acknowledged in {:.3} s",
            built.as_secs_f64(),
            sending.elapsed().as_secs_f64()
        );
    }
    eprintln_safe!(
        "palisade: pushed snapshot {} of cluster {cluster} to {url}: {} records stored, {} already there",
        snapshot.id,
        ack.accepted,
        ack.duplicates
    );
    Ok(())
}

/// Writes the report in the chosen format; the table starts with the top risks (`top_table`,
/// empty for none).
fn write_report(args: &Args, report: &ScanReport<'_>, top_table: &str) -> anyhow::Result<()> {
    let opts = TableOptions {
        color: output::use_color(args.color, args.output.is_some()),
        width: Some(output::table_width()),
        grouping: match args.group_by {
            GroupBy::Severity => Grouping::Severity,
            GroupBy::Object => Grouping::Object,
        },
        notes: crate::input::notes_listed(),
    };
    output::emit_with(args.output.as_ref(), |w| {
        if args.format == Format::Table && !top_table.is_empty() {
            // Workload names come from the input: escaped like the findings table.
            let table = palisade_model::terminal::escape_keep_lines(top_table);
            writeln!(w, "{table}")?;
        }
        palisade_report::write(report, args.format, &opts, w)
    })
}

/// The "Top risks" table of the analysis (empty without top risks).
#[cfg(feature = "visibility")]
fn top_risks_table(analysis: &Analysis) -> String {
    match (&analysis.top_risks, &analysis.ranking) {
        (Some(top), Some(ranked)) => crate::render::risk::top_risks_section(top, ranked.len()),
        _ => String::new(),
    }
}

#[cfg(not(feature = "visibility"))]
fn top_risks_table(_analysis: &Analysis) -> String {
    String::new()
}

/// Image facts for every image of the inventory (registry access on). Problems reaching a
/// registry are warnings: the facts say what could not be learned, and the checks that need
/// them stay silent for that image.
#[cfg(feature = "registry-facts")]
fn collect_image_facts(
    args: &Args,
    config: &Config,
    inv: &palisade_model::Inventory,
) -> anyhow::Result<palisade_model::RegistryFactsTable> {
    let config_dir = args
        .config
        .as_deref()
        .and_then(std::path::Path::parent)
        .unwrap_or(std::path::Path::new("."));
    let db = match crate::vuln_db::open_for_matching(args.db.as_deref()) {
        Ok((_, db)) => Some(db),
        Err(e) => {
            eprintln_safe!(
                "palisade: warning: no vulnerability matching ({}); run `palisade db import` first",
                e.reason
            );
            None
        }
    };
    let collector =
        crate::imagefacts::Collector::new(&config.images, config_dir, &args.registry_access, db)?;
    let table = collector.collect(&crate::imagefacts::image_references(inv));
    for (image, facts) in &table {
        for e in &facts.errors {
            eprintln_safe!("palisade: warning: image {image}: {e}");
        }
    }
    Ok(table)
}

/// Fingerprints of the findings in an earlier JSON report.
fn read_baseline(path: &std::path::Path) -> anyhow::Result<std::collections::HashSet<String>> {
    use palisade_report::BaselineError;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading baseline {}", path.display()))?;
    palisade_report::read_baseline(&text).map_err(|e| match e {
        BaselineError::NotJson(cause) => {
            anyhow::Error::new(cause).context(format!("baseline {} is not JSON", path.display()))
        }
        other => anyhow::anyhow!("baseline {} {other}", path.display()),
    })
}
