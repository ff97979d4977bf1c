//! A real Debian `docker-registry` on a free loopback port, and images pushed into it by
//! skopeo (an independent client) from OCI layouts made by palisade-image's builder.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use palisade_image::builder::{ImageSpec, LayerBuilder, OciLayoutWriter};

pub use palisade_testkit::Registry;
pub use palisade_testkit::skopeo::{self, run};

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
    skopeo::copy(&layout, "v1", dest, skopeo::Push::default());
    skopeo::digest(dest)
}

pub fn blob_path(storage: &Path, digest: &str) -> PathBuf {
    let hex = digest.trim_start_matches("sha256:");
    storage.join(format!(
        "docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ))
}
