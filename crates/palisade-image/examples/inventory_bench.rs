//! Inventory throughput on a large generated gzip layer, against `gzip -dc FILE | tar t` on
//! the same file.
//!
//! `cargo run --release -p palisade-image --example inventory_bench -- [MiB] [file]`
//! (default 1024 MiB uncompressed, in 64 KiB files, plus a dpkg status file).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use palisade_image::Limits;
use palisade_image::unpack::{LayerExpectation, Unpacker};

fn main() {
    let mib: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1024);
    let path = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "/tmp/palisade-bench-layer.tar.gz".into());
    let file_size = 64 * 1024;
    let files = mib * 1024 * 1024 / file_size;
    if !std::path::Path::new(&path).exists() {
        eprintln!("generating {files} files ({mib} MiB) into {path}");
        let out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        let status = std::fs::read("/var/lib/dpkg/status").unwrap_or_default();
        let mut h = tar::Header::new_gnu();
        h.set_size(status.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "var/lib/dpkg/status", &status[..])
            .unwrap();
        // Text-like content: words from a small vocabulary chosen by an LCG (compresses ~3:1).
        let words: Vec<&[u8]> = [
            "alpha ", "beta ", "gamma ", "delta\n", "kube ", "pod ", "image ", "layer ", "0x1f ",
            "sha256 ",
        ]
        .iter()
        .map(|w| w.as_bytes())
        .collect();
        let mut x: u64 = 42;
        let mut buf = Vec::with_capacity(file_size as usize);
        for i in 0..files {
            buf.clear();
            while (buf.len() as u64) < file_size {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                buf.extend_from_slice(words[(x >> 60) as usize % words.len()]);
                buf.extend_from_slice(&x.to_le_bytes()[..2]);
            }
            buf.truncate(file_size as usize);
            let mut h = tar::Header::new_gnu();
            h.set_size(file_size);
            h.set_mode(if i % 50 == 0 { 0o755 } else { 0o644 });
            h.set_cksum();
            tar.append_data(
                &mut h,
                format!("usr/share/data/d{}/f{i}.txt", i % 100),
                &buf[..],
            )
            .unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    }
    let compressed = std::fs::metadata(&path).unwrap().len();

    let t = Instant::now();
    let gz = Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -dc '{path}' | tar t > /dev/null"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(gz.success());
    let baseline = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let file = std::fs::File::open(&path).unwrap();
    let mut u = Unpacker::new(Limits::default());
    let info = u
        .apply_layer(
            std::io::BufReader::with_capacity(1 << 20, file),
            &LayerExpectation::default(),
        )
        .unwrap()
        .clone();
    let fs = u.finish().unwrap();
    let inv = palisade_image::inventory::inventory(&fs);
    let ours = t.elapsed().as_secs_f64();
    let mb = info.uncompressed_size as f64 / 1e6;
    println!(
        "layer: {} MB compressed, {:.0} MB uncompressed, {} entries",
        compressed / 1_000_000,
        mb,
        info.entries
    );
    println!(
        "gzip -dc | tar t:                     {baseline:.2} s ({:.0} MB/s)",
        mb / baseline
    );
    println!(
        "palisade unpack+digests+inventory:    {ours:.2} s ({:.0} MB/s), {} packages",
        mb / ours,
        inv.packages.len()
    );
    println!(
        "relative speed: {:.0}% of gzip|tar",
        baseline / ours * 100.0
    );
}
