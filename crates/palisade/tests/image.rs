//! `palisade image scan` end to end: the real binary on a debootstrap rootfs, on an OCI layout
//! made from it by umoci, and pulled by reference from a real docker-registry after a skopeo
//! push. Expectations come from dpkg-query on the same rootfs.
#![cfg(feature = "image")]

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

use palisade_testkit::{Registry, cache, skopeo};
use support::cli::palisade;

fn tool(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{cmd:?}: {e}; run scripts/test (scripts/setup/20-registry.sh)")
    });
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn expected_debs(root: &Path) -> usize {
    tool(
        Command::new("dpkg-query")
            .arg(format!(
                "--admindir={}",
                root.join("var/lib/dpkg").display()
            ))
            .args(["-W", "-f=${db:Status-Status}\n"]),
    )
    .lines()
    .filter(|l| *l == "installed")
    .count()
}

fn debian_count(json: &serde_json::Value) -> usize {
    json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ecosystem"] == "Debian")
        .count()
}

/// An OCI layout with the rootfs as one layer, written by umoci.
fn umoci_layout(dir: &Path) -> PathBuf {
    let layout = dir.join("layout");
    let image = format!("{}:bookworm", layout.display());
    tool(
        Command::new("umoci")
            .args(["init", "--layout"])
            .arg(&layout),
    );
    tool(Command::new("umoci").args(["new", "--image", &image]));
    tool(
        Command::new("umoci")
            .args(["insert", "--image", &image])
            .arg(cache::debian_rootfs())
            .arg("/"),
    );
    tool(Command::new("umoci").args([
        "config",
        "--image",
        &image,
        "--config.user",
        "1000",
        "--config.exposedports",
        "8080/tcp",
    ]));
    layout
}

#[test]
fn rootfs_and_umoci_layout_scans_match_dpkg_query() {
    let root = cache::debian_rootfs();
    let expected = expected_debs(&root);
    let out = palisade(&[
        "image",
        "scan",
        "--rootfs",
        root.to_str().unwrap(),
        "--format",
        "json",
    ])
    .output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(debian_count(&json), expected);

    let dir = tempfile::tempdir().unwrap();
    let layout = umoci_layout(dir.path());
    let out = palisade(&[
        "image",
        "scan",
        "--oci-layout",
        layout.to_str().unwrap(),
        "--image",
        "bookworm",
        "--format",
        "json",
    ])
    .output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(debian_count(&json), expected);
    assert_eq!(json["facts"]["user"], "1000");
    assert_eq!(json["facts"]["runs_as_root"], false);
    assert_eq!(json["facts"]["exposed_ports"][0], "8080/tcp");
    assert_eq!(json["os"]["version_id"], "12");

    let table = palisade(&["image", "scan", "--rootfs", root.to_str().unwrap()]).output();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("OS:        Debian GNU/Linux 12 (bookworm)"),
        "{text}"
    );
    assert!(text.contains(&format!("{expected} packages")), "{text}");
}

#[test]
fn pull_by_reference_from_a_real_registry() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let layout = umoci_layout(dir.path());
    let reference = format!("{}/debian:bookworm", reg.addr);
    skopeo::copy(&layout, "bookworm", &reference, skopeo::Push::default());
    let out = palisade(&["image", "scan", &reference, "--format", "cyclonedx"]).output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(bom["specVersion"], "1.6");
    let debs = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:deb/debian/"))
        })
        .count();
    assert_eq!(debs, expected_debs(&cache::debian_rootfs()));
    assert!(
        bom["metadata"]["component"]["version"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );

    // A missing tag is an input error (exit 3) with the registry's answer.
    let out = palisade(&["image", "scan", &format!("{}/debian:missing", reg.addr)]).output();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("debian:missing"));
}

#[test]
fn unusable_sources_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = palisade(&[
        "image",
        "scan",
        "--oci-layout",
        dir.path().to_str().unwrap(),
    ])
    .output();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("oci-layout"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = palisade(&["image", "scan"]).output();
    assert_eq!(out.status.code(), Some(2));
    let out = palisade(&["image", "scan", "--rootfs", "/", "--oci-layout", "/"]).output();
    assert_eq!(out.status.code(), Some(2), "two sources conflict");
}
