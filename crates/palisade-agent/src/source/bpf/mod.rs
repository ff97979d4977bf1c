//! The eBPF exec source: `bpf/exec.bpf.c` (compiled by `build.rs` and embedded in the binary)
//! is loaded with aya, its BTF tracepoints attached to `sched_process_exec`, `_fork` and
//! `_exit`, and its ring buffer read here. Each exec record carries what the rules need,
//! captured in the kernel when the exec happened ([`record`]), so a process that is gone before
//! user space looks is still described in full; the cgroup ID names the container
//! ([`cgroups`]).
//!
//! Losses are counted in the kernel (a per-CPU counter of failed ring buffer writes) and read
//! into `bpf_ring_drops`.

pub mod cgroups;
pub mod record;

use std::os::fd::AsFd;
use std::time::Duration;

use aya::Btf;
use aya::maps::{MapData, PerCpuArray, RingBuf};
use aya::programs::BtfTracePoint;
use aya::programs::tp_btf::BtfTracePointLink;

use crate::stats::Stats;
pub use record::Record;

/// How long a read waits for the first record before the owner checks its stop flag.
const READ_TIMEOUT: Duration = Duration::from_millis(200);
/// How often the kernel's drop counters are read into `bpf_ring_drops` (three `bpf()` calls,
/// not worth making for every wake-up).
const DROPS_INTERVAL: Duration = Duration::from_millis(250);

/// Bytes aligned for the ELF parser.
#[repr(C, align(8))]
struct Aligned<B: ?Sized> {
    bytes: B,
}

/// The compiled BPF object (empty when clang was missing at build time).
static OBJECT: &Aligned<[u8]> = &Aligned {
    bytes: *include_bytes!(concat!(env!("OUT_DIR"), "/exec.bpf.o")),
};

/// Why the object was not built (empty when it was).
const BUILD_NOTE: &str = include_str!(concat!(env!("OUT_DIR"), "/exec.bpf.note"));

/// The programs and the tracepoints they attach to.
const PROGRAMS: [(&str, &str); 3] = [
    ("palisade_exec", "sched_process_exec"),
    ("palisade_fork", "sched_process_fork"),
    ("palisade_exit", "sched_process_exit"),
];

/// Whether this binary carries the BPF object.
pub fn built_in() -> bool {
    !OBJECT.bytes.is_empty()
}

/// The attached programs and their ring buffer.
pub struct BpfSource {
    ring: RingBuf<MapData>,
    drops: PerCpuArray<MapData, u64>,
    /// When the drop counters were last read.
    drops_read: Option<std::time::Instant>,
    /// The attachments: each holds its program in the kernel, so the parsed object and the
    /// kernel's BTF need not be kept once loading is done.
    _links: Vec<BtfTracePointLink>,
}

impl BpfSource {
    /// Loads the embedded object against the running kernel's BTF and attaches its programs.
    ///
    /// The loading runs on a short-lived thread of its own, so the many small allocations of
    /// parsing the kernel's BTF (some 15 MB) are not mixed into the heap of the thread that
    /// keeps running (the allocator still keeps most of them: docs/benchmarks.md).
    pub fn open() -> Result<BpfSource, String> {
        std::thread::scope(|s| {
            s.spawn(BpfSource::load)
                .join()
                .unwrap_or_else(|_| Err("the loading thread panicked".into()))
        })
    }

    fn load() -> Result<BpfSource, String> {
        if !built_in() {
            return Err(format!("not built into this binary: {}", BUILD_NOTE.trim()));
        }
        let btf = Btf::from_sys_fs().map_err(|e| format!("kernel BTF: {e}"))?;
        let mut ebpf = aya::EbpfLoader::new()
            .btf(Some(&btf))
            .load(&OBJECT.bytes)
            .map_err(|e| format!("loading the BPF object: {e}"))?;
        let mut links = Vec::with_capacity(PROGRAMS.len());
        for (name, tracepoint) in PROGRAMS {
            let program: &mut BtfTracePoint = ebpf
                .program_mut(name)
                .ok_or_else(|| format!("program {name} missing from the object"))?
                .try_into()
                .map_err(|e| format!("program {name}: {e}"))?;
            program
                .load(tracepoint, &btf)
                .map_err(|e| format!("loading {name}: {e}"))?;
            let link = program
                .attach()
                .and_then(|id| program.take_link(id))
                .map_err(|e| format!("attaching {name} to tp_btf/{tracepoint}: {e}"))?;
            links.push(link);
        }
        drop(btf);
        let take = |ebpf: &mut aya::Ebpf, name: &str| {
            ebpf.take_map(name)
                .ok_or_else(|| format!("map {name} missing from the object"))
        };
        let ring = RingBuf::try_from(take(&mut ebpf, "EVENTS")?)
            .map_err(|e| format!("ring buffer: {e}"))?;
        let drops = PerCpuArray::try_from(take(&mut ebpf, "DROPS")?)
            .map_err(|e| format!("drop counters: {e}"))?;
        Ok(BpfSource {
            ring,
            drops,
            drops_read: None,
            _links: links,
        })
    }

    /// Reads what the ring buffer holds: waits up to 200 ms for the first record, then takes
    /// up to `max` without waiting. Also refreshes `bpf_ring_drops` (at most every 250 ms;
    /// [`BpfSource::refresh_drops`] reads them now). Returns the number read.
    pub fn read_batch(&mut self, batch: &mut Vec<Record>, max: usize, stats: &Stats) -> usize {
        let mut read = self.drain(batch, max);
        if read == 0 {
            let fd = self.ring.as_fd();
            let mut fds = [rustix::event::PollFd::new(
                &fd,
                rustix::event::PollFlags::IN,
            )];
            let timeout = rustix::event::Timespec::try_from(READ_TIMEOUT).ok();
            let _ = rustix::event::poll(&mut fds, timeout.as_ref());
            read = self.drain(batch, max);
        }
        if self
            .drops_read
            .is_none_or(|at| at.elapsed() >= DROPS_INTERVAL)
        {
            self.refresh_drops(stats);
        }
        read
    }

    /// Reads the kernel's drop counters into `bpf_ring_drops`.
    pub fn refresh_drops(&mut self, stats: &Stats) {
        self.drops_read = Some(std::time::Instant::now());
        stats
            .bpf_ring_drops
            .store(self.dropped(), std::sync::atomic::Ordering::Relaxed);
    }

    fn drain(&mut self, batch: &mut Vec<Record>, max: usize) -> usize {
        let mut read = 0;
        while read < max {
            let Some(item) = self.ring.next() else { break };
            read += 1;
            if let Some(r) = record::parse(&item) {
                batch.push(r);
            }
        }
        read
    }

    /// Records the kernel side could not write (ring buffer full), over all CPUs and kinds.
    pub fn dropped(&self) -> u64 {
        (1..4u32)
            .filter_map(|kind| self.drops.get(&kind, 0).ok())
            .map(|per_cpu| per_cpu.iter().sum::<u64>())
            .sum()
    }
}
