//! Criterion benchmark of the full connectivity summary (compile, classes, reachability and
//! workload-level row count) on the synthetic cluster of `support/generator.rs`.
//!
//! `cargo bench -p palisade-netpol --bench reach`

#[path = "support/generator.rs"]
mod generator;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use palisade_netpol::Analysis;

fn summary(inventory: &palisade_model::Inventory) -> u64 {
    let a = Analysis::new(inventory);
    let r = a.reachability();
    let mut rows = 0u64;
    a.for_each_connection(&r, None, |_| rows += 1);
    rows
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("connectivity_summary");
    group.sample_size(10);
    for (label, size) in [
        (
            "50ns_1000wl_200pol",
            generator::Size {
                namespaces: 50,
                workloads_per_ns: 20,
                policies_per_ns: 4,
            },
        ),
        ("500ns_10000wl_2000pol", generator::ISSUE_SCALE),
    ] {
        let inventory = generator::inventory(&generator::manifests(size));
        group.bench_function(label, |b| b.iter(|| black_box(summary(&inventory))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
