//! Prometheus metrics in the text exposition format (version 0.0.4), written by hand over
//! atomic counters: no allocation or lock on the request path.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::decide::{Decision, Outcome};

/// Paths the server counts separately.
pub const PATHS: [&str; 5] = ["/validate", "/healthz", "/readyz", "/metrics", "other"];
/// HTTP status codes the server answers with.
pub const CODES: [u16; 9] = [200, 400, 404, 405, 408, 413, 500, 503, 504];
/// Upper bounds (seconds) of the latency histogram buckets.
pub const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Why a review was turned away with 503 before being decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overload {
    /// Every decision thread busy and the queue full.
    QueueFull,
    /// The review deadline passed while it waited for a decision thread.
    QueueTimeout,
}

impl Overload {
    /// Both reasons, in metrics order.
    pub const ALL: [Overload; 2] = [Overload::QueueFull, Overload::QueueTimeout];

    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Overload::QueueFull => "queue_full",
            Overload::QueueTimeout => "queue_timeout",
        }
    }

    /// A sentence for the 503 body.
    pub fn describe(self) -> &'static str {
        match self {
            Overload::QueueFull => "every decision thread is busy and the decision queue is full",
            Overload::QueueTimeout => "no decision thread was free before the review deadline",
        }
    }
}

/// Every counter and gauge of the webhook.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [[AtomicU64; CODES.len() + 1]; PATHS.len()],
    decisions: [AtomicU64; Outcome::ALL.len()],
    dry_run: AtomicU64,
    overloads: [AtomicU64; Overload::ALL.len()],
    in_flight: AtomicI64,
    findings: [AtomicU64; 3],
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_nanos: AtomicU64,
    tls_reloads: [AtomicU64; 2],
    tls_handshake_failures: AtomicU64,
    connections_open: AtomicI64,
    connections_total: AtomicU64,
    connections_refused: AtomicU64,
}

impl Metrics {
    /// Counts one HTTP response.
    pub fn request(&self, path: &str, code: u16) {
        let p = PATHS
            .iter()
            .position(|x| *x == path)
            .unwrap_or(PATHS.len() - 1);
        let c = CODES.iter().position(|x| *x == code).unwrap_or(CODES.len());
        self.requests[p][c].fetch_add(1, Relaxed);
    }

    /// Counts one admission decision and the time it took to answer.
    pub fn decision(&self, d: &Decision, elapsed: Duration) {
        let i = Outcome::ALL
            .iter()
            .position(|o| *o == d.outcome)
            .unwrap_or(0);
        self.decisions[i].fetch_add(1, Relaxed);
        if d.dry_run {
            self.dry_run.fetch_add(1, Relaxed);
        }
        for (slot, n) in [d.counts.enforce, d.counts.warn, d.counts.audit]
            .into_iter()
            .enumerate()
        {
            if n > 0 {
                self.findings[slot].fetch_add(n as u64, Relaxed);
            }
        }
        self.latency(elapsed);
    }

    /// Counts a review turned away with 503.
    pub fn overload(&self, why: Overload) {
        let i = Overload::ALL.iter().position(|o| *o == why).unwrap_or(0);
        self.overloads[i].fetch_add(1, Relaxed);
    }

    /// Sets the number of reviews being decided or waiting for a decision thread.
    pub fn set_in_flight(&self, n: usize) {
        self.in_flight.store(n as i64, Relaxed);
    }

