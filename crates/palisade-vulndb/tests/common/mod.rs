//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod server;

use std::io::Write;
use std::path::{Path, PathBuf};

/// The shared real vulnerability data.
pub fn vulndata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

/// A zip (deflate) of the given files, stored under `prefix/<file name>`, plus extra entries.
pub fn zip_of(files: &[PathBuf], prefix: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for f in files {
            let name = format!("{prefix}/{}", f.file_name().unwrap().to_string_lossy());
            w.start_file(name, opts).unwrap();
            w.write_all(&std::fs::read(f).unwrap()).unwrap();
        }
        for (name, bytes) in extra {
            w.start_file(*name, opts).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

/// The first `n` files (sorted) of a directory.
pub fn first_files(dir: &Path, n: usize) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v.truncate(n);
    v
}
