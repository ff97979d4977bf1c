//! Benchmark: import of the shared data and matching 2,000 packages.
//!
//! `cargo run --release -p palisade-vulndb --example vulndb_bench [-- VULNDATA_DIR]`
//!
//! Prints the import time, the open time and the matching time (mean and worst of 10 runs,
//! candidate loading from SQLite included) for 2,000 packages drawn from the data's own
//! package names (about half vulnerable versions, half names without advisories).

use std::path::PathBuf;
use std::time::Instant;

use palisade_model::{Ecosystem, Package};
use palisade_vulndb::VulnDb;

fn main() {
    let data = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
        });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("vuln.db");

    let start = Instant::now();
    let mut parsed_only = 0usize;
    let mut files = Vec::new();
    collect(&data, &mut files);
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let bytes = std::fs::read(f).expect("read");
        if let Some(format) = palisade_vuln::detect_format(&name, &bytes) {
            parsed_only += palisade_vuln::parse_file(format, &bytes, &name)
                .map(|v| v.len())
                .unwrap_or(0);
        }
    }
    println!(
        "parse only: {parsed_only} records, {:.2} s",
        start.elapsed().as_secs_f64()
    );

    let start = Instant::now();
    let cpu = cpu_ms();
    let db = VulnDb::open_or_create(&path).expect("create db");
    let report = db.import_paths(&[data]).expect("import");
    let import = start.elapsed();
    let parsed: u64 = report.by_source_kind.values().sum();
    drop(db);
    println!(
        "import: {parsed} records parsed from {} files, {} advisories stored, wall {:.2} s, CPU {:.2} s, db {} KiB",
        report.files,
        report.records,
        import.as_secs_f64(),
        (cpu_ms() - cpu) / 1e3,
        std::fs::metadata(&path)
            .map(|m| m.len() / 1024)
            .unwrap_or(0)
    );

    let start = Instant::now();
    let db = VulnDb::open_existing(&path).expect("open");
    println!("open: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);

    let old = packages(&db);
    let current: Vec<Package> = old
        .iter()
        .map(|p| {
            let mut p = p.clone();
            p.version = match p.ecosystem {
                Ecosystem::PyPI => "999.0".into(),
                Ecosystem::Go => "v999.0.0".into(),
                Ecosystem::Debian => "99:99.0-1".into(),
                Ecosystem::Alpine => "999.0-r0".into(),
                _ => "999.0.0".into(),
            };
            p
        })
        .collect();
    run("current versions", &db, &current);
    run("old versions (worst case)", &db, &old);
}

fn run(label: &str, db: &VulnDb, packages: &[Package]) {
    println!("-- {label}");
    let mut times = Vec::new();
    let mut cpu_times = Vec::new();
    let mut found = 0;
    for _ in 0..10 {
        let cpu = cpu_ms();
        let start = Instant::now();
        let outcome = db.match_packages(packages).expect("match");
        times.push(start.elapsed().as_secs_f64() * 1e3);
        cpu_times.push(cpu_ms() - cpu);
        found = outcome.matches.len();
    }
    let start = Instant::now();
    let set = db.load_candidates(packages).expect("candidates");
    let load = start.elapsed().as_secs_f64() * 1e3;
    let start = Instant::now();
    let _ = palisade_vuln::match_packages(&set, packages);
    let pure = start.elapsed().as_secs_f64() * 1e3;
    println!(
        "  of which: loading {} candidate advisories {load:.1} ms, matching {pure:.1} ms",
        set.len()
    );
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let worst = times.iter().cloned().fold(0.0, f64::max);
    let cpu_mean = cpu_times.iter().sum::<f64>() / cpu_times.len() as f64;
    let best = times.iter().cloned().fold(f64::MAX, f64::min);
    println!(
        "match: {} packages, {found} vulnerabilities, wall mean {mean:.1} ms (best {best:.1}, worst {worst:.1}), CPU mean {cpu_mean:.1} ms (10 runs)",
        packages.len()
    );
}

/// CPU time (user + system) of this process in ms, from /proc/self/stat (Linux).
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    let ticks: f64 = fields
        .get(11)
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks * 10.0
}

fn collect(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// 2,000 packages: 1,000 named in advisories (at old versions) and 1,000 unknown names.
fn packages(db: &VulnDb) -> Vec<Package> {
    let _ = db;
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata");
    let names = |sub: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(data.join(sub))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut out = Vec::new();
    // PyPI: directory names are package names.
    for name in names("osv/PyPI").into_iter().take(300) {
        out.push(Package::new(Ecosystem::PyPI, name, "0.1"));
    }
    // crates.io: package names read from the records.
    for file in names("osv/crates.io").into_iter().take(300) {
        let text =
            std::fs::read_to_string(data.join("osv/crates.io").join(&file)).unwrap_or_default();
        if let Some(name) = text
            .split("\"name\": \"")
            .nth(1)
            .and_then(|s| s.split('"').next())
        {
            out.push(Package::new(Ecosystem::CratesIo, name, "0.1.0"));
        }
    }
    for file in names("osv/Go").into_iter().take(200) {
        let text = std::fs::read_to_string(data.join("osv/Go").join(&file)).unwrap_or_default();
        if let Some(name) = text
            .split("\"name\": \"")
            .nth(1)
            .and_then(|s| s.split('"').next())
        {
            out.push(Package::new(Ecosystem::Go, name, "v0.0.1"));
        }
    }
    for (i, src) in [
        "openssl",
        "glibc",
        "curl",
        "xorg-server",
        "apache2",
        "nginx",
        "samba",
        "bind9",
        "php7.4",
        "ruby2.7",
    ]
    .iter()
    .enumerate()
    {
        for j in 0..10 {
            let mut p = Package::new(Ecosystem::Debian, format!("lib{src}-{j}"), "1.0-1");
            p.source_name = Some(src.to_string());
            p.distro_release = Some(if (i + j) % 2 == 0 { "11" } else { "10" }.to_string());
            out.push(p);
        }
    }
    for src in [
        "apache2", "openssl", "curl", "busybox", "musl", "libxml2", "sqlite", "expat", "zlib",
        "nginx",
    ] {
        for j in 0..10 {
            let mut p = Package::new(Ecosystem::Alpine, format!("{src}-sub{j}"), "1.0-r0");
            p.source_name = Some(src.to_string());
            p.distro_release = Some("3.11".to_string());
            out.push(p);
        }
    }
    let mut i = 0;
    while out.len() < 2000 {
        let eco = [
            Ecosystem::Npm,
            Ecosystem::PyPI,
            Ecosystem::CratesIo,
            Ecosystem::Maven,
        ][i % 4]
            .clone();
        let version = if eco == Ecosystem::PyPI {
            "1.0"
        } else {
            "1.0.0"
        };
        out.push(Package::new(
            eco,
            format!("no-advisory-package-{i}"),
            version,
        ));
        i += 1;
    }
    out
}