    /// Records one review's latency.
    pub fn latency(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(b) = BUCKETS.iter().position(|b| secs <= *b) {
            self.latency_buckets[b].fetch_add(1, Relaxed);
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_nanos
            .fetch_add(elapsed.as_nanos().min(u128::from(u64::MAX)) as u64, Relaxed);
    }

    /// Counts a certificate reload attempt.
    pub fn tls_reload(&self, ok: bool) {
        self.tls_reloads[usize::from(!ok)].fetch_add(1, Relaxed);
    }

    /// Counts a failed or timed-out TLS handshake.
    pub fn tls_handshake_failure(&self) {
        self.tls_handshake_failures.fetch_add(1, Relaxed);
    }

    /// A connection was accepted (`true`) or closed (`false`).
    pub fn connection(&self, opened: bool) {
        if opened {
            self.connections_total.fetch_add(1, Relaxed);
            self.connections_open.fetch_add(1, Relaxed);
        } else {
            self.connections_open.fetch_sub(1, Relaxed);
        }
    }

    /// A connection was refused because the connection limit was reached.
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Relaxed);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        fn family(text: &mut String, name: &str, kind: &str, help: &str) {
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        }
        /// A counter family with one label: HELP, TYPE and one sample per label value.
        fn counters<'a>(
            text: &mut String,
            (name, label): (&str, &str),
            help: &str,
            samples: impl Iterator<Item = (&'a str, &'a AtomicU64)>,
        ) {
            family(text, name, "counter", help);
            for (value, counter) in samples {
                let _ = writeln!(
                    text,
                    "{name}{{{label}=\"{value}\"}} {}",
                    counter.load(Relaxed)
                );
            }
        }
        let mut text = String::with_capacity(4096);
        family(
            &mut text,
            "palisade_admission_http_requests_total",
            "counter",
            "HTTP responses by path and status code.",
        );
        for (p, path) in PATHS.iter().enumerate() {
            for (c, counter) in self.requests[p].iter().enumerate() {
                let n = counter.load(Relaxed);
                if n == 0 {
                    continue;
                }
                let code = CODES.get(c).map_or("other".to_string(), |c| c.to_string());
                let _ = writeln!(
                    text,
                    "palisade_admission_http_requests_total{{path=\"{path}\",code=\"{code}\"}} {n}"
                );
            }
        }
        counters(
            &mut text,
            ("palisade_admission_decisions_total", "decision"),
            "Admission decisions by outcome.",
            Outcome::ALL.iter().map(|o| o.as_str()).zip(&self.decisions),
        );
        family(
            &mut text,
            "palisade_admission_dry_run_reviews_total",
            "counter",
            "Reviews of dry-run requests.",
        );
        let _ = writeln!(
            text,
            "palisade_admission_dry_run_reviews_total {}",
            self.dry_run.load(Relaxed)
        );
        counters(
            &mut text,
            ("palisade_admission_overload_rejections_total", "reason"),
            "Reviews answered 503 (with Retry-After) because the decision pool could not take them.",
            Overload::ALL.iter().map(|o| o.label()).zip(&self.overloads),
        );
        counters(
            &mut text,
            ("palisade_admission_findings_total", "mode"),
            "Findings on admitted objects by mode.",
            ["enforce", "warn", "audit"].into_iter().zip(&self.findings),
        );
        family(
            &mut text,
            "palisade_admission_review_duration_seconds",
            "histogram",
            "Time from receiving a review to having its response, body read included.",
        );
        let mut cumulative = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cumulative += self.latency_buckets[i].load(Relaxed);
            let _ = writeln!(
                text,
                "palisade_admission_review_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(
            text,
            "palisade_admission_review_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            text,
            "palisade_admission_review_duration_seconds_sum {}",
            self.latency_sum_nanos.load(Relaxed) as f64 / 1e9
        );
        let _ = writeln!(
            text,
            "palisade_admission_review_duration_seconds_count {count}"
        );
        family(
            &mut text,
            "palisade_admission_tls_reloads_total",
            "counter",
            "Serving certificate reloads by result.",
        );
        for (i, result) in ["success", "failure"].iter().enumerate() {
            let _ = writeln!(
                text,
                "palisade_admission_tls_reloads_total{{result=\"{result}\"}} {}",
                self.tls_reloads[i].load(Relaxed)
            );
        }
        for (name, kind, help, value) in [
            (
                "palisade_admission_tls_handshake_failures_total",
                "counter",
                "TLS handshakes that failed or timed out.",
                self.tls_handshake_failures.load(Relaxed) as i64,
            ),
            (
                "palisade_admission_connections_total",
                "counter",
                "Connections accepted.",
                self.connections_total.load(Relaxed) as i64,
            ),
            (
                "palisade_admission_connections_refused_total",
                "counter",
                "Connections refused at the connection limit.",
                self.connections_refused.load(Relaxed) as i64,
            ),
            (
                "palisade_admission_reviews_in_flight",
                "gauge",
                "Reviews being decided or waiting for a decision thread.",
                self.in_flight.load(Relaxed),
            ),
            (
                "palisade_admission_connections_open",
                "gauge",
                "Connections currently open.",
                self.connections_open.load(Relaxed),
            ),
        ] {
            family(&mut text, name, kind, help);
            let _ = writeln!(text, "{name} {value}");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `name{labels} value` lines into (series, value).
    fn samples(text: &str) -> Vec<(String, f64)> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (series, value) = l.rsplit_once(' ').expect("sample line");
                (series.to_string(), value.parse().expect("numeric value"))
            })
            .collect()
    }

    #[test]
    fn exposition_is_well_formed_and_counts() {
        let m = Metrics::default();
        m.request("/validate", 200);
        m.request("/validate", 200);
        m.request("/nope", 404);
        m.request("/validate", 418);
        m.latency(Duration::from_micros(300));
        m.latency(Duration::from_millis(3));
        m.latency(Duration::from_secs(9));
        let text = m.render();
        let s = samples(&text);
        let get = |k: &str| s.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        assert_eq!(
            get("palisade_admission_http_requests_total{path=\"/validate\",code=\"200\"}"),
            Some(2.0)
        );
        assert_eq!(
            get("palisade_admission_http_requests_total{path=\"other\",code=\"404\"}"),
            Some(1.0)
        );
        assert_eq!(
            get("palisade_admission_http_requests_total{path=\"/validate\",code=\"other\"}"),
            Some(1.0)
        );
        // Buckets are cumulative; +Inf equals the count.
        assert_eq!(
            get("palisade_admission_review_duration_seconds_bucket{le=\"0.00025\"}"),
            Some(0.0)
        );
        assert_eq!(
            get("palisade_admission_review_duration_seconds_bucket{le=\"0.0005\"}"),
            Some(1.0)
        );
        assert_eq!(
            get("palisade_admission_review_duration_seconds_bucket{le=\"0.005\"}"),
            Some(2.0)
        );
        assert_eq!(
            get("palisade_admission_review_duration_seconds_bucket{le=\"2.5\"}"),
            Some(2.0)
        );
        assert_eq!(
            get("palisade_admission_review_duration_seconds_bucket{le=\"+Inf\"}"),
            Some(3.0)
        );
        assert_eq!(
            get("palisade_admission_review_duration_seconds_count"),
            Some(3.0)
        );
        let sum = get("palisade_admission_review_duration_seconds_sum").unwrap();
        assert!((sum - 9.0033).abs() < 1e-9, "{sum}");
        // Every family has HELP and TYPE once.
        for family in [
            "palisade_admission_http_requests_total",
            "palisade_admission_decisions_total",
            "palisade_admission_review_duration_seconds",
            "palisade_admission_connections_open",
        ] {
            assert_eq!(
                text.matches(&format!("# TYPE {family} ")).count(),
                1,
                "{family}"
            );
            assert_eq!(
                text.matches(&format!("# HELP {family} ")).count(),
                1,
                "{family}"
            );
        }
    }
}
