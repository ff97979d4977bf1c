//! Unpacking time of a layer of nested directories `d`, `d/d`, `d/d/d`, … (issue 24: hostile
//! depth), for each depth given on the command line.
//!
//! `cargo run -p palisade-image --example deep_layer_bench -- [--no-depth-limit] 1000 2000 4000 10000`
//! (`--no-depth-limit` lifts [`Limits::max_path_depth`] to time the path work itself).

use std::time::Instant;

use palisade_image::Limits;
use palisade_image::builder::LayerBuilder;
use palisade_image::unpack::{LayerExpectation, Unpacker};

fn main() {
    let depths: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let mut limits = Limits::default();
    if std::env::args().any(|a| a == "--no-depth-limit") {
        limits.max_path_depth = usize::MAX;
        limits.max_compression_ratio = u64::MAX;
    }
    for depth in depths {
        let mut builder = LayerBuilder::new();
        let mut path = String::from("d");
        for _ in 0..depth {
            builder = builder.dir(&path);
            path.push_str("/d");
        }
        let layer = builder.gzip();
        let start = Instant::now();
        let mut unpacker = Unpacker::new(limits);
        let outcome = unpacker
            .apply_layer(&layer.blob[..], &LayerExpectation::default())
            .map(|_| ())
            .and_then(|()| unpacker.finish().map(|fs| fs.len()));
        let elapsed = start.elapsed();
        let outcome = match outcome {
            Ok(n) => format!("unpacked, {n} paths"),
            Err(e) => format!("refused: {e}"),
        };
        println!(
            "depth {depth}: {} KB compressed: {:.2} s: {outcome}",
            layer.blob.len() / 1024,
            elapsed.as_secs_f64()
        );
    }
}
