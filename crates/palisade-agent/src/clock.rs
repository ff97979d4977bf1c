//! Clocks: wall time for records, the monotonic clock the proc connector stamps events with.

use palisade_model::time::{Clock, SystemClock};

/// Milliseconds since the Unix epoch, from the workspace's one wall clock.
pub fn now_ms() -> u64 {
    SystemClock.now().unix_ms_unsigned().unwrap_or(0)
}

/// `CLOCK_MONOTONIC` in nanoseconds: the clock of the proc connector's `timestamp_ns`.
pub fn monotonic_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
}

/// Converts process start times (clock ticks since boot) to wall-clock milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct BootClock {
    boot_ms: u64,
    ticks_per_second: u64,
}

impl BootClock {
    /// Reads the boot time from `/proc/stat` and the tick rate (`sysconf(_SC_CLK_TCK)`).
    pub fn read() -> BootClock {
        let boot_ms = procfs::boot_time_secs().map_or(0, |s| s * 1000);
        let ticks_per_second = procfs::ticks_per_second().max(1);
        BootClock {
            boot_ms,
            ticks_per_second,
        }
    }

    /// Clock ticks of a time in nanoseconds since boot (as `/proc/PID/stat` rounds a process's
    /// start time).
    pub fn ns_to_ticks(&self, ns: u64) -> u64 {
        ns / (1_000_000_000 / self.ticks_per_second)
    }

    /// Wall-clock milliseconds of a start time in ticks since boot.
    pub fn ticks_to_ms(&self, ticks: u64) -> u64 {
        self.boot_ms + ticks.saturating_mul(1000) / self.ticks_per_second
    }
}
