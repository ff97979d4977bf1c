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

/// A zip bomb of overlapping entries: one deflated member of `size` zero-ish bytes named
/// `0.json`, listed `copies` times in the central directory (as `<i>.json`), every entry
/// pointing at the same local header. A few kilobytes that inflate to `size × copies`.
pub fn overlapping_zip(size: usize, copies: usize) -> Vec<u8> {
    overlapping_zip_with(size, copies, false)
}

/// [`overlapping_zip`] whose member's CRC-32 is wrong (in its local header and in every
/// central directory entry): a reader finds that out only after inflating all of its bytes.
pub fn overlapping_zip_with(size: usize, copies: usize, wrong_crc: bool) -> Vec<u8> {
    let mut one = {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("0.json", opts).unwrap();
        w.write_all(&vec![b' '; size]).unwrap();
        w.finish().unwrap();
        buf.into_inner()
    };
    // End of central directory: the last 22 bytes (no comment).
    let eocd = one.len() - 22;
    assert_eq!(&one[eocd..eocd + 4], b"PK\x05\x06");
    let cd_size = u32::from_le_bytes(one[eocd + 12..eocd + 16].try_into().unwrap()) as usize;
    let cd_offset = u32::from_le_bytes(one[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
    if wrong_crc {
        // CRC-32 at offset 14 of the local header (at 0) and 16 of the central entry.
        assert_eq!(&one[..4], b"PK\x03\x04");
        for at in [14, cd_offset + 16] {
            one[at] ^= 0xff;
        }
    }
    let entry = &one[cd_offset..cd_offset + cd_size];
    assert_eq!(&entry[..4], b"PK\x01\x02");
    let name_len = u16::from_le_bytes(entry[28..30].try_into().unwrap()) as usize;
    assert_eq!(&entry[46..46 + name_len], b"0.json");
    let mut out = one[..cd_offset].to_vec();
    let mut directory = Vec::new();
    for i in 0..copies {
        let name = format!("{i}.json");
        let mut e = entry[..46].to_vec();
        e[28..30].copy_from_slice(&(name.len() as u16).to_le_bytes());
        e.extend_from_slice(name.as_bytes());
        e.extend_from_slice(&entry[46 + name_len..]);
        directory.extend_from_slice(&e);
    }
    let new_offset = out.len() as u32;
    out.extend_from_slice(&directory);
    let mut end = one[eocd..].to_vec();
    end[8..10].copy_from_slice(&(copies as u16).to_le_bytes());
    end[10..12].copy_from_slice(&(copies as u16).to_le_bytes());
    end[12..16].copy_from_slice(&(directory.len() as u32).to_le_bytes());
    end[16..20].copy_from_slice(&new_offset.to_le_bytes());
    out.extend_from_slice(&end);
    out
}
