//! Unpacking time of a layer of nested directories `d`, `d/d`, `d/d/d`, … (issue 24: hostile
//! depth), for each depth given on the command line.
//!
//! `cargo run -p palisade-image --example deep_layer_bench -- [--no-depth-limit] 1000 2000 4000 10000`
//! (`--no-depth-limit` lifts [`Limits::max_path_depth`] to time the path work itself).
//!
//! `… -- --links 80000`: that many files written alternately through two symlinks to a
//! 1,000-deep directory (every entry walks 1,000 components), to time the path work budget.

use std::time::Instant;

use palisade_image::Limits;
use palisade_image::builder::{Layer, LayerBuilder};
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
    if let Some(entries) = std::env::args()
        .skip_while(|a| a != "--links")
        .nth(1)
        .and_then(|n| n.parse::<usize>().ok())
    {
        time("links", &amplifying_links(entries), limits);
        return;
    }
    for depth in depths {
        let mut builder = LayerBuilder::new();
        let mut path = String::from("d");
        for _ in 0..depth {
            builder = builder.dir(&path);
            path.push_str("/d");
        }
        time(&format!("depth {depth}"), &builder.gzip(), limits);
    }
}

/// `entries` files written alternately through two links to a 1,000-deep directory.
fn amplifying_links(entries: usize) -> Layer {
    let deep = "x/".repeat(1000);
    let mut builder = LayerBuilder::new()
        .dir(deep.trim_end_matches('/'))
        .symlink("t", &deep)
        .symlink("u", &deep);
    for i in 0..entries {
        let via = if i % 2 == 0 { "t" } else { "u" };
        builder = builder.file(&format!("{via}/f{i}"), 0o644, b"x");
    }
    builder.gzip()
}

/// Unpacks `layer` and prints the time and the outcome.
fn time(what: &str, layer: &Layer, limits: Limits) {
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
        "{what}: {} KB compressed: {:.2} s: {outcome}",
        layer.blob.len() / 1024,
        elapsed.as_secs_f64()
    );
}
