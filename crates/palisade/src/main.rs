//! The `palisade` command: a thin layer that wires sources, analyzers and sinks.
//!
//! Domains are cargo features; each adds one subcommand module under `cmd/` (and its renderers
//! under `render/`). To add one: declare the feature in Cargo.toml, add `mod` lines and a
//! variant to [`Command`] behind `#[cfg(feature = "…")]`, and dispatch it in `run`.

/// `eprintln!` for messages that may carry names from the scanned input (file paths, object
/// and image names, servers' error texts): control and bidirectional-override characters are
/// escaped so they cannot drive the terminal (see `palisade_model::terminal`).
macro_rules! eprintln_safe {
    ($($arg:tt)*) => {
        $crate::output::stderr_line(&format!($($arg)*))
    };
}

#[cfg(feature = "central")]
mod central_client;
mod cluster_args;
mod cmd;
mod config_file;
mod exit;
#[cfg(feature = "registry-facts")]
mod imagefacts;
mod input;
#[cfg(feature = "central")]
mod install;
mod logging;
mod output;
#[cfg(feature = "image")]
mod registry_args;
mod render;
mod runtime_policy;
#[cfg(feature = "sensor")]
mod sensor;
#[cfg(feature = "vuln")]
mod vuln_db;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: ingestion and reporting allocate many small objects; it is markedly faster than
/// the system allocator for that pattern (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Palisade: Kubernetes security from build to runtime.
#[derive(Parser, Debug)]
#[command(
    name = "palisade",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("PALISADE_COMMIT"), ")"),
    about = "Kubernetes security from build to runtime: misconfigurations, network exposure, RBAC, images, runtime.",
    after_help = "Examples:\n  palisade scan examples/demo-cluster\n  palisade scan --cluster --context prod\n  kubectl get deploy,svc,netpol -A -o yaml | palisade scan - --format sarif > palisade.sarif\n  palisade checks list --format json\n\nExit status: 0 success; 1 findings at or above --fail-on; 2 usage or configuration error; 3 some input could not be read.\n\nLogs go to stderr (reports to stdout): warnings by default, start-up, reloads and failures too for the servers (`admission serve`, `agent run`, `central serve`, `sensor run`, as JSON lines); -v/-q or RUST_LOG change the level, --log-format the format."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    log: logging::LogArgs,
    #[command(flatten)]
    walk: input::WalkArgs,
}

