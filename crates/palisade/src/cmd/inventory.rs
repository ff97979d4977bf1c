//! `palisade inventory`: every workload with its images, service account, exposure, owner and
//! deploy-and-forget signals, plus counts per namespace and registry.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use palisade_risk::{ExternalFacts, inventory_report};

use crate::exit::finish;
use crate::input::load_inventory;
use crate::output::with_newline;
use crate::render::inventory as render;

/// Output format of `palisade inventory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InventoryFormat {
    /// Tables for people.
    Table,
    /// One JSON document (workloads, namespace and registry counts).
    Json,
    /// One CSV row per workload (RFC 4180).
    Csv,
}

/// `palisade inventory`.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Files or directories to read (.yaml, .yml, .json; directories recursively); `-` reads
    /// stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = InventoryFormat::Table)]
    pub format: InventoryFormat,
}

/// Runs `palisade inventory`.
pub fn run(args: InventoryArgs) -> anyhow::Result<ExitCode> {
    let (inv, input_errors) = load_inventory(&args.paths)?;
    let report = inventory_report(&inv, &ExternalFacts::default());
    let text = match args.format {
        InventoryFormat::Table => render::table(&report),
        InventoryFormat::Json => serde_json::to_string_pretty(&report)?,
        InventoryFormat::Csv => render::csv(&report),
    };
    let for_people = args.format == InventoryFormat::Table;
    crate::output::emit_for(&with_newline(text), None, for_people)?;
    Ok(finish(input_errors, ExitCode::SUCCESS))
}
