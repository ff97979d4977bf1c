//! Benchmark program: builds a synthetic cluster (by default 10,000 workloads in 500 namespaces
//! with 2,000 NetworkPolicies) and times each phase of the full connectivity summary.
//!
//! ```text
//! cargo run --release -p palisade-netpol --example bench_netpol -- [--namespaces N] [--per-ns W] [--policies-per-ns P]
//! cargo run --release -p palisade-netpol --example bench_netpol -- --namespaces 3 --per-ns 4 --emit-yaml small.yaml
//!
//! cargo run --release -p palisade-netpol --example bench_netpol -- --input-yaml small.yaml
//! ```
//!
//! `--input-yaml` analyses a manifest file instead and prints every connection as `SRC => DST : PORTS`, one per line, for comparison with other
//! tools. Measure peak memory with `/usr/bin/time -v`.

#[path = "../benches/support/generator.rs"]
mod generator;

use std::io::Write;
use std::time::Instant;

use palisade_netpol::Analysis;

fn main() {
    let mut size = generator::ISSUE_SCALE;
    let mut emit = None;
    let mut input = None;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        let number = || value.parse::<usize>().unwrap_or_else(|_| usage(&args[i]));
        match args[i].as_str() {
            "--namespaces" => size.namespaces = number(),
            "--per-ns" => size.workloads_per_ns = number(),
            "--policies-per-ns" => size.policies_per_ns = number(),
            "--emit-yaml" => emit = Some(value.clone()),
            "--input-yaml" => input = Some(value.clone()),
            other => usage(other),
        }
        i += 2;
    }
    if let Some(path) = input {
        return print_connections(&path);
    }
    let manifests = generator::manifests(size);
    if let Some(path) = emit {
        let mut out = String::new();
        for m in &manifests {
            out.push_str("---\n");
            out.push_str(&serde_saphyr::to_string(m).expect("YAML"));
        }
        std::fs::write(&path, out).expect("write YAML");
        eprintln!("wrote {} objects to {path}", manifests.len());
        return;
    }
    let inventory = generator::inventory(&manifests);
    drop(manifests);

    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let analysis = Analysis::new(&inventory);
    let t_compile = t0.elapsed();
    let t1 = Instant::now();
    let reach = analysis.reachability();
    let t_reach = t1.elapsed();
    let t2 = Instant::now();
    let mut rows = 0u64;
    let mut external_rows = 0u64;
    analysis.for_each_connection(&reach, None, |c| {
        rows += 1;
        if matches!(c.src, palisade_netpol::Endpoint::External(_))
            || matches!(c.dst, palisade_netpol::Endpoint::External(_))
        {
            external_rows += 1;
        }
    });
    let t_expand = t2.elapsed();
    let summary = t0.elapsed();
    let summary_cpu = cpu_seconds() - cpu0;
    let t3 = Instant::now();
    let exposure = analysis.exposure(&reach);
    let t_exposure = t3.elapsed();

    let stats = analysis.stats();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "input: {} namespaces, {} workloads, {} policies",
        stats.namespaces, stats.workloads, stats.policies
    )
    .ok();
    writeln!(
        out,
        "classes: {} label classes, {} reach classes, {} IP cells",
        stats.label_classes, stats.reach_classes, stats.ip_cells
    )
    .ok();
    writeln!(out, "class edges: {}", reach.edge_count()).ok();
    writeln!(
        out,
        "workload-level connections: {rows} ({external_rows} with an external range)"
    )
    .ok();
    writeln!(out, "diagnostics: {}", analysis.diagnostics().len()).ok();
    writeln!(
        out,
        "compile + classes: {:>8.1} ms",
        t_compile.as_secs_f64() * 1e3
    )
    .ok();
    writeln!(
        out,
        "reachability:      {:>8.1} ms",
        t_reach.as_secs_f64() * 1e3
    )
    .ok();
    writeln!(
        out,
        "expand rows:       {:>8.1} ms",
        t_expand.as_secs_f64() * 1e3
    )
    .ok();
    writeln!(
        out,
        "full summary:      {:>8.1} ms wall, {:.0} ms CPU (user+system, 10 ms resolution)",
        summary.as_secs_f64() * 1e3,
        summary_cpu * 1e3
    )
    .ok();
    writeln!(
        out,
        "exposure:          {:>8.1} ms ({} workloads)",
        t_exposure.as_secs_f64() * 1e3,
        exposure.workloads.len()
    )
    .ok();
}

fn print_connections(path: &str) {
    let text = std::fs::read_to_string(path).expect("read YAML");
    let ingested = palisade_ingest::ingest_str(path, &text);
    for d in &ingested.diagnostics {
        eprintln!("{d}");
    }
    let inventory = ingested.inventory;
    let t = Instant::now();
    let analysis = Analysis::new(&inventory);
    let reach = analysis.reachability();
    let connectivity = analysis.connectivity(&reach, None);
    let elapsed = t.elapsed();
    let name = |e: &palisade_netpol::Endpoint| match e {
        palisade_netpol::Endpoint::Workload(w) => format!("{}/{}", w.namespace, w.name),
        palisade_netpol::Endpoint::External(i) => format!("{}-{}", i.first_addr(), i.last_addr()),
    };
    for c in &connectivity.connections {
        println!("{} => {} : {}", name(&c.src), name(&c.dst), c.ports);
    }
    eprintln!("analysis time: {:.2} ms", elapsed.as_secs_f64() * 1e3);
}

/// CPU time (user + system) of this process so far, from /proc/self/stat (Linux; 0 elsewhere).
/// Wall-clock time on a shared machine includes time spent waiting for a core.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn usage(arg: &str) -> ! {
    eprintln!(
        "bench_netpol: bad argument {arg:?}\nusage: bench_netpol [--namespaces N] [--per-ns W] [--policies-per-ns P] [--emit-yaml FILE] [--input-yaml FILE]"
    );
    std::process::exit(2)
}
