//! Parsing and matching over the real shared vulnerability data (../shared/vulndata).
//! Every expectation below was read off the data files themselves.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use palisade_model::{Ecosystem, Package, Severity};
use palisade_vuln::record::RangeKind;
use palisade_vuln::{
    Advisory, CandidateSet, DataFormat, VulnMatch, detect_format, match_packages, parse_file,
};

fn vulndata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn load(sub: &str) -> Vec<Advisory> {
    let mut files = Vec::new();
    files_under(&vulndata().join(sub), &mut files);
    let mut out = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&f).unwrap();
        let Some(format) = detect_format(&name, &bytes) else {
            continue;
        };
        out.extend(
            parse_file(format, &bytes, &f.display().to_string()).unwrap_or_else(|e| panic!("{e}")),
        );
    }
    out
}

struct Data {
    crates: Vec<Advisory>,
    go: Vec<Advisory>,
    pypi: Vec<Advisory>,
    alpine: Vec<Advisory>,
    debian: Vec<Advisory>,
    set: CandidateSet,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let crates = load("osv/crates.io");
        let go = load("osv/Go");
        let pypi = load("osv/PyPI");
        let alpine = load("alpine");
        let debian = load("debian");
        let mut set = CandidateSet::new();
        for a in crates
            .iter()
            .chain(&go)
            .chain(&pypi)
            .chain(&alpine)
            .chain(&debian)
        {
            set.insert(a.clone());
        }
        Data {
            crates,
            go,
            pypi,
            alpine,
            debian,
            set,
        }
    })
}

fn matches(pkg: Package) -> Vec<VulnMatch> {
    match_packages(&data().set, &[pkg]).0
}

#[test]
fn every_record_parses_with_the_counts_of_the_readme() {
    let d = data();
    assert_eq!(d.crates.len(), 1206);
    assert_eq!(d.go.len(), 4291);
    assert_eq!(d.pypi.len(), 2661);
    let dsa = d.debian.iter().filter(|a| a.id.starts_with("DSA-")).count();
    let dla = d.debian.iter().filter(|a| a.id.starts_with("DLA-")).count();
    assert_eq!((dsa, dla), (5406, 3534));
    assert!(
        d.alpine.len() > 1000,
        "alpine advisories: {}",
        d.alpine.len()
    );
    assert_eq!(
        detect_format(
            "main.yaml",
            &std::fs::read(vulndata().join("alpine/v3.11/main.yaml")).unwrap()
        ),
        Some(DataFormat::AlpineSecdb)
    );
}

