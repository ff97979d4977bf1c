//! The proc connector path end to end: real short-lived processes (the benchmark's tiny
//! exit program), read by the agent's connector thread and alerted on by a rule; and
//! the agent's threads running at the configured niceness. Needs root (the proc connector
//! and negative niceness).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::TestAgent;
use palisade_agent::bench::spawn::make_marker;

/// A numeric field of `/proc/self/task/TID/stat` (numbered as in proc(5)) of this process's
/// threads, by name.
fn thread_stat_field(field: usize) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        // rest starts at field 3.
        if let Some(v) = rest
            .split_whitespace()
            .nth(field - 3)
            .and_then(|v| v.parse().ok())
        {
            out.push((comm.trim().to_string(), v));
        }
    }
    out
}

/// Niceness (field 19 of `/proc/self/task/TID/stat`) of this process's threads, by name.
fn thread_niceness() -> Vec<(String, i64)> {
    thread_stat_field(19)
}

/// Scheduling policy (field 41: 0 normal, 1 `SCHED_FIFO`) of this process's agent threads.
fn agent_thread_policies() -> Vec<(String, i64)> {
    thread_stat_field(41)
        .into_iter()
        .filter(|(n, _)| n.starts_with("palisade-"))
        .collect()
}

/// The exec pipeline's threads run under `SCHED_FIFO` (ahead of every normal task on a
/// saturated node: niceness only orders threads within one cgroup or autogroup), the others
/// as normal tasks; `realtime: false` leaves them all normal.
#[test]
fn pipeline_threads_run_under_sched_fifo_unless_turned_off() {
    let _serial = common::serial();
    for (realtime, want) in [(true, 1), (false, 0)] {
        let agent = TestAgent::start_quiet(&format!(
            "source: proc-connector\nbuiltin_rules: false\nnet_interval_ms: 0\nrealtime: {realtime}\n"
        ));
        common::wait_until(Duration::from_secs(10), "the agent's threads", || {
            let threads = agent_thread_policies();
            threads.len() >= 5
                && ["source", "processor", "writer"].iter().all(|n| {
                    threads
                        .iter()
                        .any(|(t, p)| format!("palisade-{n}").starts_with(t.as_str()) && *p == want)
                })
        });
        for (name, policy) in agent_thread_policies() {
            let pipeline = ["palisade-source", "palisade-processor", "palisade-writer"]
                .iter()
                .any(|p| p.starts_with(&name));
            let expected = if pipeline { want } else { 0 };
            assert_eq!(policy, expected, "{name} (realtime: {realtime})");
        }
        drop(agent);
    }
}

#[test]
fn every_short_lived_process_is_alerted_with_its_identity() {
    let _serial = common::serial();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pal-conn-mark");
    let noisy = make_marker(&marker, std::path::Path::new("/bin/busybox")).unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        "rules:\n  - id: conn-marker\n    description: connector test marker\n    condition: proc.name = pal-conn-mark\n",
    )
    .unwrap();
    let agent = TestAgent::start(&format!(
        "source: proc-connector\nbuiltin_rules: false\nnet_interval_ms: 0\nbaseline:\n  enabled: false\nrules_files: [{}]\n",
        rules.display()
    ));
    // Children are kept unreaped (zombies) until their alerts are in, so every one of them
    // can still be read however late the agent gets to it.
    let mut children = Vec::new();
    for _ in 0..300 {
        let mut cmd = std::process::Command::new(&marker);
        if noisy {
            cmd.stderr(std::process::Stdio::null());
        }
        children.push(cmd.spawn().unwrap());
    }
    let spawned: BTreeSet<u32> = children.iter().map(|c| c.id()).collect();
    common::wait_until(Duration::from_secs(30), "300 alerts", || {
        agent
            .records()
            .iter()
            .filter(|v| v["rule"] == "conn-marker")
            .count()
            >= 300
    });
    let alerts: Vec<_> = agent
        .records()
        .into_iter()
        .filter(|v| v["rule"] == "conn-marker")
        .collect();
    let alerted: BTreeSet<u32> = alerts
        .iter()
        .map(|v| v["process"]["pid"].as_u64().unwrap() as u32)
        .collect();
    assert_eq!(
        alerted, spawned,
        "one alert per process, for exactly those processes"
    );
    let me = std::process::id();
    for a in &alerts {
        assert_eq!(a["process"]["name"], "pal-conn-mark");
        assert_eq!(a["process"]["ppid"].as_u64(), Some(u64::from(me)));
        // The parent (this test process) comes from the agent's process table.
        assert_eq!(a["parent"]["pid"].as_u64(), Some(u64::from(me)));
        assert!(a["process"]["start_ticks"].as_u64().unwrap() > 0);
    }
    let stats = agent.handle.as_ref().unwrap().stats().snapshot();
    assert_eq!(stats.inputs_dropped_queue, 0);
    // Records hold command lines: the files are the owner's alone.
    use std::os::unix::fs::PermissionsExt;
    for path in [agent.alerts_path(), agent.flows_path()] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }
    for mut c in children {
        c.wait().unwrap();
    }
}

#[test]
fn agent_threads_run_at_the_configured_niceness() {
    let _serial = common::serial();
    let before: Vec<_> = thread_niceness();
    let agent = TestAgent::start_quiet(
        "source: proc-connector\nbuiltin_rules: false\nnet_interval_ms: 0\nnice: -7\n",
    );
    // A new thread takes its name (and then its niceness) once it first runs: wait until the
    // agent's threads have all started under their names.
    common::wait_until(Duration::from_secs(10), "the agent's threads", || {
        let threads = thread_niceness();
        let named: Vec<_> = threads
            .iter()
            .filter(|(n, _)| n.starts_with("palisade-"))
            .collect();
        named.len() >= 5 && named.iter().all(|(_, nice)| *nice == -7)
    });
    let threads = thread_niceness();
    let agent_threads: Vec<_> = threads
        .iter()
        .filter(|(name, _)| name.starts_with("palisade-"))
        .collect();
    assert!(agent_threads.len() >= 5, "{threads:?}");
    for (name, nice) in &agent_threads {
        assert_eq!(*nice, -7, "{name}");
    }
    // The caller's own threads keep their niceness.
    for (name, nice) in threads.iter().filter(|(n, _)| !n.starts_with("palisade-")) {
        if let Some((_, was)) = before.iter().find(|(n, _)| n == name) {
            assert_eq!(nice, was, "{name}");
        }
    }
    drop(agent);
}
