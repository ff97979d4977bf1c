//! The enricher thread: reads `/proc` for each exec event as soon as it arrives (short-lived
//! processes vanish quickly), keeps the process table for parent lookups, and reads the
//! cgroup that names the container. Slow work (engine metadata) is left to the processor.
//!
//! With the eBPF source the exec record already holds everything (see [`crate::source::bpf`]):
//! it is turned into the same [`EnrichedExec`] without reading `/proc`, and the cgroup ID is
//! mapped to the container. A process gone before `/proc` could be read (proc connector) is
//! still reported when its fork was seen: attributed through the parent's cgroup (a child
//! inherits it at fork), with the fields that could not be read listed as missing.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use palisade_runtime::attribution::{CgroupAttribution, attribute_cgroup_file};
use palisade_runtime::event::ProcessSummary;

use palisade_runtime::event::ProcessInfo;

use crate::clock::{BootClock, monotonic_ns, now_ms};
use crate::procinfo::{ProcReader, bound_args, program_name, read_summary};
use crate::source::bpf::cgroups::CgroupMap;
use crate::source::bpf::record::ExecRecord;
use crate::source::bpf::{BpfSource, Record};
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

/// What the enricher remembers of a process (for its children's execs).
#[derive(Debug, Clone)]
struct Known {
    summary: ProcessSummary,
    /// Parent PID (0: not known).
    ppid: u32,
    /// The container its cgroup names (inherited at fork).
    cgroup: Option<CgroupAttribution>,
}

