//! Vulnerabilities in `palisade image scan` and `palisade sbom scan`, end to end: small real
//! images (root filesystems and an OCI image layout written with palisade-image's builder) with a dpkg status, an apk
//! database, Python METADATA files and a real Go binary; real advisories from
//! ../shared/vulndata imported with `palisade db import` into a temporary database.
//!
//! Expectations come from the advisory files themselves (the PyPI `versions` lists, the Debian
//! tracker lines compared with `dpkg --compare-versions`, the Alpine secfixes and Go ranges
//! quoted below), not from palisade's output.
#![cfg(all(feature = "image", feature = "vuln"))]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

mod support;

use support::cli::{Palisade, palisade, stderr};

fn vulndata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

/// The binary with a clean environment for the database default (no PALISADE_DB, a HOME
/// without a database).
fn isolated(args: &[&str]) -> Palisade {
    palisade(args)
        .env_remove("PALISADE_DB")
        .env_remove("XDG_DATA_HOME")
        .env("HOME", empty_home())
}

fn empty_home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", String::from_utf8_lossy(&o.stdout), stderr(o)))
}

fn write(root: &Path, rel: &str, text: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const SUDO: &str = "1.8.27-1+deb10u2";
const CONNMAN: &str = "1.36-2.1~deb10u2";

/// A Debian 10 (buster) root filesystem: sudo and connman (+ connman-vpn, a binary of the
/// connman source) from dpkg, Werkzeug and httpie from Python METADATA, and umoci, a real Go
/// binary built by Debian's Go 1.19 toolchain.
fn debian_rootfs(root: &Path) {
    write(
        root,
        "etc/os-release",
        b"PRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"10\"\nVERSION=\"10 (buster)\"\nVERSION_CODENAME=buster\nID=debian\n",
    );
    let status = format!(
        "Package: sudo\nStatus: install ok installed\nPriority: optional\nSection: admin\nArchitecture: amd64\nVersion: {SUDO}\nDescription: Provide limited super user privileges to specific users\n\n\
         Package: connman\nStatus: install ok installed\nArchitecture: amd64\nVersion: {CONNMAN}\nDescription: Intel Connection Manager daemon\n\n\
         Package: connman-vpn\nStatus: install ok installed\nArchitecture: amd64\nSource: connman\nVersion: {CONNMAN}\nDescription: Intel Connection Manager - VPN daemon\n"
    );
    write(root, "var/lib/dpkg/status", status.as_bytes());
    let site = "usr/lib/python3/dist-packages";
    write(
        root,
        &format!("{site}/Werkzeug-2.2.2.dist-info/METADATA"),
        b"Metadata-Version: 2.1\nName: Werkzeug\nVersion: 2.2.2\nSummary: The comprehensive WSGI web application library.\n",
    );
    write(
        root,
        &format!("{site}/httpie-3.2.2.dist-info/METADATA"),
        b"Metadata-Version: 2.1\nName: httpie\nVersion: 3.2.2\nSummary: HTTPie: modern, user-friendly command-line HTTP client for the API era.\n",
    );
    let umoci = std::fs::read("/usr/bin/umoci")
        .expect("umoci missing: run scripts/test (scripts/setup/20-registry.sh installs it)");
    write(root, "usr/bin/umoci", &umoci);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        root.join("usr/bin/umoci"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
}

/// Writes the files under `root` as an OCI image layout: every file but `usr/bin/*` in a gzip
/// layer, `usr/bin/*` in a second, zstd layer.
fn oci_layout_of(root: &Path, layout: &Path, name: &str) {
    use palisade_image::builder::{ImageSpec, LayerBuilder, OciLayoutWriter};
    fn files(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, base, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.push((rel, p));
            }
        }
    }
    let mut all = Vec::new();
    files(root, root, &mut all);
    all.sort();
    let (mut base, mut bins) = (LayerBuilder::new(), LayerBuilder::new());
    for (rel, path) in all {
        let bytes = std::fs::read(&path).unwrap();
        if rel.starts_with("usr/bin/") {
            bins = bins.file(&rel, 0o755, &bytes);
        } else {
            base = base.file(&rel, 0o644, &bytes);
        }
    }
    let writer = OciLayoutWriter::create(layout).unwrap();
    let manifest = writer
        .image(&ImageSpec::new(vec![base.gzip(), bins.zstd()]))
        .unwrap();
    writer.finish(vec![(manifest, Some(name))]).unwrap();
}

