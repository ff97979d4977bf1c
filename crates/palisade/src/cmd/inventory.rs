//! `palisade inventory`: every workload with its images, service account, exposure, owner and
//! deploy-and-forget signals, plus counts per namespace and registry.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use palisade_risk::{ExternalFacts, inventory_report};

use crate::exit::finish;
use crate::input::load_inventory;
use crate::output::with_newline;
use crate::render::inventory::{self as render, Format};

/// `palisade inventory`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  palisade inventory examples/demo-cluster\n  palisade inventory --cluster --namespace shop --format json"
)]
pub struct InventoryArgs {
    /// Files or directories to read (.yaml, .yml, .json; directories recursively); `-` reads
    /// stdin.
    #[arg(required_unless_present = "cluster", value_name = "PATH")]
    pub paths: Vec<String>,
    /// A live cluster instead of paths.
    #[command(flatten)]
    pub cluster: crate::cluster_args::ClusterArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `palisade inventory`.
pub fn run(args: InventoryArgs) -> anyhow::Result<ExitCode> {
    let (inv, input_errors) = load_inventory(&args.paths, &args.cluster)?;
    let report = inventory_report(&inv, &ExternalFacts::default());
    let text = render::render(&report, args.format)?;
    let for_people = args.format == Format::Table;
    crate::output::emit_for(&with_newline(text), args.output.as_ref(), for_people)?;
    Ok(finish(input_errors, ExitCode::SUCCESS))
}
