//! Agent benchmark: `cargo run --release -p palisade-agent --example agent_bench -- [EXECS] [THREADS] [ZOMBIE_BACKLOG] [no-agent|bpf|proc]`
//! (`bpf`: the eBPF source; default and `proc`: the proc connector)
//! or `… --example agent_bench -- pipeline [EVENTS] [PROCESSES]`
//! or `… --example agent_bench -- limit [EXECS] [THREADS,THREADS,…]` (the machine's spawn
//! limit without the agent). Root; see `palisade_agent::bench`.
//! Prints the report as JSON.

/// The allocator the `palisade` binary ships with, so RSS is measured as deployed.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("pipeline") {
        args.next();
        let events = args.next().and_then(|v| v.parse().ok()).unwrap_or(100_000);
        let procs = args.next().and_then(|v| v.parse().ok()).unwrap_or(50);
        match palisade_agent::bench::run_pipeline(events, procs) {
            Ok(r) => println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default()),
            Err(e) => {
                eprintln!("bench: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if args.peek().map(String::as_str) == Some("limit") {
        args.next();
        let execs = args.next().and_then(|v| v.parse().ok()).unwrap_or(20_000);
        let threads: Vec<usize> = args
            .next()
            .map(|v| v.split(',').filter_map(|t| t.parse().ok()).collect())
            .unwrap_or_else(|| vec![1, 2, 4]);
        match palisade_agent::bench::limit::run_limit(execs, &threads) {
            Ok(r) => println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default()),
            Err(e) => {
                eprintln!("bench: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let mut opts = palisade_agent::bench::BenchOptions::default();
    if let Some(n) = args.next().and_then(|v| v.parse().ok()) {
        opts.execs = n;
    }
    if let Some(n) = args.next().and_then(|v| v.parse().ok()) {
        opts.threads = n;
    }
    if let Some(n) = args.next().and_then(|v| v.parse().ok()) {
        opts.zombie_backlog = n;
    }
    match args.next().as_deref() {
        Some("no-agent") => opts.with_agent = false,
        Some("bpf") => opts.source = palisade_agent::config::SourceKind::Bpf,
        _ => {}
    }
    match palisade_agent::bench::run(&opts) {
        Ok(r) => println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default()),
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::exit(1);
        }
    }
}
