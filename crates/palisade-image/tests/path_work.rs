//! Issue 24: path handling is linear in the entries of a layer, and a per-image work budget
//! (`Limits::max_path_depth`, `Limits::max_path_steps`) refuses crafted layers with an error
//! naming the layer and the entry, instead of running for minutes. No timed assertion: the
//! budgets themselves are the witnesses (the old code walked every parent from the root, about
//! n²/2 component steps for n nested directories).

use palisade_image::builder::{Layer, LayerBuilder};
use palisade_image::fs::ImageFs;
use palisade_image::unpack::{LayerExpectation, Unpacker};
use palisade_image::{ImageError, Limits};

/// `d`, `d/d`, `d/d/d`, … `depth` nested directories.
fn nested_dirs(depth: usize) -> Layer {
    let mut builder = LayerBuilder::new();
    let mut path = String::from("d");
    for _ in 0..depth {
        builder = builder.dir(&path);
        path.push_str("/d");
    }
    builder.gzip()
}

fn apply(layers: &[Layer], limits: Limits) -> Result<ImageFs, ImageError> {
    let mut u = Unpacker::new(limits);
    for l in layers {
        u.apply_layer(&l.blob[..], &LayerExpectation::default())?;
    }
    u.finish()
}

#[test]
fn a_ten_thousand_deep_layer_is_refused_naming_the_layer_and_the_entry() {
    let layer = nested_dirs(10_000);
    let err = apply(&[layer], Limits::default()).unwrap_err();
    match &err {
        ImageError::PathDepthLimit {
            layer,
            path,
            depth,
            limit,
        } => {
            assert_eq!((*depth, *limit), (1025, 1024));
            assert_eq!(layer, "#0");
            assert!(path.starts_with("d/d/d/"), "{path}");
            assert!(path.ends_with("(2049 bytes)"), "shortened: {path}");
        }
        other => panic!("expected the depth limit, got {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("1025 directories deep, over the limit of 1024"),
        "{message}"
    );
}

#[test]
fn nested_directories_take_work_linear_in_their_number() {
    // 2,000 nested directories unpack within a budget of 2,000 steps: each entry reuses the
    // resolution of the directory before it.
    let depth = 2_000;
    let limits = Limits {
        max_path_depth: depth,
        max_path_steps: depth as u64,
        ..Limits::default()
    };
    let fs = apply(&[nested_dirs(depth)], limits).unwrap();
    assert_eq!(fs.len(), depth);
    // Siblings in many directories, each listed after its directory: one step per entry or
    // fewer as well.
    let mut builder = LayerBuilder::new();
    for d in 0..100 {
        builder = builder.dir(&format!("usr/share/doc/p{d}"));
        for f in 0..20 {
            builder = builder.file(&format!("usr/share/doc/p{d}/f{f}"), 0o644, b"x");
        }
    }
    let limits = Limits {
        max_path_steps: 2_100 + 4 * 100,
        ..Limits::default()
    };
    let fs = apply(&[builder.gzip()], limits).unwrap();
    assert_eq!(fs.len(), 3 + 100 + 2_000);
}

#[test]
fn symlink_amplification_exhausts_the_work_budget_naming_the_entry() {
    // Two links to a 500-deep directory; entries written alternately through each defeat any
    // reuse, so every entry walks 500 components of target.
    let deep = "x/".repeat(500);
    let mut builder = LayerBuilder::new()
        .dir(deep.trim_end_matches('/'))
        .symlink("t", &deep)
        .symlink("u", &deep);
    for i in 0..400 {
        let via = if i % 2 == 0 { "t" } else { "u" };
        builder = builder.file(&format!("{via}/f{i}"), 0o644, b"x");
    }
    let layer = builder.gzip();
    let limits = Limits {
        max_path_steps: 100_000,
        ..Limits::default()
    };
    let err = apply(std::slice::from_ref(&layer), limits).unwrap_err();
    match &err {
        ImageError::PathWorkLimit { layer, path, limit } => {
            assert_eq!((layer.as_str(), *limit), ("#0", 100_000));
            assert!(path.starts_with("t/f") || path.starts_with("u/f"), "{path}");
        }
        other => panic!("expected the work budget, got {other}"),
    }
    assert!(
        err.to_string().contains("work budget of 100000 steps"),
        "{err}"
    );
    // The default budget has room for it: the layer is fine, only large.
    let fs = apply(&[layer], Limits::default()).unwrap();
    assert_eq!(fs.resolve("t/f0", true).unwrap(), format!("{deep}f0"));
}
