//! `palisade risk`: ranks workloads by an explainable risk score.
//!
//! The score uses the built-in checks' findings and what the manifests show (privileges,
//! exposure, service account power, Secrets read). Vulnerability counts, image ages and network
//! facts join in when their sources are wired (`ExternalFacts`).

use std::process::ExitCode;

use clap::Args;
use palisade_rbac::RbacIndex;
use palisade_risk::{ExternalFacts, RiskContext, assess};

use crate::cmd::rbac::{Format, finish, load_inventory, with_newline};
use crate::render::risk as render;

/// `palisade risk`.
#[derive(Debug, Args)]
pub struct RiskArgs {
    /// Files or directories to read (.yaml, .yml, .json; directories recursively); `-` reads
    /// stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// Show only the N riskiest workloads.
    #[arg(long)]
    pub top: Option<usize>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs `palisade risk`.
pub fn run(args: RiskArgs) -> anyhow::Result<ExitCode> {
    let (inv, input_errors) = load_inventory(&args.paths)?;
    let rbac = RbacIndex::build(&inv);
    let facts = ExternalFacts::default();
    let findings = palisade_checks::Engine::builtin().run(&inv).findings;
    let mut ranked = assess(&RiskContext {
        inventory: &inv,
        findings: &findings,
        rbac: &rbac,
        facts: &facts,
    });
    if let Some(n) = args.top {
        ranked.truncate(n);
    }
    crate::output::emit(&with_newline(render::ranking(&ranked, args.format)?), None)?;
    Ok(finish(input_errors, ExitCode::SUCCESS))
}