/// The Go toolchain version Debian built umoci with, from its `Built-Using` field.
fn umoci_go_version() -> String {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Built-Using}", "umoci"])
        .output()
        .expect("dpkg-query");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // "…, golang-1.19 (= 1.19.8-2), …"
    let at = text
        .find("golang-1.")
        .expect("umoci is built with golang-1.x");
    let rest = &text[at..];
    let v = rest[rest.find("(= ").unwrap() + 3..]
        .split(['-', ')'])
        .next()
        .unwrap();
    v.to_string()
}

/// An Alpine 3.10 root filesystem: busybox and ssl_client (origin busybox), musl.
fn alpine_rootfs(root: &Path) {
    write(
        root,
        "etc/os-release",
        b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.2\nPRETTY_NAME=\"Alpine Linux v3.10\"\n",
    );
    write(
        root,
        "lib/apk/db/installed",
        b"C:Q1aaaa=\nP:busybox\nV:1.30.1-r1\nA:x86_64\nL:GPL-2.0-only\no:busybox\n\n\
          C:Q1bbbb=\nP:ssl_client\nV:1.30.1-r1\nA:x86_64\nL:GPL-2.0-only\no:busybox\n\n\
          C:Q1cccc=\nP:musl\nV:1.1.22-r2\nA:x86_64\nL:MIT\no:musl\n",
    );
}

/// One database with the advisories the images need, imported by the CLI once.
fn database() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("vuln.db");
        let data = vulndata();
        let go = data.join("osv/Go");
        let paths: Vec<PathBuf> = vec![
            data.join("debian/DSA-list"),
            data.join("debian/DLA-list"),
            data.join("alpine/v3.10/main.yaml"),
            data.join("osv/PyPI/werkzeug"),
            data.join("osv/PyPI/httpie"),
            go.join("GO-2023-1621.json"),
            go.join("GO-2023-1840.json"),
            go.join("GO-2023-1878.json"),
        ];
        let mut args = vec![
            "db".to_string(),
            "import".into(),
            "--db".into(),
            db.display().to_string(),
        ];
        args.extend(paths.iter().map(|p| p.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = isolated(&args).output();
        assert!(out.status.success(), "db import: {}", stderr(&out));
        (dir, db)
    });
    path
}

fn scan_json(source_flag: &str, source: &Path, extra: &[&str]) -> (Output, Value) {
    let db = database().display().to_string();
    let mut args = vec![
        "image",
        "scan",
        source_flag,
        source.to_str().unwrap(),
        "--db",
        &db,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = isolated(&args).output();
    let v = json_of(&out);
    (out, v)
}

/// (id, package, fixed version) of every reported vulnerability.
fn triples(v: &Value) -> BTreeSet<(String, String, Option<String>)> {
    v["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_string(),
                m["package"].as_str().unwrap().to_string(),
                m["fixed_version"].as_str().map(String::from),
            )
        })
        .collect()
}

fn t(id: &str, pkg: &str, fixed: Option<&str>) -> (String, String, Option<String>) {
    (id.into(), pkg.into(), fixed.map(String::from))
}

/// Advisories of a Debian tracker list with a `[release] - source fixed` line, as
/// (id, CVEs, fixed version).
fn tracker_entries(list: &str, release: &str, source: &str) -> Vec<(String, Vec<String>, String)> {
    let text = std::fs::read_to_string(vulndata().join("debian").join(list)).unwrap();
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        if line.starts_with('[') {
            let id = line.split_whitespace().nth(3).unwrap_or("").to_string();
            current = Some((id, Vec::new()));
        } else if let Some((id, cves)) = current.as_mut() {
            let l = line.trim();
            if let Some(inner) = l.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                cves.extend(inner.split_whitespace().map(String::from));
            } else if let Some(rest) = l.strip_prefix(&format!("[{release}] - {source} ")) {
                let fixed = rest.split_whitespace().next().unwrap().to_string();
                if !fixed.starts_with('<') {
                    out.push((id.clone(), cves.clone(), fixed));
                }
            }
        }
    }
    out
}

