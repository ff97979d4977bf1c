//! `palisade risk`: ranks workloads by an explainable risk score.
//!
//! The score uses the built-in checks' findings and what the manifests show (privileges,
//! exposure, service account power, Secrets read), and, with the `netpol` feature, network
//! reachability from the NetworkPolicy engine (unprotected workloads, blast radius).
//! Vulnerability counts and image ages join in when an edge supplies them (`ExternalFacts`,
//! `ExternalFacts::with_image_facts`).

use std::process::ExitCode;

use clap::Args;
use palisade_rbac::RbacIndex;
use palisade_risk::{ExternalFacts, RiskContext, assess};

use crate::exit::finish;
use crate::input::load_inventory;
use crate::output::with_newline;
use crate::render::risk::{self as render, Format};

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

/// What the risk ranking needs besides the findings (RBAC index, network reachability): derived
/// while the checks run.
pub struct RiskInputs {
    /// Effective RBAC permissions.
    pub rbac: RbacIndex,
    /// Facts from other analyzers (network reachability with the `netpol` feature).
    pub facts: ExternalFacts,
}

impl RiskInputs {
    /// Derives the RBAC index and, with the `netpol` feature, the network facts.
    pub fn derive(inv: &palisade_model::Inventory) -> RiskInputs {
        #[allow(unused_mut)]
        let mut facts = ExternalFacts::default();
        #[cfg(feature = "netpol")]
        {
            facts.network = network_facts(inv);
        }
        RiskInputs {
            rbac: RbacIndex::build(inv),
            facts,
        }
    }
}

/// Runs `palisade risk`.
pub fn run(args: RiskArgs) -> anyhow::Result<ExitCode> {
    let (inv, input_errors) = load_inventory(&args.paths)?;
    let (outcome, inputs) = rayon::join(
        || palisade_checks::Engine::builtin().run(&inv),
        || RiskInputs::derive(&inv),
    );
    let mut ranked = assess(&RiskContext {
        inventory: &inv,
        findings: &outcome.findings,
        rbac: &inputs.rbac,
        facts: &inputs.facts,
    });
    if let Some(n) = args.top {
        ranked.truncate(n);
    }
    crate::output::emit_for(
        &with_newline(render::ranking(&ranked, args.format)?),
        None,
        args.format == Format::Table,
    )?;
    let status = finish(input_errors, ExitCode::SUCCESS);
    // The process ends here: no need to free the inventory, findings and ranking piece by piece.
    std::mem::forget((inv, outcome, inputs, ranked));
    Ok(status)
}

/// Network facts of every workload from the NetworkPolicy engine: isolation per direction and
/// how many other workloads can reach it / it can reach.
#[cfg(feature = "netpol")]
pub fn network_facts(
    inv: &palisade_model::Inventory,
) -> std::collections::BTreeMap<palisade_model::WorkloadId, palisade_risk::NetworkFacts> {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    palisade_netpol::exposure(inv)
        .workloads
        .into_iter()
        .map(|w| {
            (
                w.workload,
                palisade_risk::NetworkFacts {
                    ingress_unprotected: !w.ingress_isolated,
                    egress_unprotected: !w.egress_isolated,
                    reachable_from: count(w.reachable_from_workloads),
                    can_reach: count(w.can_reach_workloads),
                },
            )
        })
        .collect()
}
