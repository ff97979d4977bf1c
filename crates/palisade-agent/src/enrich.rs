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
use crate::procinfo::{ProcReader, read_summary};
use crate::source::connector::ProcConnector;
use crate::source::{EnrichedExec, Input, InputSender, RawEvent};
use crate::stats::Stats;

/// Most processes remembered for parent lookups.
const MAX_PROCESSES: usize = 131_072;
/// Most connector messages read before the events are handled.
const CONNECTOR_BATCH: usize = 256;
/// Most enriched execs handed to the processor at once (bounds the wait of the first).
pub const EXEC_GROUP: usize = 32;

/// The container a process's cgroup names (`None`: host process, or gone).
pub fn cgroup_of(pid: u32) -> Option<CgroupAttribution> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    attribute_cgroup_file(&text)
}

/// Enriches raw events into processor inputs.
pub struct Enricher {
    boot: BootClock,
    reader: ProcReader,
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
            reader: ProcReader::default(),
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

    /// Reads an exec'd process from `/proc` (counting it, or counting it as gone).
    fn enrich_exec(&mut self, pid: u32, ts_ns: u64) -> Option<EnrichedExec> {
        if pid == self.own_pid {
            return None;
        }
        Stats::inc(&self.stats.exec_events);
        let Some((process, cgroup_text)) = self.reader.read(pid, &self.boot) else {
            Stats::inc(&self.stats.process_gone);
            self.procs.remove(&pid);
            return None;
        };
        let cgroup = attribute_cgroup_file(cgroup_text);
        let parent = self
            .procs
            .get(&process.ppid)
            .cloned()
            .or_else(|| read_summary(process.ppid));
        self.remember(pid, process.summary());
        Some(EnrichedExec {
            ts_ns,
            time_ms: now_ms(),
            process,
            parent,
            cgroup,
        })
    }

    fn on_fork(&mut self, parent: u32, child: u32) {
        if let Some(s) = self.procs.get(&parent).cloned() {
            self.remember(child, ProcessSummary { pid: child, ..s });
        }
    }

    /// Handles one raw event; returns false when the processor is gone.
    pub fn handle(&mut self, ev: RawEvent) -> bool {
        match ev {
            RawEvent::Exec { pid, ts_ns } => match self.enrich_exec(pid, ts_ns) {
                Some(e) => self.out.send(Input::Exec(Box::new(e))),
                None => true,
            },
            RawEvent::Fork { parent, child } => {
                self.on_fork(parent, child);
                true
            }
            RawEvent::Exit { pid } => {
                self.procs.remove(&pid);
                self.out.send(Input::Exit(pid))
            }
        }
    }

    /// Handles a batch of raw events: forks first (parents for the execs), then execs
    /// (their processes may be about to vanish), then exits; they reach the processor as
    /// one input (execs in groups of at most [`EXEC_GROUP`]). Returns false when the
    /// processor is gone.
    pub fn handle_batch(&mut self, batch: &[RawEvent]) -> bool {
        for ev in batch {
            if let RawEvent::Fork { parent, child } = ev {
                self.on_fork(*parent, *child);
            }
        }
        let mut execs = Vec::new();
        for ev in batch {
            if let RawEvent::Exec { pid, ts_ns } = ev
                && let Some(e) = self.enrich_exec(*pid, *ts_ns)
            {
                execs.push(e);
                if execs.len() == EXEC_GROUP {
                    let input = Input::Batch {
                        execs: std::mem::take(&mut execs),
                        exits: Vec::new(),
                    };
                    if !self.out.send_batch(input, EXEC_GROUP) {
                        return false;
                    }
                }
            }
        }
        let mut exits = Vec::new();
        for ev in batch {
            if let RawEvent::Exit { pid } = ev {
                self.procs.remove(pid);
                exits.push(*pid);
            }
        }
        if execs.is_empty() && exits.is_empty() {
            return true;
        }
        let n = execs.len() + exits.len();
        self.out.send_batch(Input::Batch { execs, exits }, n)
    }

    /// Reads the proc connector and handles its events on this thread in batches (see
    /// [`Enricher::handle_batch`]), until `stop` is set or the processor is gone. Handling events where they are read (instead of queueing
    /// them for another thread) reads `/proc` as early as possible, before short-lived
    /// processes vanish, and saves a thread hand-off per event; bursts wait in the socket's
    /// receive buffer, whose overflows are counted.
    pub fn run_connector(mut self, mut connector: ProcConnector, stop: Arc<AtomicBool>) {
        let mut batch = Vec::with_capacity(CONNECTOR_BATCH);
        while !stop.load(Ordering::Relaxed) {
            batch.clear();
            connector.read_batch(&mut batch, CONNECTOR_BATCH, &self.stats);
            Stats::add(&self.stats.events_received, batch.len() as u64);
            if !self.handle_batch(&batch) {
                return;
            }
        }
    }

    /// Runs until the source is gone or `stop` is set (then drains what is queued). Events
    /// waiting in the queue are taken together (up to a connector batch) and handled as one
    /// batch.
    pub fn run(mut self, rx: Receiver<RawEvent>, stop: Arc<AtomicBool>) {
        let mut batch = Vec::with_capacity(CONNECTOR_BATCH);
        loop {
            batch.clear();
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(ev) => {
                    batch.push(ev);
                    while batch.len() < CONNECTOR_BATCH {
                        let Ok(ev) = rx.try_recv() else { break };
                        batch.push(ev);
                    }
                    if !self.handle_batch(&batch) {
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