#[test]
fn every_event_version_parses_in_its_ecosystem() {
    let d = data();
    let mut failures = std::collections::BTreeSet::new();
    let mut checked = 0;
    for a in d
        .crates
        .iter()
        .chain(&d.go)
        .chain(&d.pypi)
        .chain(&d.alpine)
        .chain(&d.debian)
    {
        for aff in &a.affected {
            let (eco, _) = palisade_vuln::release::split_ecosystem(&aff.ecosystem);
            for r in aff.ranges.iter().filter(|r| r.kind != RangeKind::Git) {
                for e in &r.events {
                    let v = e.version();
                    if v == "0" || v == "*" {
                        continue;
                    }
                    checked += 1;
                    if palisade_vuln::range::parse_for(&eco, &r.kind, v).is_err() {
                        failures.insert(format!("{} {v}", eco.as_str()));
                    }
                }
            }
        }
    }
    assert!(checked > 20_000, "checked {checked}");
    // The only rejects are typos in the upstream data, each invalid by its grammar: apk allows
    // neither an empty component (`4.8.0.-r1`) nor `.rN`/`-N` in place of `-rN`; PEP 440 has
    // no `-n653` or date-like `2019-09-12`. (A number after a letter, `6.6.2p1-r0`, is valid:
    // apk reads it as a number component, issue 20 §4.)
    let expected: std::collections::BTreeSet<String> = [
        "Alpine 0.12.5.-r0",
        "Alpine 0.8.21.r2",
        "Alpine 1.0.4.-r0",
        "Alpine 1.11-20-r0",
        "Alpine 1.18.-r2",
        "Alpine 1.7.5.-r1",
        "Alpine 10.2.22.r0",
        "Alpine 10.2.24.r0",
        "Alpine 10.2.26.r0",
        "Alpine 2.15.r-r1",
        "Alpine 2.7.16-33",
        "Alpine 4.10-1-r1",
        "Alpine 4.8.0.-r1",
        "Alpine 57-1-r2",
        "PyPI 0.2.0-n653",
        "PyPI 2019-09-12",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(failures, expected);
}

#[test]
fn rustsec_openssl_insecure_defaults() {
    // RUSTSEC-2016-0001: openssl crate, SEMVER introduced 0.0.0-0, fixed 0.9.0,
    // CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H, aliases CVE-2016-10931 and a GHSA.
    let m = matches(Package::new(Ecosystem::CratesIo, "openssl", "0.8.3"));
    let hit = m
        .iter()
        .find(|m| m.advisories.contains(&"RUSTSEC-2016-0001".to_string()))
        .expect("RUSTSEC-2016-0001");
    assert_eq!(hit.id, "CVE-2016-10931");
    assert!(hit.aliases.contains(&"GHSA-34p9-f4q3-c4r7".to_string()));
    assert_eq!(hit.fixed_version.as_deref(), Some("0.9.0"));
    // Base score per CVSS v3.0: impact 6.42*0.9148 = 5.873, exploitability 2.221 → 8.1.
    assert_eq!(hit.cvss_score, Some(8.1));
    assert_eq!(hit.severity, Some(Severity::High));
    let fixed = matches(Package::new(Ecosystem::CratesIo, "openssl", "0.9.0"));
    assert!(
        !fixed
            .iter()
            .any(|m| m.advisories.contains(&"RUSTSEC-2016-0001".to_string()))
    );
}

#[test]
fn duplicate_rustsec_records_merge_into_one_vulnerability() {
    // RUSTSEC-2022-0096 (fixed 0.33.1, 0.34.1) and RUSTSEC-2022-0101 (fixed 0.38.2) describe the
    // same wasmtime CVEs (CVE-2022-23636, CVE-2022-31169): reported once, fixed in 0.38.2.
    let m = matches(Package::new(Ecosystem::CratesIo, "wasmtime", "0.33.0"));
    let merged: Vec<&VulnMatch> = m
        .iter()
        .filter(|m| m.aliases.contains(&"CVE-2022-23636".to_string()) || m.id == "CVE-2022-23636")
        .collect();
    assert_eq!(merged.len(), 1, "{m:#?}");
    assert_eq!(
        merged[0].advisories,
        ["RUSTSEC-2022-0096", "RUSTSEC-2022-0101"]
    );
    assert_eq!(
        merged[0].id, "RUSTSEC-2022-0096",
        "two CVEs: the first record id is reported"
    );
    assert_eq!(merged[0].fixed_version.as_deref(), Some("0.38.2"));
}

#[test]
fn go_stdlib_matches_the_toolchain_version() {
    // GO-2023-1840 (CVE-2023-29403): stdlib fixed 1.19.10 and, from 1.20.0-0, 1.20.5.
    let stdlib = |v: &str| {
        matches(palisade_vuln::matching::go_stdlib_package(
            v,
            Some("/usr/bin/app"),
        ))
    };
    let m = stdlib("go1.20.4");
    let hit = m
        .iter()
        .find(|m| m.id == "CVE-2023-29403")
        .expect("CVE-2023-29403");
    assert_eq!(hit.advisories, ["GO-2023-1840"]);
    assert_eq!(hit.fixed_version.as_deref(), Some("1.20.5"));
    assert_eq!(hit.path.as_deref(), Some("/usr/bin/app"));
    assert_eq!(hit.severity, None, "the Go database gives no severity");
    assert!(!stdlib("go1.20.5").iter().any(|m| m.id == "CVE-2023-29403"));
    assert!(!stdlib("go1.19.10").iter().any(|m| m.id == "CVE-2023-29403"));
    assert!(stdlib("go1.19.9").iter().any(|m| m.id == "CVE-2023-29403"));
}

#[test]
fn pypi_yaml_records_and_pep503_names() {
    // PYSEC-2021-871 and PYSEC-2021-872 both alias CVE-2021-42343 for `distributed`,
    // range introduced 0, fixed 2021.10.0.
    let m = matches(Package::new(Ecosystem::PyPI, "Distributed", "2021.9.1"));
    let hit = m
        .iter()
        .find(|m| m.id == "CVE-2021-42343")
        .expect("CVE-2021-42343");
    assert_eq!(hit.advisories, ["PYSEC-2021-871", "PYSEC-2021-872"]);
    assert_eq!(hit.fixed_version.as_deref(), Some("2021.10.0"));
    assert!(
        !matches(Package::new(Ecosystem::PyPI, "distributed", "2021.10.0"))
            .iter()
            .any(|m| m.id == "CVE-2021-42343")
    );
    // PYSEC-2020-342 (apache-skywalking): introduced 0, no fix, CVSS 3.1 9.8.
    let m = matches(Package::new(Ecosystem::PyPI, "apache_skywalking", "1.0.1"));
    let hit = m
        .iter()
        .find(|m| m.id == "CVE-2020-13921")
        .expect("CVE-2020-13921");
    assert_eq!(hit.fixed_version, None);
    assert_eq!(hit.cvss_score, Some(9.8));
    assert_eq!(hit.severity, Some(Severity::Critical));
}

#[test]
fn alpine_secdb_by_origin_and_branch() {
    // v3.11 main: apache2 2.4.41-r0 fixes CVE-2019-9517.
    let mut pkg = Package::new(Ecosystem::Alpine, "apache2-utils", "2.4.39-r0");
    pkg.source_name = Some("apache2".into());
    pkg.distro_release = Some("3.11.6".into());
    let m = matches(pkg.clone());
    let hit = m
        .iter()
        .find(|m| m.id == "CVE-2019-9517")
        .expect("CVE-2019-9517");
    assert_eq!(hit.fixed_version.as_deref(), Some("2.4.41-r0"));
    assert_eq!(hit.source_package.as_deref(), Some("apache2"));
    pkg.version = "2.4.41-r0".into();
    assert!(!matches(pkg).iter().any(|m| m.id == "CVE-2019-9517"));
}

#[test]
fn debian_tracker_by_source_package_and_release() {
    // DSA-5380-1: xorg-server, CVE-2023-1393, bullseye fixed 2:1.20.11-1+deb11u6.
    // DLA-3372-1: the same CVE for buster, fixed 2:1.20.4-1+deb10u9.
    let mut pkg = Package::new(
        Ecosystem::Debian,
        "xserver-xorg-core",
        "2:1.20.11-1+deb11u5",
    );
    pkg.source_name = Some("xorg-server".into());
    pkg.distro_release = Some("11".into());
    let m = matches(pkg.clone());
    let hit = m
        .iter()
        .find(|m| m.id == "CVE-2023-1393")
        .expect("CVE-2023-1393");
    assert_eq!(hit.advisories, ["DSA-5380-1"]);
    assert_eq!(hit.fixed_version.as_deref(), Some("2:1.20.11-1+deb11u6"));
    pkg.version = "2:1.20.11-1+deb11u6".into();
    assert!(!matches(pkg.clone()).iter().any(|m| m.id == "CVE-2023-1393"));
    pkg.distro_release = Some("buster".into());
    pkg.version = "2:1.20.4-1+deb10u8".into();
    let m = matches(pkg);
    let hit = m
        .iter()
        .find(|m| m.id == "CVE-2023-1393")
        .expect("buster CVE-2023-1393");
    assert_eq!(hit.advisories, ["DLA-3372-1"]);
}
