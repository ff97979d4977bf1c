//! Counters shared by the agent's threads. Every bounded queue has a drop counter.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

macro_rules! counters {
    ($( $name:ident : $doc:literal ),* $(,)?) => {
        /// Live counters (atomics, updated by the agent's threads).
        #[derive(Debug, Default)]
        pub struct Stats {
            $( #[doc = $doc] pub $name: AtomicU64, )*
            /// Event-to-alert latency.
            pub latency: LatencyHistogram,
            /// Exec event to its record read from the source (the first stage of `latency`).
            pub read_latency: LatencyHistogram,
            /// Exec event to its evaluation by the processor (source and queue hand-off).
            pub processor_latency: LatencyHistogram,
        }

        /// A copy of the counters at one moment.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        pub struct StatsSnapshot {
            $( #[doc = $doc] pub $name: u64, )*
            /// Event-to-alert latency percentiles, in microseconds.
            pub latency_us: LatencySummary,
            /// Exec event to read from the source, percentiles in microseconds.
            pub read_latency_us: LatencySummary,
            /// Exec event to evaluation by the processor, percentiles in microseconds.
            pub processor_latency_us: LatencySummary,
        }

        impl Stats {
            /// Reads every counter.
            pub fn snapshot(&self) -> StatsSnapshot {
                StatsSnapshot {
                    $( $name: self.$name.load(Ordering::Relaxed), )*
                    latency_us: self.latency.summary(),
                    read_latency_us: self.read_latency.summary(),
                    processor_latency_us: self.processor_latency.summary(),
                }
            }
        }
    };
}

counters! {
    events_received: "Raw events read from the source (exec, fork, exit).",
    exec_events: "Exec events processed.",
    events_dropped_queue: "Raw events dropped because the event queue was full.",
    events_lost_kernel: "Events the kernel reported lost (receive-buffer overruns and sequence gaps).",
    source_overruns: "Times the source socket's receive buffer overflowed (ENOBUFS).",
    process_gone: "Exec events whose process exited before /proc could be read.",
    incomplete_execs: "Exec events reported with fields missing (process gone before /proc was read), attributed through the parent.",
    event_source_bpf: "1 while the eBPF exec capture is the event source (0: proc connector or /proc polling).",
    bpf_ring_drops: "Records the eBPF programs could not write because their ring buffer was full (kernel per-CPU counters).",
    process_table_full: "Processes not remembered because the process table was full.",
    inputs_dropped_queue: "Enriched events dropped because the processor's queue was full.",
    pending_dropped: "Events of a container awaiting metadata dropped because its pending list was full.",
    connect_events: "Connection events produced by socket-table scans.",
    rule_matches: "Rule matches (alerts raised by rules).",
    baseline_anomalies: "Processes outside a locked baseline.",
    alerts_written: "Alert records written.",
    outputs_dropped_queue: "Alert, response or flow records dropped because the output queue was full.",
    webhook_sent: "Alerts delivered to the webhook.",
    webhook_failed: "Webhook deliveries that failed.",
    webhook_dropped_queue: "Alerts not sent to the webhook because its queue was full.",
    responses_done: "Responses carried out.",
    responses_failed: "Responses that failed.",
    responses_skipped: "Responses refused by a guard.",
    responses_dropped_queue: "Responses dropped because the response queue was full.",
    flows_written: "Flow records written.",
    metadata_lookups: "Container metadata lookups (cache misses).",
    metadata_failures: "Container metadata lookups that found nothing.",
    state_saves: "Times baselines and findings were saved.",
    state_save_failures: "Failed saves.",
    central_sent: "Records (alerts, flows) central acknowledged.",
    central_failed: "Deliveries to central that failed (retried later from the spool).",
    central_rejected: "Records central refused (4xx other than 429); not retried.",
    central_spool_dropped: "Records dropped because the spool for central was full (oldest first).",
    central_dropped_queue: "Records not handed to the central sender because its queue was full.",
    central_spooled_batches: "Batches waiting in the spool for central (at the last change).",
    central_spooled_records: "Records waiting in the spool for central (at the last change).",
}

impl Stats {
    /// Adds one to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records what waits in the spool for central.
    pub fn set_spooled(&self, batches: u64, records: u64) {
        self.central_spooled_batches
            .store(batches, Ordering::Relaxed);
        self.central_spooled_records
            .store(records, Ordering::Relaxed);
    }

    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// Width of one latency bucket, in nanoseconds (50 µs).
pub const LATENCY_BUCKET_NS: u64 = 50_000;
/// Number of latency buckets (covering 0 to 500 ms; slower alerts land in the last one).
pub const LATENCY_BUCKETS: usize = 10_000;

/// A fixed-bucket histogram of event-to-alert latency (50 µs resolution).
#[derive(Debug)]
pub struct LatencyHistogram {
    buckets: Vec<AtomicU64>,
    max_ns: AtomicU64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            buckets: (0..LATENCY_BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max_ns: AtomicU64::new(0),
        }
    }
}

/// Latency percentiles (upper bucket bounds) in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LatencySummary {
    /// Alerts measured.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest seen.
    pub max: u64,
}

impl LatencyHistogram {
    /// Records one latency.
    pub fn record_ns(&self, ns: u64) {
        let i = ((ns / LATENCY_BUCKET_NS) as usize).min(LATENCY_BUCKETS - 1);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.max_ns.fetch_max(ns, Ordering::Relaxed);
    }

    /// Percentiles of what was recorded.
    pub fn summary(&self) -> LatencySummary {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        let pct = |p: f64| -> u64 {
            if total == 0 {
                return 0;
            }
            let want = ((total as f64) * p).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= want {
                    return (i as u64 + 1) * LATENCY_BUCKET_NS / 1000;
                }
            }
            LATENCY_BUCKETS as u64 * LATENCY_BUCKET_NS / 1000
        };
        LatencySummary {
            count: total,
            p50: pct(0.50),
            p90: pct(0.90),
            p99: pct(0.99),
            max: self.max_ns.load(Ordering::Relaxed) / 1000,
        }
    }
}

impl Stats {
    /// Records one event-to-alert latency.
    pub fn record_latency_ns(&self, ns: u64) {
        self.latency.record_ns(ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_upper_bucket_bounds() {
        let h = LatencyHistogram::default();
        for _ in 0..98 {
            h.record_ns(10_000); // bucket 0: up to 50 us
        }
        h.record_ns(1_000_000); // 1 ms -> bucket 20 -> 1050 us
        h.record_ns(2_000_000_000); // beyond range -> last bucket
        let s = h.summary();
        assert_eq!(s.count, 100);
        assert_eq!(s.p50, 50);
        assert_eq!(s.p99, 1050);
        assert_eq!(s.max, 2_000_000);
        assert_eq!(
            LatencyHistogram::default().summary(),
            LatencySummary::default()
        );
    }
}
