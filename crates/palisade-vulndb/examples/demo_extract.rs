//! Writes the facts-only demo extract under `demo-data/` from the shared data.
//!
//! `cargo run -p palisade-vulndb --example demo_extract [-- VULNDATA_DIR OUT_DIR]`
//!
//! Keeps, for a fixed list of packages, only facts: ids, aliases, affected package, ranges,
//! explicit versions and severity vectors, as OSV JSON (one file per advisory). Summaries,
//! details, references and credits are dropped.

use std::path::{Path, PathBuf};

use palisade_vuln::record::{Advisory, RangeEvent, RangeKind};
use palisade_vuln::{detect_format, parse_file};
use serde_json::{Value, json};

/// (data subdirectory, ecosystem family, package names kept).
const KEEP: &[(&str, &str, &[&str])] = &[
    ("osv/Go", "Go", &["stdlib", "golang.org/x/net"]),
    (
        "osv/PyPI",
        "PyPI",
        &["flask", "jinja2", "pyyaml", "urllib3", "requests"],
    ),
    ("osv/crates.io", "crates.io", &["openssl", "hyper"]),
    (
        "alpine/v3.11",
        "Alpine",
        &["openssl", "musl", "busybox", "curl"],
    ),
    ("debian", "Debian", &["openssl", "curl"]),
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    for p in v {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn event(e: &RangeEvent) -> Value {
    match e {
        RangeEvent::Introduced(v) => json!({ "introduced": v }),
        RangeEvent::Fixed(v) => json!({ "fixed": v }),
        RangeEvent::LastAffected(v) => json!({ "last_affected": v }),
        RangeEvent::Limit(v) => json!({ "limit": v }),
    }
}

fn to_osv(a: &Advisory, family: &str, names: &[&str]) -> Option<Value> {
    let affected: Vec<Value> = a
        .affected
        .iter()
        .filter(|x| x.ecosystem.split(':').next() == Some(family) && names.contains(&x.name.as_str()))
        .map(|x| {
            let ranges: Vec<Value> = x
                .ranges
                .iter()
                .filter(|r| r.kind != RangeKind::Git)
                .map(|r| {
                    let kind = if r.kind == RangeKind::Semver { "SEMVER" } else { "ECOSYSTEM" };
                    json!({ "type": kind, "events": r.events.iter().map(event).collect::<Vec<_>>() })
                })
                .collect();
            let mut entry = json!({ "package": { "ecosystem": x.ecosystem, "name": x.name }, "ranges": ranges });
            if !x.versions.is_empty() {
                entry["versions"] = json!(x.versions);
            }
            entry
        })
        .collect();
    if affected.is_empty() {
        return None;
    }
    let severity: Vec<Value> = a
        .severity
        .iter()
        .map(|s| json!({ "type": s.kind, "score": s.score }))
        .collect();
    let mut record = json!({ "id": a.id, "aliases": a.aliases, "affected": affected });
    if let Some(m) = &a.modified {
        record["modified"] = json!(m);
    }
    if !severity.is_empty() {
        record["severity"] = json!(severity);
    }
    if let Some(r) = a.rating {
        record["database_specific"] = json!({ "severity": r.as_str() });
    }
    Some(record)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let data = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
    });
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo-data"));
    let mut total = 0;
    for (sub, family, names) in KEEP {
        let mut list = Vec::new();
        files(&data.join(sub), &mut list);
        let dest = out.join(family);
        std::fs::create_dir_all(&dest).expect("create output dir");
        for f in list {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let bytes = std::fs::read(&f).expect("read");
            let Some(format) = detect_format(&name, &bytes) else {
                continue;
            };
            let advisories = parse_file(format, &bytes, &f.display().to_string()).expect("parse");
            for a in advisories {
                if a.withdrawn.is_some() {
                    continue;
                }
                if let Some(record) = to_osv(&a, family, names) {
                    let file = dest.join(format!("{}.json", a.id.replace('/', "_")));
                    let text = serde_json::to_string(&record).expect("json");
                    std::fs::write(&file, text + "\n").expect("write");
                    total += 1;
                }
            }
        }
    }
    println!("wrote {total} records under {}", out.display());
}
