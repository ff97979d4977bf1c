//! OCI layouts that try to stall or flood the reader: FIFOs in place of `index.json` or a
//! blob (an `open()` that never returns), an oversized `index.json`, and an index with a
//! million entries whose error message must stay short.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use palisade_image::builder::{ImageSpec, LayerBuilder, OciLayoutWriter};
use palisade_image::source::NoProgress;
use palisade_image::{ImageError, Limits, scan_oci_layout};

/// A valid one-image layout in `dir`; returns the digest hex of its only layer.
fn layout(dir: &Path) -> String {
    let layer = LayerBuilder::new()
        .file("etc/os-release", 0o644, b"ID=alpine\nVERSION_ID=3.20.0\n")
        .gzip();
    let w = OciLayoutWriter::create(dir).unwrap();
    let d = w.image(&ImageSpec::new(vec![layer])).unwrap();
    w.finish(vec![(d.clone(), None)]).unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            dir.join("blobs/sha256")
                .join(d.digest.trim_start_matches("sha256:")),
        )
        .unwrap(),
    )
    .unwrap();
    manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string()
}

fn mkfifo(path: &Path) {
    std::fs::remove_file(path).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
}

/// Scans the layout on another thread; the test fails if the scan does not return in time.
fn scan(dir: &Path) -> Result<palisade_image::ImageScan, ImageError> {
    let (tx, rx) = mpsc::channel();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(scan_oci_layout(
            &dir,
            None,
            None,
            Limits::default(),
            &NoProgress,
        ));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the scan blocked")
}

#[test]
fn a_fifo_as_index_json_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    layout(dir.path());
    mkfifo(&dir.path().join("index.json"));
    let err = scan(dir.path()).expect_err("must fail");
    let text = err.to_string();
    assert!(
        text.contains("index.json") && text.contains("not a regular file (a FIFO)"),
        "{text}"
    );
}

#[test]
fn a_fifo_as_a_layer_blob_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let layer = layout(dir.path());
    mkfifo(&dir.path().join("blobs/sha256").join(&layer));
    let err = scan(dir.path()).expect_err("must fail");
    let text = err.to_string();
    assert!(
        text.contains(&layer) && text.contains("not a regular file (a FIFO)"),
        "{text}"
    );
}

#[test]
fn an_oversized_index_json_is_refused_before_it_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    layout(dir.path());
    // 5 MiB of valid JSON padding: over the 4 MiB manifest cap.
    let mut big = String::from("{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"x\":\"");
    big.push_str(&"a".repeat(5 << 20));
    big.push_str("\"}}");
    std::fs::write(dir.path().join("index.json"), big).unwrap();
    let text = scan(dir.path()).expect_err("must fail").to_string();
    assert!(
        text.contains("index.json") && text.contains("larger than the limit of 4194304 bytes"),
        "{text}"
    );
}

#[test]
fn an_index_of_many_platforms_gives_a_short_error() {
    let dir = tempfile::tempdir().unwrap();
    layout(dir.path());
    let manifests: Vec<serde_json::Value> = (0..20_000)
        .map(|i| {
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": format!("sha256:{:064x}", i),
                "size": 100,
                "platform": {"os": "plan9", "architecture": format!("arch{i}")}
            })
        })
        .collect();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
    std::fs::write(
        dir.path().join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    let text = scan(dir.path()).expect_err("must fail").to_string();
    assert!(text.len() < 1_000, "{} bytes: {text}", text.len());
    assert!(
        text.contains("plan9/arch0") && text.contains("and 19990 more"),
        "{text}"
    );
}
