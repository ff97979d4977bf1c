//! Test support shared by the CLI tests that need a real registry.
#![allow(dead_code)]

use std::process::Command;

use palisade_image::builder::{ImageSpec, LayerBuilder, OciLayoutWriter};

pub use palisade_testkit::Registry;

/// Pushes a one-layer image with `files` to `dest` (skopeo); returns its manifest digest.
pub fn push(dest: &str, files: &[(&str, &[u8])]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let w = OciLayoutWriter::create(dir.path()).unwrap();
    let mut layer = LayerBuilder::new();
    for (path, data) in files {
        layer = layer.file(path, 0o644, data);
    }
    let d = w.image(&ImageSpec::new(vec![layer.gzip()])).unwrap();
    w.finish(vec![(d.clone(), Some("v1"))]).unwrap();
    let out = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:v1", dir.path().display()))
        .arg(format!("docker://{dest}"))
        .output()
        .expect("skopeo missing: run scripts/test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    d.digest
}
