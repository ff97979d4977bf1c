//! The enricher thread: reads `/proc` for each exec event as soon as it arrives (short-lived
//! processes vanish quickly), keeps the process table for parent lookups, and reads the
//! cgroup that names the container. Slow work (engine metadata) is left to the processor.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use palisade_runtime::attribution::{CgroupAttribution, attribute_cgroup_file};
use palisade_runtime::event::ProcessSummary;

use crate::clock::{BootClock, now_ms};
use crate::procinfo::{read_process_and_cgroup, read_summary};
use crate::source::{EnrichedExec, Input, InputSender, RawEvent};
use crate::stats::Stats;

/// Most processes remembered for parent lookups.
const MAX_PROCESSES: usize = 131_072;

/// The container a process's cgroup names (`None`: host process, or gone).
pub fn cgroup_of(pid: u32) -> Option<CgroupAttribution> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    attribute_cgroup_file(&text)
}

/// Enriches raw events into processor inputs.
pub struct Enricher {
    boot: BootClock,
    procs: HashMap<u32, ProcessSummary>,
    out: InputSender,
    stats: Arc<Stats>,
    own_pid: u32,
}

impl Enricher {
    /// A new enricher.
    pub fn new(out: InputSender, stats: Arc<Stats>) -> Enricher {
        Enricher {
            boot: BootClock::read(),
            procs: HashMap::new(),
            out,
            stats,
            own_pid: std::process::id(),
        }
    }

    /// Remembers every running process; returns the ones in containers.
    pub fn scan_existing(&mut self) -> Vec<(u32, CgroupAttribution)> {
        let mut in_containers = Vec::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return in_containers;
        };
        for e in entries.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(s) = read_summary(pid) {
                self.remember(pid, s);
            }
            if let Some(a) = cgroup_of(pid) {
                in_containers.push((pid, a));
            }
        }
        in_containers
    }

    fn remember(&mut self, pid: u32, s: ProcessSummary) {
        if self.procs.len() >= MAX_PROCESSES && !self.procs.contains_key(&pid) {
            Stats::inc(&self.stats.process_table_full);
            return;
        }
        self.procs.insert(pid, s);
    }

    /// Handles one raw event; returns false when the processor is gone.
    pub fn handle(&mut self, ev: RawEvent) -> bool {
        match ev {
            RawEvent::Exec { pid, ts_ns } => {
                if pid == self.own_pid {
                    return true;
                }
                Stats::inc(&self.stats.exec_events);
                let Some((process, cgroup_text)) = read_process_and_cgroup(pid, &self.boot) else {
                    Stats::inc(&self.stats.process_gone);
                    self.procs.remove(&pid);
                    return true;
                };
                let cgroup = attribute_cgroup_file(&cgroup_text);
                let parent = self
                    .procs
                    .get(&process.ppid)
                    .cloned()
                    .or_else(|| read_summary(process.ppid));
                self.remember(pid, process.summary());
                self.out.send(Input::Exec(Box::new(EnrichedExec {
                    ts_ns,
                    time_ms: now_ms(),
                    process,
                    parent,
                    cgroup,
                })))
            }
            RawEvent::Fork { parent, child } => {
                if let Some(s) = self.procs.get(&parent).cloned() {
                    self.remember(child, ProcessSummary { pid: child, ..s });
                }
                true
            }
            RawEvent::Exit { pid } => {
                self.procs.remove(&pid);
                self.out.send(Input::Exit(pid))
            }
        }
    }

    /// Runs until the source is gone or `stop` is set (then drains what is queued).
    pub fn run(mut self, rx: Receiver<RawEvent>, stop: Arc<AtomicBool>) {
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(ev) => {
                    if !self.handle(ev) {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if stop.load(Ordering::Relaxed) {
                while let Ok(ev) = rx.try_recv() {
                    self.handle(ev);
                }
                return;
            }
        }
    }
}
