//! The physical limit: how many processes per second this machine creates at all with the
//! fastest spawner ([`super::spawn`]), no agent running, and how many of their exec events
//! the proc connector delivers to a listener that only counts them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;

use super::spawn::{self, SpawnPlan};
use crate::agent::AgentError;
use crate::source::RawEvent;
use crate::source::connector::ProcConnector;
use crate::stats::Stats;

/// One spawner run without the agent.
#[derive(Debug, Clone, Serialize)]
pub struct SpawnRun {
    /// Spawning threads.
    pub threads: usize,
    /// Processes created.
    pub spawned: u64,
    /// Processes created per second.
    pub execs_per_second: f64,
    /// CPU time per process: the spawner's threads plus the (reaped) children, µs.
    pub cpu_us_per_exec: f64,
    /// Whether a counting proc connector listener was running.
    pub connector_listening: bool,
    /// Exec events of these processes the listener received (when listening).
    pub connector_delivered: Option<u64>,
    /// Messages the kernel reported lost to the listener (when listening).
    pub connector_lost: Option<u64>,
    /// `/proc/loadavg` (1, 5, 15 minutes) after the run.
    pub load_average: String,
}

/// The physical-limit report.
#[derive(Debug, Clone, Serialize)]
pub struct LimitReport {
    /// The program executed (the built-in exit program, or busybox elsewhere).
    pub program: String,
    /// Online CPUs.
    pub cpus: usize,
    /// One entry per thread count, spawner alone, then the best thread count with a
    /// counting connector listener.
    pub runs: Vec<SpawnRun>,
    /// The highest rate seen without the agent: the machine's limit for this benchmark.
    pub physical_limit_execs_per_second: f64,
}

/// `/proc/loadavg`'s three averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// CPU seconds of this process and of its reaped children (user + system).
fn cpu_seconds() -> (f64, f64) {
    let ticks = procfs::ticks_per_second().max(1) as f64;
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // rest[0] is field 3; utime 14, stime 15, cutime 16, cstime 17.
    let get = |i: usize| f.get(i - 3).copied().unwrap_or(0) as f64;
    ((get(14) + get(15)) / ticks, (get(16) + get(17)) / ticks)
}

fn measure(
    program: &std::path::Path,
    noisy: bool,
    count: u64,
    threads: usize,
    listen: bool,
) -> Result<SpawnRun, AgentError> {
    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let listener = if listen {
        let mut c = ProcConnector::open()
            .map_err(|e| AgentError::Source(format!("proc connector: {e}")))?;
        let stats = stats.clone();
        let stop = stop.clone();
        Some(std::thread::spawn(move || {
            let mut execs: Vec<u32> = Vec::new();
            let mut batch = Vec::with_capacity(256);
            while !stop.load(Ordering::Relaxed) {
                batch.clear();
                c.read_batch(&mut batch, 256, &stats);
                execs.extend(batch.iter().filter_map(|e| match e {
                    RawEvent::Exec { pid, .. } => Some(*pid),
                    _ => None,
                }));
            }
            execs
        }))
    } else {
        None
    };
    let spawned_pids = Mutex::new(Vec::with_capacity(if listen { count as usize } else { 0 }));
    let (self0, child0) = cpu_seconds();
    let out = spawn::spawn_many(
        &SpawnPlan {
            program: program.to_path_buf(),
            count,
            threads,
            zombie_backlog: 0,
            null_stdio: noisy,
        },
        &|pid| {
            if listen && let Ok(mut v) = spawned_pids.lock() {
                v.push(pid);
            }
        },
    );
    let (self1, child1) = cpu_seconds();
    let (delivered, lost) = match listener {
        Some(t) => {
            std::thread::sleep(Duration::from_millis(300));
            stop.store(true, Ordering::Relaxed);
            let execs = t.join().unwrap_or_default();
            // PIDs wrap around (pid_max may be 32768): match as multisets.
            let mut ours: HashMap<u32, u32> = HashMap::new();
            for p in spawned_pids.lock().map(|v| v.clone()).unwrap_or_default() {
                *ours.entry(p).or_default() += 1;
            }
            let mut seen = 0u64;
            for p in execs {
                if let Some(n) = ours.get_mut(&p).filter(|n| **n > 0) {
                    *n -= 1;
                    seen += 1;
                }
            }
            let snap = stats.snapshot();
            (Some(seen), Some(snap.events_lost_kernel))
        }
        None => (None, None),
    };
    Ok(SpawnRun {
        threads,
        spawned: out.spawned,
        execs_per_second: out.spawned as f64 / out.seconds.max(1e-9),
        cpu_us_per_exec: ((self1 - self0) + (child1 - child0)) * 1e6 / out.spawned.max(1) as f64,
        connector_listening: listen,
        connector_delivered: delivered,
        connector_lost: lost,
        load_average: load_average(),
    })
}

/// Spawns `count` processes with each of `thread_counts` spawning threads (no agent), then
/// once more with the best thread count while a proc connector listener counts their exec
/// events. Needs root for the listener.
pub fn run_limit(count: u64, thread_counts: &[usize]) -> Result<LimitReport, AgentError> {
    let dir = std::env::temp_dir().join(format!("palisade-limit-{}", std::process::id()));
    let io = |e: std::io::Error| AgentError::File {
        path: dir.clone(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let program = dir.join("pal-bench-mark");
    let noisy = spawn::make_marker(&program, std::path::Path::new("/bin/busybox")).map_err(io)?;
    let mut runs = Vec::new();
    for &t in thread_counts {
        runs.push(measure(&program, noisy, count, t, false)?);
    }
    let best = runs
        .iter()
        .max_by(|a, b| a.execs_per_second.total_cmp(&b.execs_per_second))
        .map_or(2, |r| r.threads);
    runs.push(measure(&program, noisy, count, best, true)?);
    let _ = std::fs::remove_dir_all(&dir);
    let limit = runs.iter().map(|r| r.execs_per_second).fold(0.0, f64::max);
    Ok(LimitReport {
        program: if noisy {
            "busybox (no built-in exit program for this architecture)".into()
        } else {
            "built-in static exit program (3 instructions)".into()
        },
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        runs,
        physical_limit_execs_per_second: limit,
    })
}
