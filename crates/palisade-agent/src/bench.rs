//! A benchmark of the whole pipeline: spawn many short processes, count how many reach an
//! alert, and measure event-to-alert latency, exec rate, losses and memory.
//!
//! The agent runs in this process with one rule that matches the marker program (a tiny
//! static program named `pal-bench-mark` that exits at once, see [`spawn`]) and nothing
//! else: no built-in rules, no baselines, no socket scans, alerts serialized and discarded.
//! Processes are created by the fastest spawner we have ([`spawn::spawn_many`]);
//! [`limit`] measures what that spawner and the proc connector reach without the agent.
//!
//! Children are reaped by a separate thread that keeps up to `zombie_backlog` exited
//! children unreaped: an exited but unreaped process stays readable in `/proc` (name,
//! parent, IDs; not its command line), as processes of a busy container usually are for a
//! moment. With a backlog of 0 every child is reaped at once, which shows how many
//! processes exit before the agent can read them.

pub mod limit;
pub mod spawn;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::agent::AgentError;
use crate::config::{AgentConfig, SourceKind};
use crate::output::AlertSink;
use crate::stats::StatsSnapshot;

/// Benchmark parameters.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Processes to spawn.
    pub execs: u64,
    /// Spawning threads.
    pub threads: usize,
    /// Exited children kept unreaped (0 reaps at once).
    pub zombie_backlog: usize,
    /// Exec event source.
    pub source: SourceKind,
    /// busybox binary the marker links to on architectures without the built-in exit
    /// program.
    pub busybox: PathBuf,
    /// Run the agent (false measures the spawner alone, for comparison).
    pub with_agent: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            execs: 50_000,
            threads: 2,
            zombie_backlog: 2_000,
            source: SourceKind::ProcConnector,
            busybox: PathBuf::from("/bin/busybox"),
            with_agent: true,
        }
    }
}

/// What a benchmark run measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Processes spawned.
    pub spawned: u64,
    /// Seconds spent spawning.
    pub spawn_seconds: f64,
    /// Processes spawned per second.
    pub execs_per_second: f64,
    /// Marker processes that produced an alert.
    pub alerts: u64,
    /// Marker processes without an alert (`spawned - alerts`).
    pub missed: u64,
    /// Exited children kept unreaped.
    pub zombie_backlog: usize,
    /// Exec source.
    pub source: String,
    /// Agent counters at the end (losses by cause, latency percentiles in µs).
    pub counters: StatsSnapshot,
    /// CPU seconds used by the agent's threads (user + system).
    pub agent_cpu_seconds: f64,
    /// Agent CPU time per exec event, microseconds.
    pub agent_cpu_us_per_exec: f64,
    /// Exec events one fully used core could handle at that cost (`1e6 / cpu_us_per_exec`).
    pub capacity_execs_per_core_second: f64,
    /// Resident memory at the end, KiB (whole benchmark process).
    pub rss_kib: u64,
    /// Peak resident memory, KiB (whole benchmark process).
    pub peak_rss_kib: u64,
    /// `/proc/loadavg` (1, 5, 15 minutes) at the start and at the end.
    pub load_average: [String; 2],
}

/// This process's threads named `palisade-*`: their names and `/proc/self/task/TID` paths.
fn agent_threads() -> Vec<(String, PathBuf)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            let comm = comm.trim_end();
            comm.starts_with("palisade-")
                .then(|| (comm.to_string(), t.path()))
        })
        .collect()
}

/// CPU seconds (user + system) of this process's threads named `palisade-*`.
pub fn agent_cpu_seconds() -> f64 {
    let ticks = procfs::ticks_per_second().max(1) as f64;
    let mut total = 0u64;
    for (_, path) in agent_threads() {
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        // Fields after the parenthesized name: state is field 3, utime 14, stime 15.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let get = |i: usize| {
            f.get(i - 3)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        total += get(14) + get(15);
    }
    total as f64 / ticks
}

/// Scheduler statistics of one agent thread (`/proc/self/task/TID/schedstat`), summed over
/// threads of the same name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ThreadSched {
    /// Nanoseconds spent running on a CPU.
    pub run_ns: u64,
    /// Nanoseconds spent runnable, waiting on a run queue for a CPU.
    pub runqueue_wait_ns: u64,
    /// Times it was given a CPU.
    pub timeslices: u64,
}