impl Command {
    /// Whether this is a long-running server (info-level JSON logs by default).
    fn is_server(&self) -> bool {
        match self {
            #[cfg(feature = "admission")]
            Command::Admission(cmd::admission::Command::Serve(_)) => true,
            #[cfg(all(feature = "agent", target_os = "linux"))]
            Command::Agent(cmd::agent::Command::Run(_)) => true,
            #[cfg(feature = "central")]
            Command::Central(cmd::central::Command::Serve(_)) => true,
            #[cfg(feature = "sensor")]
            Command::Sensor(cmd::sensor::Command::Run(_)) => true,
            _ => false,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan manifests for misconfigurations and report findings.
    Scan(cmd::scan::Args),
    /// Inspect the check catalog.
    #[command(subcommand)]
    Checks(cmd::checks::Command),
    /// RBAC: who can do what, can a subject do something, risky grants.
    #[cfg(feature = "visibility")]
    Rbac(cmd::rbac::RbacArgs),
    /// Rank workloads by an explainable risk score.
    #[cfg(feature = "visibility")]
    Risk(cmd::risk::RiskArgs),
    /// List workloads with images, service account, exposure, owner and deploy-and-forget signals.
    #[cfg(feature = "visibility")]
    Inventory(cmd::inventory::InventoryArgs),
    /// NetworkPolicies: who can reach whom, why, exposure and blast radius, diff, generation.
    #[cfg(feature = "netpol")]
    Netpol(cmd::netpol::NetpolArgs),
    /// Print version, commit, build date, features and the vulnerability database's state.
    Version(cmd::about::Args),
    /// Compare two versions by an ecosystem's ordering rules; prints <, = or >.
    #[cfg(feature = "vuln")]
    Vercmp(cmd::vercmp::CmpArgs),
    /// Shell completion script for bash, zsh, fish, elvish or PowerShell.
    Completion(cmd::completion::CompletionArgs),
    /// Man pages, generated from the command-line definition.
    Man(cmd::completion::ManArgs),
    /// The offline vulnerability database: import, status, update.
    #[cfg(feature = "vuln")]
    Db(cmd::db::Args),
    /// Images: pull or open, unpack safely, inventory packages, facts for policy, SBOMs.
    #[cfg(feature = "image")]
    #[command(subcommand)]
    Image(cmd::image::Command),
    /// Runtime agent: process and network events, baselines, responses, feedback to CI/CD.
    #[cfg(all(feature = "agent", target_os = "linux"))]
    #[command(subcommand)]
    Agent(cmd::agent::Command),
    /// Validating admission webhook: serve it, print its install manifests.
    #[cfg(feature = "admission")]
    #[command(subcommand)]
    Admission(cmd::admission::Command),
    /// Central: one durable place for scans, sensors, admission and runtime; serve it, manage
    /// its tokens, query it.
    #[cfg(feature = "central")]
    #[command(subcommand)]
    Central(cmd::central::Command),
    /// Live-cluster sensor: watch a cluster and keep central current; its install manifests.
    #[cfg(feature = "sensor")]
    #[command(subcommand)]
    Sensor(cmd::sensor::Command),
    /// Sigstore: verify bundles (keyless or key-based) offline against a trusted root.
    #[cfg(feature = "trust")]
    #[command(subcommand)]
    Sigstore(cmd::sigstore::Command),
    /// Read CycloneDX / SPDX SBOMs back into packages.
    #[cfg(feature = "image")]
    #[command(subcommand)]
    Sbom(cmd::sbom::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(&cli.log, cli.command.is_server());
    input::init(cli.walk, cli.log.verbose());
    let result = match cli.command {
        Command::Scan(args) => cmd::scan::run(args),
        Command::Checks(c) => cmd::checks::run(c),
        #[cfg(feature = "visibility")]
        Command::Rbac(a) => cmd::rbac::run(a),
        #[cfg(feature = "visibility")]
        Command::Risk(a) => cmd::risk::run(a),
        #[cfg(feature = "visibility")]
        Command::Inventory(a) => cmd::inventory::run(a),
        #[cfg(feature = "netpol")]
        Command::Netpol(a) => cmd::netpol::run(a),
        Command::Version(a) => cmd::about::run(a),
        #[cfg(feature = "vuln")]
        Command::Vercmp(a) => cmd::vercmp::run(a),
        Command::Completion(a) => cmd::completion::completion(a),
        Command::Man(a) => cmd::completion::man(a),
        #[cfg(feature = "vuln")]
        Command::Db(a) => cmd::db::run(a),
        #[cfg(feature = "image")]
        Command::Image(c) => cmd::image::run(c),
        #[cfg(feature = "image")]
        Command::Sbom(c) => cmd::sbom::run(c),
        #[cfg(feature = "trust")]
        Command::Sigstore(c) => cmd::sigstore::run(c),
        #[cfg(all(feature = "agent", target_os = "linux"))]
        Command::Agent(c) => cmd::agent::run(c),
        #[cfg(feature = "admission")]
        Command::Admission(c) => cmd::admission::run(c),
        #[cfg(feature = "central")]
        Command::Central(c) => cmd::central::run(c),
        #[cfg(feature = "sensor")]
        Command::Sensor(c) => cmd::sensor::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln_safe!("palisade: error: {}", output::error_chain(&e));
            exit::code(exit::USAGE)
        }
    }
}
