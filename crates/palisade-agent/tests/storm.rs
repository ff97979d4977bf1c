//! The exec storm of issue 23 against a real podman container: 500 × `/bin/true` and
//! 500 × `/bin/echo` run from a shell inside it, one rule matching every exec in that container
//! (`container.name = X`). With the eBPF source every exec is alerted with its container, exe
//! and arguments; with the proc connector every exec is still attributed to the container
//! (through the parent when the process was gone), and what could not be read is marked.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Container, TestAgent, unique};

const WAIT: Duration = Duration::from_secs(120);
const EACH: usize = 500;

/// What one storm produced.
struct Storm {
    /// Alerts of the storm rule for our container, by PID.
    alerts: BTreeMap<u64, serde_json::Value>,
    stats: palisade_agent::StatsSnapshot,
    source: &'static str,
}

fn storm(source: &str) -> Storm {
    let _serial = common::serial();
    let name = unique(&format!("storm-{source}"));
    let c = Container::run(&name, &[], &["sleep", "300"]);
    let (_dir, rules) = common::rules_file(&format!(
        "rules:\n  - id: storm-exec\n    description: every exec in the storm container\n    condition: container.name = {name}\n"
    ));
    let agent = TestAgent::start(&format!(
        "source: {source}\nbuiltin_rules: false\nnet_interval_ms: 0\nbaseline:\n  enabled: false\nrules_files: [{}]\n",
        rules.display()
    ));
    let script = format!(
        "i=0; while [ $i -lt {EACH} ]; do /bin/true t$i; i=$((i+1)); done; \
         i=0; while [ $i -lt {EACH} ]; do /bin/echo e$i >/dev/null; i=$((i+1)); done; \
         /bin/sleep 1; true"
    );
    c.exec(&["sh", "-c", &script]);
    // The marker runs last and lives a second (so /proc can be read with either source):
    // once its alert is in, the agent has handled every earlier exec.
    agent.wait_record(WAIT, "the storm's last exec", |v| {
        v["rule"] == "storm-exec" && v["process"]["args"][0] == "/bin/sleep"
    });
    let mut alerts = BTreeMap::new();
    for v in agent.records() {
        if v["rule"] != "storm-exec" {
            continue;
        }
        assert_eq!(v["container"]["id"], c.id.as_str(), "{v}");
        assert_eq!(v["container"]["name"], name.as_str(), "{v}");
        let pid = v["process"]["pid"].as_u64().unwrap();
        assert!(alerts.insert(pid, v).is_none(), "one alert per exec");
    }
    let handle = agent.handle.as_ref().unwrap();
    Storm {
        alerts,
        stats: handle.stats().snapshot(),
        source: handle.source(),
    }
}

/// The storm's execs that were alerted complete: exe, name and arguments exactly.
fn complete(s: &Storm) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    for a in s.alerts.values() {
        let p = &a["process"];
        let Some(program) = p["args"][0].as_str().and_then(|a| a.strip_prefix("/bin/")) else {
            continue;
        };
        let Some(nth) = p["args"][1].as_str() else {
            continue;
        };
        // A record marked incomplete (the exe link gone before it was read, say) is counted
        // by `incomplete`, not here.
        if !matches!(program, "true" | "echo") || p.get("missing").is_some() {
            continue;
        }
        assert_eq!(p["exe"], "/bin/busybox", "{a}");
        assert_eq!(p["name"], program, "{a}");
        assert_eq!(p["args"].as_array().unwrap().len(), 2, "{a}");
        assert!(seen.insert(nth.to_string()), "{a}");
    }
    let expected: std::collections::BTreeSet<String> = (0..EACH)
        .flat_map(|i| [format!("t{i}"), format!("e{i}")])
        .collect();
    assert!(seen.is_subset(&expected));
    seen.len()
}

/// Alerts whose record is marked incomplete.
fn incomplete(s: &Storm) -> Vec<&serde_json::Value> {
    s.alerts
        .values()
        .filter(|v| v["process"]["missing"].is_array())
        .collect()
}

#[test]
fn bpf_source_alerts_every_exec_of_the_storm_with_its_container_exe_and_args() {
    let s = storm("bpf");
    assert_eq!(s.source, "bpf");
    let n = complete(&s);
    eprintln!(
        "bpf source: {n} of {} storm execs alerted complete ({:.2}%); ring buffer drops {}",
        2 * EACH,
        100.0 * n as f64 / (2 * EACH) as f64,
        s.stats.bpf_ring_drops
    );
    assert_eq!(n, 2 * EACH, "every exec, complete");
    assert_eq!(s.stats.bpf_ring_drops, 0);
    assert_eq!(s.stats.event_source_bpf, 1);
    assert_eq!(s.stats.process_gone, 0, "nothing is read from /proc");
    assert!(incomplete(&s).is_empty());
    let shell = s
        .alerts
        .values()
        .find(|a| a["process"]["name"] == "sh")
        .unwrap();
    assert_eq!(shell["process"]["exe"], "/bin/busybox");
}

#[test]
fn proc_source_attributes_every_exec_of_the_storm_to_its_container() {
    let s = storm("proc-connector");
    assert_eq!(s.source, "proc-connector");
    let n = complete(&s);
    let incomplete = incomplete(&s);
    eprintln!(
        "proc source: {n} of {} storm execs alerted complete ({:.2}%), {} more attributed \
         through the parent with fields missing; process_gone {}, incomplete_execs {}, kernel \
         losses {}",
        2 * EACH,
        100.0 * n as f64 / (2 * EACH) as f64,
        incomplete.len(),
        s.stats.process_gone,
        s.stats.incomplete_execs,
        s.stats.events_lost_kernel
    );
    for a in &incomplete {
        assert!(
            a["process"]["missing"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "exe" || m == "args"),
            "{a}"
        );
    }
    assert_eq!(s.stats.event_source_bpf, 0);
    // The execs the kernel reported are alerted with their container: complete, or marked.
    // Under load a rare exec is still missed (998 of 1,000 once, with both cores busy: its
    // process and what the agent knew of its parent were both gone), so the floor is 99%;
    // before attribution through the parent, 95.5% were alerted (issue 23).
    // An exec dropped by a full queue is counted, not silent: it counts as accounted for
    // (the counters name every exec of the machine, so they can only make the floor easier
    // by the few non-storm execs of the same seconds).
    let alerted = (n + incomplete.len()) as u64;
    let counted = s.stats.events_lost_kernel
        + s.stats.events_dropped_queue
        + s.stats.inputs_dropped_queue
        + s.stats.pending_dropped
        + s.stats.outputs_dropped_queue;
    assert!(
        (alerted + counted) * 100 >= 99 * (2 * EACH) as u64 && alerted <= (2 * EACH) as u64,
        "{alerted} of {} execs alerted, {counted} counted as dropped; agent counters: {:?}",
        2 * EACH,
        s.stats
    );
}