/// The scheduler statistics of this process's `palisade-*` threads, by thread name. Subtract
/// two readings ([`sched_delta`]) to see how long the agent waited for a CPU during a run.
pub fn agent_schedstat() -> std::collections::BTreeMap<String, ThreadSched> {
    let mut out = std::collections::BTreeMap::new();
    for (name, path) in agent_threads() {
        let text = std::fs::read_to_string(path.join("schedstat")).unwrap_or_default();
        let v: Vec<u64> = text
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        let e: &mut ThreadSched = out.entry(name).or_default();
        e.run_ns += v.first().copied().unwrap_or(0);
        e.runqueue_wait_ns += v.get(1).copied().unwrap_or(0);
        e.timeslices += v.get(2).copied().unwrap_or(0);
    }
    out
}

/// What changed between two [`agent_schedstat`] readings.
pub fn sched_delta(
    before: &std::collections::BTreeMap<String, ThreadSched>,
    after: &std::collections::BTreeMap<String, ThreadSched>,
) -> std::collections::BTreeMap<String, ThreadSched> {
    after
        .iter()
        .map(|(name, a)| {
            let b = before.get(name).copied().unwrap_or_default();
            let d = ThreadSched {
                run_ns: a.run_ns.saturating_sub(b.run_ns),
                runqueue_wait_ns: a.runqueue_wait_ns.saturating_sub(b.runqueue_wait_ns),
                timeslices: a.timeslices.saturating_sub(b.timeslices),
            };
            (name.clone(), d)
        })
        .collect()
}

/// A `kB` field of `/proc/self/status` (`VmRSS:`, `VmHWM:`), in KiB.
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// What the pipeline benchmark measured.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineReport {
    /// Exec events pushed.
    pub events: u64,
    /// Live processes the events refer to (read from `/proc` for every event).
    pub processes: usize,
    /// Seconds from the first event pushed to the last alert written.
    pub seconds: f64,
    /// Events enriched, evaluated and alerted per second.
    pub events_per_second: f64,
    /// Agent counters at the end.
    pub counters: StatsSnapshot,
    /// CPU time of the agent's threads per event, µs (reads of live processes, rules,
    /// alert JSON).
    pub agent_cpu_us_per_event: f64,
    /// Events one fully used core could handle at that cost.
    pub capacity_events_per_core_second: f64,
    /// Peak resident memory, KiB.
    pub peak_rss_kib: u64,
    /// `/proc/loadavg` at the start and at the end.
    pub load_average: [String; 2],
}

