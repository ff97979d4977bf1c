//! Per-request cost of the pure decision path (parse → ingest → engine → response JSON),
//! single-threaded, without TLS or HTTP.
//!
//! `cargo run --release -p palisade-admission --example decide_bench -- [ITERATIONS]`

use std::time::Instant;

use palisade_admission::{Admission, AdmissionReviewResponse, parse_review};

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/bench");
    let policy = Admission::builtin();
    for name in ["review-allow.json", "review-deny.json"] {
        let body = std::fs::read(format!("{dir}/{name}")).expect("bench review exists");
        // Warm up.
        for _ in 0..500 {
            let d = policy.decide(parse_review(&body).expect("valid review"));
            std::hint::black_box(AdmissionReviewResponse::new(d.response).to_json());
        }
        let mut times = Vec::with_capacity(iterations);
        let start = Instant::now();
        for _ in 0..iterations {
            let t = Instant::now();
            let d = policy.decide(parse_review(&body).expect("valid review"));
            std::hint::black_box(AdmissionReviewResponse::new(d.response).to_json());
            times.push(t.elapsed());
        }
        let total = start.elapsed();
        times.sort();
        let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
        println!(
            "{name}: {iterations} decisions in {:.3}s = {:.0}/s on one thread; p50 {:?}, p99 {:?}, max {:?}",
            total.as_secs_f64(),
            iterations as f64 / total.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            times[times.len() - 1]
        );
    }
}
