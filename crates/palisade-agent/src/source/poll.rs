//! The fallback source: scan `/proc` at an interval. A process is reported as executed when
//! its PID is new, its start time changed (PID reuse) or its command name changed (an exec
//! in place). Processes that live shorter than the interval are missed; this source cannot
//! count them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{EventSender, RawEvent};
use crate::clock::monotonic_ns;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    start_ticks: u64,
    comm: String,
}

/// Scans `/proc` once; returns the events since `known` and updates it. On the first scan
/// (`initial`), existing processes are recorded without events.
fn scan(known: &mut HashMap<u32, Seen>, initial: bool) -> Vec<RawEvent> {
    let mut events = Vec::new();
    let mut present: HashMap<u32, Seen> = HashMap::with_capacity(known.len() + 16);
    let Ok(all) = procfs::process::all_processes() else {
        return events;
    };
    for p in all.flatten() {
        let Ok(stat) = p.stat() else { continue };
        let pid = stat.pid as u32;
        let seen = Seen {
            start_ticks: stat.starttime,
            comm: stat.comm,
        };
        if !initial && known.get(&pid) != Some(&seen) {
            events.push(RawEvent::Exec {
                pid,
                ts_ns: monotonic_ns(),
            });
        }
        present.insert(pid, seen);
    }
    for pid in known.keys() {
        if !present.contains_key(pid) {
            events.push(RawEvent::Exit { pid: *pid });
        }
    }
    *known = present;
    events
}

/// Polls until `stop` is set or the queue's receiver is gone.
pub fn run(interval: Duration, out: EventSender, stop: Arc<AtomicBool>) {
    let mut known = HashMap::new();
    scan(&mut known, true);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(interval);
        for ev in scan(&mut known, false) {
            if !out.send(ev) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_exec(events: &[RawEvent], pid: u32) -> bool {
        events
            .iter()
            .any(|e| matches!(e, RawEvent::Exec { pid: p, .. } if *p == pid))
    }

    #[test]
    fn a_new_process_is_reported_once_and_its_exit_too() {
        let mut known = HashMap::new();
        scan(&mut known, true);
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let pid = child.id();
        let events = scan(&mut known, false);
        assert!(has_exec(&events, pid), "{events:?}");
        let again = scan(&mut known, false);
        assert!(!has_exec(&again, pid));
        child.kill().unwrap();
        child.wait().unwrap();
        let after = scan(&mut known, false);
        assert!(after.contains(&RawEvent::Exit { pid }), "{after:?}");
    }
}
