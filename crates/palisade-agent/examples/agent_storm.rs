//! Exec storms in real podman containers (issue 23's measurement):
//! `cargo run --release -p palisade-agent --example agent_storm -- [CONTAINERS] [EXECS_PER_CONTAINER] [bpf|proc] [normal]`
//! (`normal`: the agent's threads at their niceness only, `realtime: false`).
//!
//! Starts CONTAINERS busybox containers, an agent in this process with one rule per container
//! (`container.name = X`), then runs in every container at once a shell that executes
//! EXECS_PER_CONTAINER/2 × `/bin/true` and as many `/bin/echo`, each with a unique argument,
//! and one last `/bin/sleep 1` as the marker. Counts the alerts that carry their container, exe
//! (`/bin/busybox`) and arguments exactly, those marked incomplete, and prints them with the
//! agent's counters (kernel drops, exec → alert latency percentiles), its CPU per exec and RSS,
//! as JSON. Root; podman configured by scripts/setup/30-podman.sh.

/// The allocator the `palisade` binary ships with, so RSS is measured as deployed.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use palisade_agent::bench::{agent_cpu_seconds, agent_schedstat, sched_delta, status_kib};
use palisade_agent::config::SourceKind;
use palisade_testkit::podman::{import_busybox, podman};

const IMAGE: &str = "localhost/palisade-agent-test:busybox";

fn main() {
    let mut args = std::env::args().skip(1);
    let containers: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(10);
    let per: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let source = match args.next().as_deref() {
        Some("proc") => SourceKind::ProcConnector,
        _ => SourceKind::Bpf,
    };
    let realtime = args.next().as_deref() != Some("normal");
    let dir = tempfile::tempdir().expect("temp dir");
    import_busybox(dir.path(), IMAGE);
    let names: Vec<String> = (0..containers)
        .map(|i| format!("pal-storm-{}-{i}", std::process::id()))
        .collect();
    for n in &names {
        podman(&[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            n,
            IMAGE,
            "sleep",
            "600",
        ]);
    }
    let mut rules = String::from("rules:\n");
    for (i, n) in names.iter().enumerate() {
        rules.push_str(&format!(
            "  - id: storm-{i}\n    description: every exec in {n}\n    condition: container.name = {n}\n"
        ));
    }
    let rules_file = dir.path().join("rules.yaml");
    std::fs::write(&rules_file, rules).expect("rules");
    let alerts = dir.path().join("alerts.jsonl");
    let mut cfg = palisade_agent::AgentConfig::parse(&format!(
        "builtin_rules: false\nnet_interval_ms: 0\nbaseline:\n  enabled: false\nsave_interval_secs: 3600\nrules_files: [{}]\n",
        rules_file.display()
    ))
    .expect("config");
    cfg.source = source;
    cfg.realtime = realtime;
    cfg.state_dir = dir.path().join("state");
    cfg.alerts = alerts.display().to_string();
    let agent = palisade_agent::start(cfg, None).expect("agent starts");
    let cpu_before = agent_cpu_seconds();
    let sched_before = agent_schedstat();
    let half = per / 2;
    let script = format!(
        "i=0; while [ $i -lt {half} ]; do /bin/true t$i; i=$((i+1)); done; \
         i=0; while [ $i -lt {half} ]; do /bin/echo e$i >/dev/null; i=$((i+1)); done; \
         /bin/sleep 1; true"
    );
    let started = Instant::now();
    let shells: Vec<_> = names
        .iter()
        .map(|n| {
            std::process::Command::new("podman")
                .args(["exec", n, "sh", "-c", &script])
                .spawn()
                .expect("podman exec")
        })
        .collect();
    for mut s in shells {
        let _ = s.wait();
    }
    let storm_seconds = started.elapsed().as_secs_f64();
    // Every container's marker alerted: the agent has handled all earlier execs.
    let read = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(&alerts)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let markers = read()
            .iter()
            .filter(|v| v["process"]["args"][0] == "/bin/sleep")
            .count();
        if markers >= containers || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let cpu = agent_cpu_seconds() - cpu_before;
    let sched = sched_delta(&sched_before, &agent_schedstat());
    let rss_kib = status_kib("VmRSS:");
    let peak_rss_kib = status_kib("VmHWM:");
    let source_name = agent.source();
    let counters = agent.stop();
    let mut complete = BTreeSet::new();
    let mut incomplete = 0;
    for v in read() {
        let p = &v["process"];
        if p["missing"].is_array() {
            incomplete += 1;
            continue;
        }
        let (Some(a0), Some(a1)) = (p["args"][0].as_str(), p["args"][1].as_str()) else {
            continue;
        };
        let program = a0.trim_start_matches("/bin/");
        if matches!(program, "true" | "echo")
            && p["exe"] == "/bin/busybox"
            && p["name"] == program
            && p["args"].as_array().map(Vec::len) == Some(2)
            && v["container"]["name"]
                .as_str()
                .is_some_and(|n| names.iter().any(|x| x == n))
        {
            complete.insert(format!("{}/{a1}", v["container"]["name"]));
        }
    }
    for n in &names {
        let _ = std::process::Command::new("podman")
            .args(["rm", "-f", "-t", "0", n])
            .output();
    }
    let total = containers * 2 * half;
    let report = serde_json::json!({
        "source": source_name,
        "realtime": realtime,
        "containers": containers,
        "execs": total,
        "storm_seconds": storm_seconds,
        "alerted_complete": complete.len(),
        "fraction_complete": complete.len() as f64 / total as f64,
        "alerted_incomplete": incomplete,
        "agent_cpu_seconds": cpu,
        "agent_cpu_us_per_exec": cpu * 1e6 / counters.exec_events.max(1) as f64,
        "rss_kib": rss_kib,
        "peak_rss_kib": peak_rss_kib,
        "load_average": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "agent_threads_sched": sched,
        "counters": counters,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
}
