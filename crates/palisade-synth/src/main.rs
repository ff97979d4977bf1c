//! `palisade-synth`: writes a synthetic snapshot to a directory.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

/// Generate a synthetic cluster snapshot for benchmarks.
#[derive(Parser)]
#[command(after_help = "Example:\n  palisade-synth --workloads 10000 --out /tmp/synth-10k")]
struct Args {
    /// Number of workloads.
    #[arg(long, default_value_t = 1000)]
    workloads: usize,
    /// Workloads per namespace.
    #[arg(long, default_value_t = 20)]
    per_namespace: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory (created).
    #[arg(long)]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let files = palisade_synth::generate(palisade_synth::Shape {
        workloads: a.workloads,
        per_namespace: a.per_namespace,
        seed: a.seed,
    });
    let mut bytes = 0;
    for (name, text) in &files {
        bytes += text.len();
        std::fs::write(a.out.join(name), text)?;
    }
    println!(
        "{} files, {} bytes, {} workloads",
        files.len(),
        bytes,
        a.workloads
    );
    Ok(())
}