/// `dpkg --compare-versions a lt b`.
fn dpkg_lt(a: &str, b: &str) -> bool {
    Command::new("dpkg")
        .args(["--compare-versions", a, "lt", b])
        .status()
        .expect("dpkg")
        .success()
}

/// Advisory ids of the buster tracker lists that affect `source` at `installed` (the
/// installed version is older than the fixed one).
fn debian_oracle(source: &str, installed: &str) -> BTreeSet<String> {
    ["DSA-list", "DLA-list"]
        .iter()
        .flat_map(|l| tracker_entries(l, "buster", source))
        .filter(|(_, _, fixed)| dpkg_lt(installed, fixed))
        .map(|(id, _, _)| id)
        .collect()
}

/// PYSEC ids (and their CVE) whose `versions` list names `version`.
fn pypi_oracle(package: &str, version: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(vulndata().join("osv/PyPI").join(package)).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let lists_version = text.lines().any(|l| {
            let l = l.trim();
            l == format!("- {version}")
                || l == format!("- '{version}'")
                || l == format!("- \"{version}\"")
        });
        if !lists_version {
            continue;
        }
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("id: "))
            .unwrap()
            .to_string();
        let cves: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- CVE-"))
            .collect();
        assert_eq!(cves.len(), 1, "{id}");
        out.insert(id, format!("CVE-{}", cves[0]));
    }
    out
}

