//! Runs the agent for a while with a configuration file and prints its counters.
//!
//! `cargo run -p palisade-agent --example agent_run -- CONFIG.yaml SECONDS`

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(config), Some(secs)) = (args.next(), args.next()) else {
        eprintln!("usage: agent_run CONFIG.yaml SECONDS");
        std::process::exit(2);
    };
    let cfg =
        palisade_agent::AgentConfig::load(std::path::Path::new(&config)).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2);
        });
    let secs: u64 = secs.parse().unwrap_or(10);
    let agent = palisade_agent::start(cfg, None).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    std::thread::sleep(std::time::Duration::from_secs(secs));
    let stats = agent.stop();
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&stats).unwrap_or_default()
    );
}
