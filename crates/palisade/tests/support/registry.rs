//! Test support shared by the CLI tests that need a real registry.
#![allow(dead_code, unused_imports)]

use palisade_image::builder::{ImageSpec, LayerBuilder, OciLayoutWriter};

pub use palisade_testkit::Registry;
use palisade_testkit::skopeo;

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
    skopeo::copy(dir.path(), "v1", dest, skopeo::Push::default());
    d.digest
}