fn vulns_of<'a>(v: &'a Value, package: &str) -> Vec<&'a Value> {
    v["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["package"] == package)
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn debian_image_reports_each_vulnerability_once_with_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    debian_rootfs(&root);
    let (out, v) = scan_json("--rootfs", &root, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(v["vulnerability_scan"]["status"], "matched");

    // sudo: DSA-4543-1 (fixed deb10u1) no longer applies; DSA-4839-1 (deb10u3, CVE-2021-3156),
    // DLA-3181-1 (deb10u4, CVE-2021-23239) and DLA-3272-1 (deb10u5, CVE-2023-22809) do. The
    // bullseye DSA-5321-1 for CVE-2023-22809 is another release.
    let sudo_oracle = debian_oracle("sudo", SUDO);
    assert_eq!(
        sudo_oracle,
        BTreeSet::from([
            "DSA-4839-1".into(),
            "DLA-3181-1".into(),
            "DLA-3272-1".into()
        ])
    );
    let sudo = vulns_of(&v, "sudo");
    let got: BTreeSet<String> = sudo
        .iter()
        .flat_map(|m| strings(&m["advisories"]))
        .collect();
    assert_eq!(got, sudo_oracle);
    let baron = sudo.iter().find(|m| m["id"] == "CVE-2021-3156").unwrap();
    assert_eq!(baron["fixed_version"], "1.8.27-1+deb10u3");
    assert_eq!(baron["notorious"], true);
    assert_eq!(baron["advisories"][0], "DSA-4839-1");
    assert!(strings(&baron["aliases"]).contains(&"DSA-4839-1".to_string()));
    let sudo_rel = sudo.iter().find(|m| m["id"] == "CVE-2023-22809").unwrap();
    assert_eq!(strings(&sudo_rel["advisories"]), ["DLA-3272-1"]);

    // connman: DLA-3105-1 (deb10u3: CVE-2022-32292, CVE-2022-32293) and DLA-3144-1 (deb10u4:
    // CVE-2022-23096/7/8, CVE-2022-32293) share CVE-2022-32293: one vulnerability, fixed by the
    // later version. connman-vpn is a binary of the same source and gets its own entry.
    let connman_oracle = debian_oracle("connman", CONNMAN);
    assert_eq!(
        connman_oracle,
        BTreeSet::from(["DLA-3105-1".into(), "DLA-3144-1".into()])
    );
    for pkg in ["connman", "connman-vpn"] {
        let c = vulns_of(&v, pkg);
        assert_eq!(c.len(), 1, "{pkg}: one merged vulnerability: {c:?}");
        assert_eq!(
            strings(&c[0]["advisories"])
                .into_iter()
                .collect::<BTreeSet<_>>(),
            connman_oracle
        );
        assert_eq!(c[0]["fixed_version"], "1.36-2.1~deb10u4");
        let aliases = strings(&c[0]["aliases"]);
        for cve in [
            "CVE-2022-23096",
            "CVE-2022-23097",
            "CVE-2022-23098",
            "CVE-2022-32292",
            "CVE-2022-32293",
        ] {
            assert!(aliases.contains(&cve.to_string()), "{pkg}: {aliases:?}");
        }
    }
    assert_eq!(vulns_of(&v, "connman-vpn")[0]["source_package"], "connman");

    // Python: the advisories whose `versions` list names the installed version.
    for (pkg, version) in [("Werkzeug", "2.2.2"), ("httpie", "3.2.2")] {
        let oracle = pypi_oracle(&pkg.to_ascii_lowercase(), version);
        assert!(!oracle.is_empty());
        let got: BTreeMap<String, String> = vulns_of(&v, pkg)
            .iter()
            .map(|m| {
                let pysec = strings(&m["advisories"]).remove(0);
                (pysec, m["id"].as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(got, oracle, "{pkg}");
    }

    // Go: umoci's toolchain (Debian's golang-1.19 1.19.8) is matched as `stdlib`:
    // GO-2023-1840 (fixed 1.19.10) and GO-2023-1878 (fixed 1.19.11) apply, GO-2023-1621
    // (fixed 1.19.7) does not.
    let go = umoci_go_version();
    let stdlib: Vec<&Value> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "stdlib")
        .collect();
    assert_eq!(stdlib.len(), 1);
    assert_eq!(stdlib[0]["version"], go.as_str());
    assert!(dpkg_lt(&go, "1.19.10") && !dpkg_lt(&go, "1.19.7"), "{go}");

    let expected = BTreeSet::from([
        t("CVE-2021-3156", "sudo", Some("1.8.27-1+deb10u3")),
        t("CVE-2021-23239", "sudo", Some("1.8.27-1+deb10u4")),
        t("CVE-2023-22809", "sudo", Some("1.8.27-1+deb10u5")),
        t("DLA-3105-1", "connman", Some("1.36-2.1~deb10u4")),
        t("DLA-3105-1", "connman-vpn", Some("1.36-2.1~deb10u4")),
        t("CVE-2023-46136", "Werkzeug", Some("2.3.8")),
        t("CVE-2023-23934", "Werkzeug", Some("2.2.3")),
        t("CVE-2023-25577", "Werkzeug", Some("2.2.3")),
        t("CVE-2023-48052", "httpie", None),
        t("CVE-2023-29403", "stdlib", Some("1.19.10")),
        t("CVE-2023-29406", "stdlib", Some("1.19.11")),
    ]);
    assert_eq!(triples(&v), expected);
    assert_eq!(
        v["vulnerabilities"].as_array().unwrap().len(),
        expected.len()
    );

    // Severity from CVSS vectors: CVE-2023-46136 AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H = 7.5,
    // CVE-2023-48052 AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N = 7.4; the others carry none.
    let list = v["vulnerabilities"].as_array().unwrap();
    assert_eq!(list[0]["id"], "CVE-2023-46136", "most severe first");
    assert_eq!(list[0]["cvss_score"], 7.5);
    assert_eq!(list[0]["severity"], "high");
    assert_eq!(list[1]["id"], "CVE-2023-48052");
    assert_eq!(list[1]["cvss_score"], 7.4);
    assert!(list[2..].iter().all(|m| m["severity"].is_null()));
    let s = &v["vulnerability_scan"];
    assert_eq!(s["counts"]["high"], 2);
    assert_eq!(s["counts"]["unknown"], 9);
    assert_eq!(s["shown"], 11);
    assert_eq!(s["notorious"], 1);
    assert_eq!(s["failed"], false);
    assert!(
        list[0]["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:pypi/werkzeug@2.2.2")
    );

    // The same files as a two-layer OCI image layout (the Go binary in its own layer) give the
    // same vulnerabilities.
    let layout = dir.path().join("layout");
    oci_layout_of(&root, &layout, "buster");
    let (out, from_layout) = scan_json("--oci-layout", &layout, &["--image", "buster"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(triples(&from_layout), expected);

    // Table: the severity, score and notorious name are shown.
    let db = database().display().to_string();
    let out = isolated(&[
        "image",
        "scan",
        "--rootfs",
        root.to_str().unwrap(),
        "--db",
        &db,
    ])
    .output();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("Vulnerabilities: 11 (2 high, 9 unknown), 1 notorious"),
        "{text}"
    );
    let row = text.lines().find(|l| l.contains("CVE-2021-3156")).unwrap();
    assert!(
        row.contains("Baron Samedit") && row.contains("1.8.27-1+deb10u3"),
        "{row}"
    );
    let row = text.lines().find(|l| l.contains("CVE-2023-46136")).unwrap();
    assert!(row.starts_with("HIGH 7.5"), "{row}");
}

#[test]
fn fail_on_and_fixable_only() {
    let dir = tempfile::tempdir().unwrap();
    let debian = dir.path().join("debian");
    debian_rootfs(&debian);
    // Only Python packages: no notorious vulnerability, two high ones (one fixable).
    let python = dir.path().join("python");
    let site = "usr/lib/python3/dist-packages";
    write(
        &python,
        &format!("{site}/Werkzeug-2.2.2.dist-info/METADATA"),
        b"Metadata-Version: 2.1\nName: Werkzeug\nVersion: 2.2.2\n",
    );
    write(
        &python,
        &format!("{site}/httpie-3.2.2.dist-info/METADATA"),
        b"Metadata-Version: 2.1\nName: httpie\nVersion: 3.2.2\n",
    );
    let code = |root: &Path, extra: &[&str]| scan_json("--rootfs", root, extra).0.status.code();
    assert_eq!(code(&python, &["--fail-on", "high"]), Some(1));
    assert_eq!(code(&python, &["--fail-on", "critical"]), Some(0));
    assert_eq!(code(&python, &[]), Some(0), "no --fail-on, no failure");
    // CVE-2021-3156 (Baron Samedit) is notorious: it fails any threshold.
    let (out, v) = scan_json("--rootfs", &debian, &["--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("CVE-2021-3156"), "{}", stderr(&out));
    assert_eq!(v["vulnerability_scan"]["failed"], true);

    // --fixable-only hides httpie's CVE-2023-48052 (no fixed version): the only high one left
    // is fixable, so --fail-on high still fails, through CVE-2023-46136.
    let (out, v) = scan_json(
        "--rootfs",
        &python,
        &["--fixable-only", "--fail-on", "high"],
    );
    assert_eq!(out.status.code(), Some(1));
    let ids: BTreeSet<String> = triples(&v).into_iter().map(|t| t.0).collect();
    assert_eq!(
        ids,
        BTreeSet::from([
            "CVE-2023-46136".to_string(),
            "CVE-2023-23934".into(),
            "CVE-2023-25577".into()
        ])
    );
    assert_eq!(v["vulnerability_scan"]["hidden"], 1);
    assert!(
        v["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["fixed_version"].is_string())
    );
    assert!(!stderr(&out).contains("CVE-2023-48052"));

    // --no-vulns: packages only.
    let (out, v) = scan_json("--rootfs", &python, &["--no-vulns"]);
    assert!(out.status.success());
    assert!(v.get("vulnerabilities").is_none() && v.get("vulnerability_scan").is_none());
    assert_eq!(v["packages"].as_array().unwrap().len(), 2);
}

#[test]
fn alpine_image_matches_by_origin_and_branch() {
    let dir = tempfile::tempdir().unwrap();
    alpine_rootfs(dir.path());
    let (out, v) = scan_json("--rootfs", dir.path(), &["--fail-on", "low"]);
    // alpine/v3.10/main.yaml: busybox secfixes 1.30.1-r2: [CVE-2019-5747], 1.29.3-r10:
    // [CVE-2018-20679, CVE-2019-5747]; musl 1.1.22-r3: [CVE-2019-14697]. secdb data has no
    // severity, so --fail-on low does not fail.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        triples(&v),
        BTreeSet::from([
            t("CVE-2019-5747", "busybox", Some("1.30.1-r2")),
            t("CVE-2019-5747", "ssl_client", Some("1.30.1-r2")),
            t("CVE-2019-14697", "musl", Some("1.1.22-r3")),
        ])
    );
    assert_eq!(vulns_of(&v, "ssl_client")[0]["source_package"], "busybox");
}

#[test]
fn missing_database_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    alpine_rootfs(&root);
    let missing = dir.path().join("none/vuln.db");
    let args = |extra: &[&str]| -> Output {
        let mut a = vec![
            "image",
            "scan",
            "--rootfs",
            root.to_str().unwrap(),
            "--format",
            "json",
        ];
        a.extend_from_slice(extra);
        isolated(&a).output()
    };
    let out = args(&["--db", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("palisade db import") && err.contains(missing.to_str().unwrap()),
        "{err}"
    );
    let v = json_of(&out);
    assert_eq!(v["vulnerability_scan"]["status"], "unavailable");
    assert_eq!(v["packages"].as_array().unwrap().len(), 3);
    assert!(!missing.exists(), "scanning never creates a database");
    // A gate cannot pass without data.
    let out = args(&["--db", missing.to_str().unwrap(), "--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(3));
    // The default path (HOME without a database) is named too.
    let out = args(&[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(".local/share/palisade/vuln.db"),
        "{}",
        stderr(&out)
    );
}

/// SARIF 2.1.0 §3.27: every result names its rule (ruleId, and ruleIndex into the driver's
/// rules), which are unique by id.
fn check_rules(doc: &Value) -> (usize, BTreeSet<String>) {
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let unique: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
    assert_eq!(unique.len(), ids.len(), "one rule per vulnerability id");
    let results = run["results"].as_array().unwrap();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].is_string());
    }
    (results.len(), unique)
}

#[test]
fn sarif_and_sbom_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    debian_rootfs(&root);
    let db = database().display().to_string();
    let sarif = dir.path().join("image.sarif");
    let out = isolated(&[
        "image",
        "scan",
        "--rootfs",
        root.to_str().unwrap(),
        "--db",
        &db,
        "--format",
        "sarif",
        "-o",
        sarif.to_str().unwrap(),
    ])
    .output();
    assert!(out.status.success(), "{}", stderr(&out));
    support::sarif::validate(&sarif);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let (results, rules) = check_rules(&doc);
    // 11 vulnerabilities (see the Debian test), 10 ids: DLA-3105-1 affects two packages.
    assert_eq!(results, 11);
    assert_eq!(rules.len(), 10);
    let r = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "CVE-2021-3156")
        .unwrap();
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "var/lib/dpkg/status"
    );
    assert_eq!(r["level"], "error", "notorious");

    // The CycloneDX SBOM of the image, scanned: the same vulnerabilities of the same packages.
    let (_, from_image) = scan_json("--rootfs", &root, &[]);
    let bom = dir.path().join("bom.cdx.json");
    let out = isolated(&[
        "image",
        "scan",
        "--rootfs",
        root.to_str().unwrap(),
        "--format",
        "cyclonedx",
        "-o",
        bom.to_str().unwrap(),
    ])
    .output();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "SBOM output does no matching");
    let out = isolated(&[
        "sbom",
        "scan",
        bom.to_str().unwrap(),
        "--db",
        &db,
        "--format",
        "json",
    ])
    .output();
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_of(&out);
    // PyPI names are case-insensitive (PEP 503); the purl in the SBOM spells them in lower case.
    let lower = |v: &Value| -> BTreeSet<(String, String, Option<String>)> {
        triples(v)
            .into_iter()
            .map(|(i, p, f)| (i, p.to_ascii_lowercase(), f))
            .collect()
    };
    assert_eq!(lower(&v), lower(&from_image));
    assert!(v["packages"].as_array().unwrap().len() >= 6);
    let out = isolated(&[
        "sbom",
        "scan",
        bom.to_str().unwrap(),
        "--db",
        &db,
        "--fail-on",
        "critical",
    ])
    .output();
    assert_eq!(out.status.code(), Some(1), "notorious CVE-2021-3156");
    let sbom_sarif = dir.path().join("sbom.sarif");
    let out = isolated(&[
        "sbom",
        "scan",
        bom.to_str().unwrap(),
        "--db",
        &db,
        "--format",
        "sarif",
        "-o",
        sbom_sarif.to_str().unwrap(),
    ])
    .output();
    assert!(out.status.success(), "{}", stderr(&out));
    support::sarif::validate(&sbom_sarif);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&sbom_sarif).unwrap()).unwrap();
    assert_eq!(check_rules(&doc).0, 11);
    let uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"]
        .as_str()
        .unwrap();
    assert!(
        uri.starts_with("file:///") && uri.ends_with("bom.cdx.json"),
        "{uri}"
    );
}

