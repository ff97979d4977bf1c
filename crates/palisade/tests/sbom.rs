//! `palisade sbom scan` reads back the SBOMs `palisade image scan` writes.
#![cfg(feature = "image")]

mod support;

use support::cli::palisade;

#[test]
fn cyclonedx_and_spdx_round_trip_through_the_cli() {
    let root = palisade_testkit::cache::debian_rootfs();
    let root = root.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scan = palisade(&["image", "scan", "--rootfs", root, "--format", "json"]).output();
    let scan: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
    let mut expected: Vec<String> = scan["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["purl"].as_str().unwrap().to_string())
        .collect();
    expected.sort();
    for format in ["cyclonedx", "spdx"] {
        let file = dir.path().join(format!("bom.{format}.json"));
        let out = palisade(&[
            "image",
            "scan",
            "--rootfs",
            root,
            "--format",
            format,
            "-o",
            file.to_str().unwrap(),
        ])
        .output();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = palisade(&["sbom", "scan", file.to_str().unwrap(), "--format", "json"]).output();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["source"], file.to_str().unwrap());
        let pkgs = &doc["packages"];
        let mut got: Vec<String> = pkgs
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["purl"].as_str().unwrap().to_string())
            .collect();
        got.sort();
        assert_eq!(got, expected, "{format}");
        assert!(
            pkgs.as_array()
                .unwrap()
                .iter()
                .any(|p| p["source_name"] == "util-linux")
        );
    }
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"not\": \"an sbom\"}").unwrap();
    let out = palisade(&["sbom", "scan", bad.to_str().unwrap()]).output();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
}