/// Pushes `events` exec events for `processes` live marker processes straight into the
/// agent's queue, as fast as it takes them: measures what the pipeline (real `/proc` reads,
/// rules, alert serialization) sustains without the cost of creating processes.
pub fn run_pipeline(events: u64, processes: usize) -> Result<PipelineReport, AgentError> {
    let dir = std::env::temp_dir().join(format!("palisade-pipe-{}", std::process::id()));
    let io = |path: &std::path::Path, e: std::io::Error| AgentError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let sleeper = ["/bin/sleep", "/usr/bin/sleep"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .ok_or_else(|| AgentError::Setup("no sleep binary".into()))?;
    let marker = dir.join("pal-bench-mark");
    let _ = std::fs::remove_file(&marker);
    std::os::unix::fs::symlink(sleeper, &marker).map_err(|e| io(&marker, e))?;
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        "rules:\n  - id: bench-marker\n    condition: proc.name = pal-bench-mark and proc.args = 600\n",
    )
    .map_err(|e| io(&rules, e))?;
    let mut children = Vec::new();
    for _ in 0..processes.max(1) {
        let c = Command::new(&marker)
            .arg("600")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| io(&marker, e))?;
        children.push(c);
    }
    let cfg = AgentConfig {
        builtin_rules: false,
        rules_files: vec![rules],
        state_dir: dir.join("state"),
        net_interval_ms: 0,
        baseline: crate::config::BaselineConfig {
            enabled: false,
            ..Default::default()
        },
        save_interval_secs: 3600,
        ..AgentConfig::default()
    };
    let (agent, injector) = crate::agent::start_injected(cfg, Some(AlertSink::Discard))?;
    let stats = agent.stats();
    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let load_start = limit::load_average();
    let cpu_before = agent_cpu_seconds();
    let started = Instant::now();
    for i in 0..events {
        let pid = pids[(i as usize) % pids.len()];
        let ev = crate::source::RawEvent::Exec {
            pid,
            ts_ns: crate::clock::monotonic_ns(),
        };
        if !injector.send_blocking(ev) {
            break;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while stats.snapshot().alerts_written < events && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = agent_cpu_seconds() - cpu_before;
    let peak_rss_kib = status_kib("VmHWM:");
    drop(injector);
    let counters = agent.stop();
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(PipelineReport {
        events,
        processes: pids.len(),
        seconds,
        events_per_second: counters.alerts_written as f64 / seconds.max(1e-9),
        agent_cpu_us_per_event: cpu * 1e6 / counters.exec_events.max(1) as f64,
        capacity_events_per_core_second: if cpu > 0.0 {
            counters.exec_events as f64 / cpu
        } else {
            0.0
        },
        counters,
        peak_rss_kib,
        load_average: [load_start, limit::load_average()],
    })
}

/// Runs the benchmark.
pub fn run(opts: &BenchOptions) -> Result<BenchReport, AgentError> {
    let dir = std::env::temp_dir().join(format!("palisade-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| AgentError::File {
        path: dir.clone(),
        message: e.to_string(),
    })?;
    let marker = dir.join("pal-bench-mark");
    let noisy = spawn::make_marker(&marker, &opts.busybox).map_err(|e| AgentError::File {
        path: marker.clone(),
        message: e.to_string(),
    })?;
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        "rules:\n  - id: bench-marker\n    description: benchmark marker process\n    condition: proc.name = pal-bench-mark\n",
    )
    .map_err(|e| AgentError::File {
        path: rules.clone(),
        message: e.to_string(),
    })?;
    let cfg = AgentConfig {
        source: opts.source,
        builtin_rules: false,
        rules_files: vec![rules],
        state_dir: dir.join("state"),
        net_interval_ms: 0,
        baseline: crate::config::BaselineConfig {
            enabled: false,
            ..Default::default()
        },
        save_interval_secs: 3600,
        ..AgentConfig::default()
    };
    let agent = if opts.with_agent {
        Some(crate::agent::start(cfg, Some(AlertSink::Discard))?)
    } else {
        None
    };
    let source = agent
        .as_ref()
        .map_or("none (spawner alone)", |a| a.source())
        .to_string();
    let stats = agent
        .as_ref()
        .map_or_else(|| Arc::new(crate::stats::Stats::default()), |a| a.stats());

    let load_start = limit::load_average();
    let cpu_before = agent_cpu_seconds();
    let outcome = spawn::spawn_many(
        &spawn::SpawnPlan {
            program: marker.clone(),
            count: opts.execs,
            threads: opts.threads,
            zombie_backlog: opts.zombie_backlog,
            null_stdio: noisy,
        },
        &|_| {},
    );
    let spawned = outcome.spawned;
    let spawn_seconds = outcome.seconds;

    // Let the pipeline drain: wait until no new alert for one second (at most 60 s).
    let deadline = Instant::now() + Duration::from_secs(if opts.with_agent { 60 } else { 0 });
    let mut last = stats.snapshot().alerts_written;
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline && quiet_since.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(100));
        let now = stats.snapshot().alerts_written;
        if now != last {
            last = now;
            quiet_since = Instant::now();
        }
    }
    let agent_cpu = agent_cpu_seconds() - cpu_before;
    let rss_kib = status_kib("VmRSS:");
    let peak_rss_kib = status_kib("VmHWM:");
    let counters = agent.map_or_else(|| stats.snapshot(), |a| a.stop());
    let _ = std::fs::remove_dir_all(&dir);
    let alerts = counters.alerts_written;
    let per_exec = agent_cpu * 1e6 / (counters.exec_events.max(1) as f64);
    Ok(BenchReport {
        agent_cpu_seconds: agent_cpu,
        agent_cpu_us_per_exec: per_exec,
        capacity_execs_per_core_second: if per_exec > 0.0 { 1e6 / per_exec } else { 0.0 },
        spawned,
        spawn_seconds,
        execs_per_second: spawned as f64 / spawn_seconds.max(1e-9),
        alerts,
        missed: spawned.saturating_sub(alerts),
        zombie_backlog: opts.zombie_backlog,
        source,
        counters,
        rss_kib,
        peak_rss_kib,
        load_average: [load_start, limit::load_average()],
    })
}
