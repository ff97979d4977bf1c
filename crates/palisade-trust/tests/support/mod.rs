//! A real Debian `docker-registry` on a free loopback port, and images pushed into it by
//! skopeo (an independent client) from OCI layouts made by palisade-image's builder.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_image::builder::{ImageSpec, LayerBuilder, OciLayoutWriter};

pub use palisade_testkit::Registry;

pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}; run scripts/test"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Pushes a one-layer image whose file `etc/marker` holds `marker` to `dest` (`host/repo:tag`)
/// and returns its manifest digest as the registry reports it (skopeo inspect).
pub fn push_image(dest: &str, marker: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let w = OciLayoutWriter::create(&layout).unwrap();
    let spec = ImageSpec::new(vec![
        LayerBuilder::new()
            .file("etc/os-release", 0o644, b"ID=debian\nVERSION_ID=\"12\"\n")
            .file("etc/marker", 0o644, marker.as_bytes())
            .gzip(),
    ]);
    let d = w.image(&spec).unwrap();
    w.finish(vec![(d, Some("v1"))]).unwrap();
    run(Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://{dest}")));
    digest_of(dest)
}

pub fn digest_of(reference: &str) -> String {
    run(Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"])
        .arg(format!("docker://{reference}")))
    .trim()
    .to_string()
}

pub fn blob_path(storage: &Path, digest: &str) -> PathBuf {
    let hex = digest.trim_start_matches("sha256:");
    storage.join(format!(
        "docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ))
}
