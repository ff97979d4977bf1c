//! Exec event sources. Each runs on its own thread and feeds a bounded queue; when the queue
//! is full the event is dropped and counted, so a flood never grows memory.

pub mod bpf;
pub mod connector;
pub mod poll;

use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError};

use palisade_runtime::Event;
use palisade_runtime::attribution::CgroupAttribution;
use palisade_runtime::event::{ContainerInfo, ProcessInfo, ProcessSummary};

use crate::stats::Stats;

/// An exec event enriched from `/proc` right after it happened.
#[derive(Debug, Clone)]
pub struct EnrichedExec {
    /// `CLOCK_MONOTONIC` ns of the event.
    pub ts_ns: u64,
    /// Wall-clock ms when it was enriched.
    pub time_ms: u64,
    /// The process.
    pub process: ProcessInfo,
    /// Its parent, when known.
    pub parent: Option<ProcessSummary>,
    /// The container its cgroup names, if any.
    pub cgroup: Option<CgroupAttribution>,
}

/// What the processor receives.
#[derive(Debug, Clone)]
pub enum Input {
    /// An enriched exec event.
    Exec(Box<EnrichedExec>),
    /// Events read together (one hand-off for a burst): enriched execs, then exits, each
    /// in order.
    Batch {
        /// Enriched exec events.
        execs: Vec<EnrichedExec>,
        /// PIDs of processes that exited.
        exits: Vec<u32>,
    },
    /// A process exited.
    Exit(u32),
    /// A connection found by a socket-table scan (already enriched).
    Connect(Box<Event>),
    /// Metadata for a container the processor asked about.
    Resolved(Box<ContainerInfo>),
}

/// The sending end of the processor's queue, counting drops.
#[derive(Clone)]
pub struct InputSender {
    tx: SyncSender<Input>,
    stats: Arc<Stats>,
}

impl InputSender {
    /// Wraps a bounded channel's sender.
    pub fn new(tx: SyncSender<Input>, stats: Arc<Stats>) -> InputSender {
        InputSender { tx, stats }
    }

    /// Queues an input, dropping (and counting) it when the queue is full; returns false when
    /// the processor is gone.
    pub fn send(&self, input: Input) -> bool {
        match self.tx.try_send(input) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                Stats::inc(&self.stats.inputs_dropped_queue);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Queues a batch of `len` events as one input; when the queue is full all of them are
    /// dropped and counted. Returns false when the processor is gone.
    pub fn send_batch(&self, input: Input, len: usize) -> bool {
        match self.tx.try_send(input) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                Stats::add(&self.stats.inputs_dropped_queue, len as u64);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Queues an input, waiting for room (for inputs that must not be lost).
    pub fn send_blocking(&self, input: Input) -> bool {
        self.tx.send(input).is_ok()
    }

    /// Queues a connect event; returns false when the processor is gone.
    pub fn send_connect(&self, ev: Event) -> bool {
        Stats::inc(&self.stats.connect_events);
        self.send(Input::Connect(Box::new(ev)))
    }
}

/// A process lifecycle event before enrichment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawEvent {
    /// A process executed a program.
    Exec {
        /// Process (thread group) ID.
        pid: u32,
        /// `CLOCK_MONOTONIC` nanoseconds when the kernel reported it (for the poller: when
        /// it was noticed).
        ts_ns: u64,
    },
    /// A process forked a new process (threads are not reported).
    Fork {
        /// Parent PID.
        parent: u32,
        /// Child PID.
        child: u32,
    },
    /// A process exited.
    Exit {
        /// PID.
        pid: u32,
    },
}

/// The sending end of the event queue, counting drops.
#[derive(Clone)]
pub struct EventSender {
    tx: SyncSender<RawEvent>,
    stats: Arc<Stats>,
}

impl EventSender {
    /// Wraps a bounded channel's sender.
    pub fn new(tx: SyncSender<RawEvent>, stats: Arc<Stats>) -> EventSender {
        EventSender { tx, stats }
    }

    /// Queues an event; returns false when the receiver is gone (time to stop).
    pub fn send(&self, ev: RawEvent) -> bool {
        Stats::inc(&self.stats.events_received);
        match self.tx.try_send(ev) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                Stats::inc(&self.stats.events_dropped_queue);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Queues an event, waiting for room (for injected events that must not be dropped);
    /// returns false when the receiver is gone.
    pub fn send_blocking(&self, ev: RawEvent) -> bool {
        Stats::inc(&self.stats.events_received);
        self.tx.send(ev).is_ok()
    }

    /// The shared counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}
