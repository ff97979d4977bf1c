//! How much memory an inventory and its facts take when held, as the live sensor holds them:
//! the inventory (raw objects dropped), the RBAC index and the network facts of every workload
//! (the ranking's inputs), and the NetworkPolicy facts the network checks read. Findings are
//! never made, so nothing freed is counted.
//!
//! ```sh
//! cargo run --profile profiling -p palisade-analysis --example resident -- /tmp/synth-100k
//! ```
//!
//! Prints the resident set (VmRSS) and its peak (VmHWM) after each step, with the allocator the
//! `palisade` binary uses (mimalloc).

use palisade_analysis::RiskInputs;
use palisade_ingest::{Limits, ingest_paths};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        eprintln!("usage: resident DIR...");
        std::process::exit(2);
    }
    report("start");
    let limits = Limits {
        keep_raw: false,
        ..Limits::default()
    };
    let ingested = ingest_paths(&dirs, &limits);
    report(&format!(
        "inventory ({} objects, {} diagnostics)",
        ingested.inventory.object_count(),
        ingested.diagnostics.len()
    ));
    let inputs = RiskInputs::derive(&ingested.inventory, true);
    report(&format!(
        "+ RBAC index and network facts ({} workloads)",
        inputs.facts.network.len()
    ));
    let policy = palisade_netpol::facts(&ingested.inventory);
    report("+ NetworkPolicy facts");
    // Held until here, as a sensor holds them between events.
    drop((policy, inputs, ingested));
}

/// Prints VmRSS and VmHWM of this process after `step`.
fn report(step: &str) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map_or_else(|| "?".to_string(), |v| v.trim().to_string())
    };
    println!(
        "{step}: VmRSS {}, VmHWM {}",
        field("VmRSS:"),
        field("VmHWM:")
    );
}
