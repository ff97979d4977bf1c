//! `palisade risk`: ranks workloads by an explainable risk score.
//!
//! The score uses the built-in checks' findings and what the manifests show (privileges,
//! exposure, service account power, Secrets read), and, with the `netpol` feature, network
//! reachability from the NetworkPolicy engine (unprotected workloads, blast radius).
//! Vulnerability counts and image ages join in when an edge supplies them (`ExternalFacts`,
//! `ExternalFacts::with_image_facts`). The checks, RBAC and network analyses and the ranking are
//! palisade-analysis's pipeline, the same `palisade scan` runs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use palisade_analysis::{Inputs, Options, RiskOptions, analyze};

use crate::exit::finish;
use crate::input::load_inventory;
use crate::output::with_newline;
use crate::render::risk::{self as render, Format};

/// `palisade risk`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  palisade risk examples/demo-cluster --top 5\n  palisade risk --cluster --context prod --format json"
)]
pub struct RiskArgs {
    /// Files or directories to read (.yaml, .yml, .json; directories recursively); `-` reads
    /// stdin.
    #[arg(required_unless_present = "cluster", value_name = "PATH")]
    pub paths: Vec<String>,
    /// A live cluster instead of paths.
    #[command(flatten)]
    pub cluster: crate::cluster_args::ClusterArgs,
    /// Show only the N riskiest workloads.
    #[arg(long)]
    pub top: Option<usize>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `palisade risk`.
pub fn run(args: RiskArgs) -> anyhow::Result<ExitCode> {
    let (inv, input_errors) = load_inventory(&args.paths, &args.cluster)?;
    let options = Options {
        risk: Some(RiskOptions {
            top: 0,
            network: cfg!(feature = "netpol"),
        }),
        ..Options::builtin()
    };
    let inputs = Inputs {
        inventory: &inv,
        diagnostics: &[],
        image_facts: None,
        runtime_policy: None,
    };
    let mut analysis = analyze(&inputs, &options);
    let mut ranked = analysis.ranking.take().unwrap_or_default();
    if let Some(n) = args.top {
        ranked.truncate(n);
    }
    crate::output::emit_for(
        &with_newline(render::ranking(&ranked, args.format)?),
        args.output.as_ref(),
        args.format == Format::Table,
    )?;
    let status = finish(input_errors, ExitCode::SUCCESS);
    // The process ends here: no need to free the inventory, findings and ranking piece by piece.
    std::mem::forget((inv, analysis, ranked));
    Ok(status)
}