/// A CycloneDX SBOM with one old Werkzeug: its vulnerabilities under `--min-severity`, an
/// ignore file (one live entry, one expired) and an OpenVEX `not_affected` statement. Accepted
/// vulnerabilities leave the list and the verdict but are reported with their reason.
#[test]
fn min_severity_ignore_file_and_openvex() {
    let dir = tempfile::tempdir().unwrap();
    let bom = dir.path().join("bom.cdx.json");
    std::fs::write(
        &bom,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[
            {"type":"library","name":"werkzeug","version":"0.14","purl":"pkg:pypi/werkzeug@0.14"}]}"#,
    )
    .unwrap();
    let db = database().display().to_string();
    let sbom = |extra: &[&str]| {
        let mut args = vec![
            "sbom",
            "scan",
            bom.to_str().unwrap(),
            "--db",
            &db,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = isolated(&args).output();
        (json_of(&out), stderr(&out))
    };
    let (all, _) = sbom(&[]);
    let ids = |v: &Value| -> Vec<String> {
        v["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    };
    let every = ids(&all);
    assert!(every.len() >= 4, "{every:?}");
    let severity_of = |id: &str| {
        all["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()["severity"]
            .as_str()
            .map(String::from)
    };

    // --min-severity high keeps exactly the high and critical ones.
    let (high, _) = sbom(&["--min-severity", "high"]);
    let want: Vec<String> = every
        .iter()
        .filter(|id| matches!(severity_of(id).as_deref(), Some("high" | "critical")))
        .cloned()
        .collect();
    assert_eq!(ids(&high), want);
    assert_eq!(
        high["vulnerability_scan"]["hidden"].as_u64().unwrap() as usize,
        every.len() - want.len()
    );

    // One entry accepted until 2099, one that expired in 2020.
    let (first, second, third) = (&every[0], &every[1], &every[2]);
    let ignore = dir.path().join("ignore.yaml");
    std::fs::write(
        &ignore,
        format!(
            "vulnerabilities:\n- id: {first}\n  reason: only trusted hosts reach the debugger\n  expires: 2099-12-31\n  package: werkzeug\n- id: {third}\n  reason: was accepted once\n  expires: 2020-01-01\n"
        ),
    )
    .unwrap();
    let vex = dir.path().join("werkzeug.openvex.json");
    std::fs::write(
        &vex,
        format!(
            r#"{{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/werkzeug-1",
               "author":"Shop security","timestamp":"2026-12-01T00:00:00Z","version":1,
               "statements":[{{"vulnerability":{{"name":"{second}"}},
                 "products":[{{"@id":"pkg:pypi/werkzeug"}}],
                 "status":"not_affected","justification":"vulnerable_code_not_in_execute_path",
                 "impact_statement":"the affected helper is never imported"}}]}}"#
        ),
    )
    .unwrap();
    let (v, err) = sbom(&[
        "--ignore-file",
        ignore.to_str().unwrap(),
        "--vex",
        vex.to_str().unwrap(),
    ]);
    let shown = ids(&v);
    assert!(
        !shown.contains(first) && !shown.contains(second),
        "{shown:?}"
    );
    assert!(shown.contains(third), "expired entries no longer apply");
    assert_eq!(shown.len(), every.len() - 2);
    let suppressed = v["vulnerability_scan"]["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 2, "{suppressed:?}");
    let by_id = |id: &str| suppressed.iter().find(|s| s["id"] == id).unwrap()["suppressed"].clone();
    assert_eq!(by_id(first)["by"], "ignore_file");
    assert_eq!(
        by_id(first)["reason"],
        "only trusted hosts reach the debugger"
    );
    assert_eq!(by_id(second)["by"], "vex");
    assert_eq!(
        by_id(second)["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(
        v["vulnerability_scan"]["expired_ignores"][0]["id"],
        third.as_str()
    );
    assert!(
        err.contains(&format!("ignore entry for {third} expired on 2020-01-01")),
        "{err}"
    );

    // The table lists what was accepted and why.
    let out = isolated(&[
        "sbom",
        "scan",
        bom.to_str().unwrap(),
        "--db",
        &db,
        "--vex",
        vex.to_str().unwrap(),
    ])
    .output();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("1 accepted (listed below)"), "{table}");
    assert!(
        table.contains("VEX not_affected")
            && table.contains(
                "vulnerable_code_not_in_execute_path: the affected helper is never imported"
            ),
        "{table}"
    );

    // A reasonless entry is a usage error naming the file, before anything is matched.
    std::fs::write(
        &ignore,
        "vulnerabilities:\n- id: X\n  reason: ' '\n  expires: 2099-01-01\n",
    )
    .unwrap();
    let (code, _, err) = isolated(&[
        "sbom",
        "scan",
        bom.to_str().unwrap(),
        "--db",
        &db,
        "--ignore-file",
        ignore.to_str().unwrap(),
    ])
    .run();
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("ignore.yaml") && err.contains("a reason is required"),
        "{err}"
    );
}

/// Issue 20 §4: an Alpine version with a number right after a letter (`6.6.1p1-r1`) is read
/// as apk reads it, so opensmtpd on Alpine 3.11 gets CVE-2020-7247 (fixed in `6.6.2p1-r0`,
/// alpine/v3.11/main.yaml); a version that cannot be parsed is a warning naming the package
/// on stderr and in the JSON, never a silent "0 vulnerabilities".
#[test]
fn alpine_letter_number_versions_match_and_unparseable_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vuln.db");
    let secdb = vulndata().join("alpine/v3.11/main.yaml");
    let import = format!("db import --db {} {}", db.display(), secdb.display());
    let out = isolated(&import.split(' ').collect::<Vec<_>>()).output();
    assert!(out.status.success(), "db import: {}", stderr(&out));
    let bom = dir.path().join("bom.cdx.json");
    std::fs::write(
        &bom,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[
            {"type":"library","name":"opensmtpd","version":"6.6.1p1-r1",
             "purl":"pkg:apk/alpine/opensmtpd@6.6.1p1-r1?distro=alpine-3.11"},
            {"type":"library","name":"musl","version":"1.1.24_bogus-r0",
             "purl":"pkg:apk/alpine/musl@1.1.24_bogus-r0?distro=alpine-3.11"}]}"#,
    )
    .unwrap();
    let scan = |format: &str| {
        isolated(&[
            "sbom",
            "scan",
            bom.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--format",
            format,
        ])
        .output()
    };
    let out = scan("json");
    let v = json_of(&out);
    assert!(
        triples(&v).contains(&t("CVE-2020-7247", "opensmtpd", Some("6.6.2p1-r0"))),
        "{}",
        v["vulnerabilities"]
    );
    let unparsed = &v["vulnerability_scan"]["stats"]["unparsed_versions"];
    assert_eq!(unparsed.as_array().map(Vec::len), Some(1), "{unparsed}");
    assert_eq!(unparsed[0]["package"], "musl");
    assert_eq!(unparsed[0]["version"], "1.1.24_bogus-r0");
    let err = stderr(&out);
    assert!(
        err.contains("warning") && err.contains("musl") && err.contains("1.1.24_bogus-r0"),
        "{err}"
    );
    assert!(!err.contains("opensmtpd"), "opensmtpd parses: {err}");
    let table = String::from_utf8_lossy(&scan("table").stdout).into_owned();
    assert!(table.contains("CVE-2020-7247"), "{table}");
    assert!(table.contains("1 version could not be parsed"), "{table}");
}