/// Enriches raw events into processor inputs.
pub struct Enricher {
    boot: BootClock,
    reader: ProcReader,
    procs: HashMap<u32, Known>,
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
            let cgroup = cgroup_of(pid);
            if let Some(summary) = read_summary(pid) {
                let known = Known {
                    summary,
                    ppid: 0,
                    cgroup: cgroup.clone(),
                };
                self.remember(pid, known);
            }
            if let Some(a) = cgroup {
                in_containers.push((pid, a));
            }
        }
        in_containers
    }

    fn remember(&mut self, pid: u32, known: Known) {
        if self.procs.len() >= MAX_PROCESSES && !self.procs.contains_key(&pid) {
            Stats::inc(&self.stats.process_table_full);
            return;
        }
        self.procs.insert(pid, known);
    }

    fn parent_summary(&self, ppid: u32) -> Option<ProcessSummary> {
        self.procs
            .get(&ppid)
            .map(|k| k.summary.clone())
            .or_else(|| read_summary(ppid))
    }

    /// The cgroup a process inherited: the one its fork recorded, else its parent's (an
    /// exec does not change a process's cgroup).
    fn inherited_cgroup(&self, pid: u32, ppid: u32) -> Option<CgroupAttribution> {
        self.procs
            .get(&pid)
            .or_else(|| self.procs.get(&ppid))
            .and_then(|k| k.cgroup.clone())
    }

    /// Reads an exec'd process from `/proc` (counting it, or counting it as gone).
    fn enrich_exec(&mut self, pid: u32, ts_ns: u64) -> Option<EnrichedExec> {
        if pid == self.own_pid {
            return None;
        }
        Stats::inc(&self.stats.exec_events);
        self.stats
            .read_latency
            .record_ns(monotonic_ns().saturating_sub(ts_ns));
        let Some((process, cgroup_text)) = self.reader.read(pid, &self.boot) else {
            Stats::inc(&self.stats.process_gone);
            return self.incomplete_exec(pid, ts_ns);
        };
        let cgroup = if cgroup_text.is_empty() {
            // It exited before its cgroup file was read: the cgroup it inherited.
            self.inherited_cgroup(pid, process.ppid)
        } else {
            attribute_cgroup_file(cgroup_text)
        };
        let parent = self.parent_summary(process.ppid);
        Some(self.finish(ts_ns, process, parent, cgroup))
    }

    /// Remembers an exec'd process and wraps it for the processor.
    fn finish(
        &mut self,
        ts_ns: u64,
        process: ProcessInfo,
        parent: Option<ProcessSummary>,
        cgroup: Option<CgroupAttribution>,
    ) -> EnrichedExec {
        let known = Known {
            summary: process.summary(),
            ppid: process.ppid,
            cgroup: cgroup.clone(),
        };
        self.remember(process.pid, known);
        EnrichedExec {
            ts_ns,
            time_ms: now_ms(),
            process,
            parent,
            cgroup,
        }
    }

    /// An exec whose process was gone before `/proc` could be read: reported when its fork
    /// was seen (the table then holds its parent and the cgroup it inherited), with every
    /// field that only `/proc` could give listed as missing.
    fn incomplete_exec(&mut self, pid: u32, ts_ns: u64) -> Option<EnrichedExec> {
        let known = self.procs.remove(&pid)?;
        Stats::inc(&self.stats.incomplete_execs);
        let parent = self.parent_summary(known.ppid);
        let process = ProcessInfo {
            pid,
            ppid: known.ppid,
            missing: ["name", "exe", "args", "cwd", "uid", "stdio", "start_time"]
                .map(String::from)
                .to_vec(),
            ..ProcessInfo::default()
        };
        Some(EnrichedExec {
            ts_ns,
            time_ms: now_ms(),
            process,
            parent,
            cgroup: known.cgroup,
        })
    }

    /// Turns an exec record of the eBPF source into an enriched exec, without reading
    /// `/proc` (the record holds what was true at the exec).
    fn enrich_record(&mut self, cgroups: &mut CgroupMap, r: ExecRecord) -> Option<EnrichedExec> {
        if r.pid == self.own_pid {
            return None;
        }
        Stats::inc(&self.stats.exec_events);
        self.stats
            .read_latency
            .record_ns(monotonic_ns().saturating_sub(r.ts_ns));
        let cgroup = cgroups
            .attribution(r.cgroup_id)
            // The cgroup was removed before it could be mapped: the one it inherited.
            .or_else(|| self.inherited_cgroup(r.pid, r.ppid));
        let parent = self.parent_summary(r.ppid);
        let args = bound_args(r.args);
        let exe = if r.exe.is_empty() { r.filename } else { r.exe };
        let mut missing: Vec<String> = r.truncated.iter().map(|f| f.to_string()).collect();
        if exe.is_empty() {
            missing.push("exe".into());
        }
        let start_ticks = self.boot.ns_to_ticks(r.start_boottime_ns);
        let [stdin, stdout, stderr] = r.stdio;
        let process = ProcessInfo {
            pid: r.pid,
            vpid: (r.vpid != 0).then_some(r.vpid),
            ppid: r.ppid,
            uid: r.uid,
            euid: r.euid,
            gid: r.gid,
            name: program_name(r.comm, &exe, &args),
            exe,
            args,
            cwd: r.cwd,
            start_time_ms: self.boot.ticks_to_ms(start_ticks),
            start_ticks,
            exe_setuid: r.exe_mode & 0o4000 != 0,
            exe_setgid: r.exe_mode & 0o2000 != 0,
            stdin,
            stdout,
            stderr,
            missing,
        };
        Some(self.finish(r.ts_ns, process, parent, cgroup))
    }

    fn on_fork(&mut self, parent: u32, child: u32) {
        if let Some(k) = self.procs.get(&parent).cloned() {
            let known = Known {
                summary: ProcessSummary {
                    pid: child,
                    ..k.summary
                },
                ppid: parent,
                cgroup: k.cgroup,
            };
            self.remember(child, known);
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
                && !self.push_exec(&mut execs, e)
            {
                return false;
            }
        }
        let exits = batch
            .iter()
            .filter_map(|ev| match ev {
                RawEvent::Exit { pid } => Some(*pid),
                _ => None,
            })
            .collect();
        self.send_rest(execs, exits)
    }

    /// Adds an exec to the group being gathered, handing the group on when it is full.
    /// Returns false when the processor is gone.
    fn push_exec(&mut self, execs: &mut Vec<EnrichedExec>, e: EnrichedExec) -> bool {
        execs.push(e);
        if execs.len() < EXEC_GROUP {
            return true;
        }
        let input = Input::Batch {
            execs: std::mem::take(execs),
            exits: Vec::new(),
        };
        self.out.send_batch(input, EXEC_GROUP)
    }

    /// Forgets the exited processes and hands on what is left of a batch. Returns false when
    /// the processor is gone.
    fn send_rest(&mut self, execs: Vec<EnrichedExec>, exits: Vec<u32>) -> bool {
        for pid in &exits {
            self.procs.remove(pid);
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

    /// Reads the eBPF ring buffer and handles its records on this thread in batches, as
    /// [`Enricher::run_connector`] does the connector's, until `stop` is set or the
    /// processor is gone.
    pub fn run_bpf(mut self, mut source: BpfSource, mut cgroups: CgroupMap, stop: Arc<AtomicBool>) {
        let mut batch = Vec::with_capacity(CONNECTOR_BATCH);
        while !stop.load(Ordering::Relaxed) {
            batch.clear();
            source.read_batch(&mut batch, CONNECTOR_BATCH, &self.stats);
            Stats::add(&self.stats.events_received, batch.len() as u64);
            if !self.handle_records(&mut cgroups, &mut batch) {
                break;
            }
        }
        source.refresh_drops(&self.stats);
    }

    /// Handles a batch of eBPF records in their order (the ring buffer keeps the kernel's
    /// order across CPUs): forks and execs update the table as they come, execs are handed
    /// on in groups of at most [`EXEC_GROUP`], exits after them.
    fn handle_records(&mut self, cgroups: &mut CgroupMap, batch: &mut Vec<Record>) -> bool {
        let mut execs = Vec::new();
        let mut exits = Vec::new();
        for r in batch.drain(..) {
            match r {
                Record::Fork { parent, child } => self.on_fork(parent, child),
                Record::Exec(r) => {
                    if let Some(e) = self.enrich_record(cgroups, *r)
                        && !self.push_exec(&mut execs, e)
                    {
                        return false;
                    }
                }
                Record::Exit { pid } => exits.push(pid),
            }
        }
        self.send_rest(execs, exits)
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
