//! Agent benchmark: `cargo run --release -p palisade-agent --example agent_bench -- [EXECS] [THREADS] [ZOMBIE_BACKLOG] [no-agent]`
//! or `… --example agent_bench -- pipeline [EVENTS] [PROCESSES]` (root; see `palisade_agent::bench`).
//! Prints the report as JSON.

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
    if args.next().as_deref() == Some("no-agent") {
        opts.with_agent = false;
    }
    match palisade_agent::bench::run(&opts) {
        Ok(r) => println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default()),
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::exit(1);
        }
    }
}
