//! Layer application against the OCI image-layer spec (whiteouts, opaque directories) and
//! hostile layers that must be refused with the right typed error.

use palisade_image::builder::{Layer, LayerBuilder};
use palisade_image::digest::Digest;
use palisade_image::fs::{ImageFs, NodeKind};
use palisade_image::unpack::{LayerExpectation, Unpacker};
use palisade_image::{ImageError, Limits};

fn apply(layers: &[Layer], limits: Limits) -> Result<ImageFs, ImageError> {
    let mut u = Unpacker::new(limits);
    for l in layers {
        let expect = LayerExpectation {
            digest: Some(Digest::sha256_of(&l.blob)),
            diff_id: Some(Digest::parse(&l.diff_id).unwrap()),
            size: Some(l.blob.len() as u64),
        };
        u.apply_layer(&l.blob[..], &expect)?;
    }
    u.finish()
}

fn paths(fs: &ImageFs) -> Vec<String> {
    fs.nodes().map(|(p, _)| p.to_string()).collect()
}

#[test]
fn whiteouts_follow_the_oci_layer_spec_example() {
    // The example of the OCI image-spec "Whiteouts" section: the base has a/, a/b/, a/b/c/,
    // a/b/c/bar; the next layer deletes a/b/c/bar via a/b/c/.wh.bar... and a/.wh.b hides a/b.
    let base = LayerBuilder::new()
        .dir("a")
        .dir("a/b")
        .dir("a/b/c")
        .file("a/b/c/bar", 0o644, b"bar")
        .file("a/keep", 0o644, b"k")
        .dir("d")
        .file("d/old1", 0o644, b"1")
        .file("d/sub/old2", 0o644, b"2")
        .gzip();
    let upper = LayerBuilder::new()
        // Same-layer entries survive the opaque marker whatever their order.
        .file("d/new-before", 0o644, b"n")
        .opaque("d")
        .file("d/new-after", 0o644, b"n")
        .whiteout("a/b")
        .zstd();
    let fs = apply(&[base, upper], Limits::default()).unwrap();
    assert_eq!(
        paths(&fs),
        ["a", "a/keep", "d", "d/new-after", "d/new-before"]
    );
    // A whiteout in a third layer hides the second layer's file; re-adding after works.
    let third = LayerBuilder::new()
        .whiteout("d/new-after")
        .whiteout("a/keep")
        .file("a/keep", 0o644, b"again")
        .plain();
    let base = LayerBuilder::new()
        .file("a/keep", 0o644, b"k")
        .file("d/new-after", 0o644, b"x")
        .gzip();
    let fs = apply(&[base, third], Limits::default()).unwrap();
    assert_eq!(paths(&fs), ["a", "a/keep", "d"]);
    assert_eq!(fs.node("a/keep").unwrap().layer, 1);
}

#[test]
fn files_replace_directories_and_parents_resolve_through_symlinks() {
    let base = LayerBuilder::new()
        .file("opt/x/y", 0o644, b"y")
        .dir("run")
        .symlink("var/run", "/run")
        .gzip();
    let upper = LayerBuilder::new()
        .file("opt/x", 0o644, b"now a file")
        .file("var/run/app.pid", 0o644, b"1")
        .gzip();
    let fs = apply(&[base, upper], Limits::default()).unwrap();
    assert!(
        fs.node("opt/x/y").is_none(),
        "a file replacing a dir hides its subtree"
    );
    assert_eq!(fs.node("opt/x").unwrap().kind, NodeKind::File);
    assert!(
        fs.node("run/app.pid").is_some(),
        "written through the var/run symlink"
    );
}

#[test]
fn hardlinks_share_kept_content() {
    let layer = LayerBuilder::new()
        .file("etc/os-release", 0o644, b"ID=debian\nVERSION_ID=\"12\"\n")
        .hardlink("usr/lib/os-release", "etc/os-release")
        .gzip();
    let fs = apply(&[layer], Limits::default()).unwrap();
    assert_eq!(fs.read("usr/lib/os-release"), fs.read("etc/os-release"));
    assert!(fs.read("usr/lib/os-release").is_some());
}

#[test]
fn path_traversal_is_refused() {
    let layer = LayerBuilder::new()
        .file("../../etc/cron.d/evil", 0o644, b"x")
        .gzip();
    let err = apply(&[layer], Limits::default()).unwrap_err();
    assert!(
        matches!(err, ImageError::PathTraversal { ref path, .. } if path == "../../etc/cron.d/evil"),
        "{err}"
    );
    let layer = LayerBuilder::new().file("usr/../../x", 0o644, b"x").gzip();
    assert!(matches!(
        apply(&[layer], Limits::default()),
        Err(ImageError::PathTraversal { .. })
    ));
}

#[test]
fn absolute_paths_stay_inside_the_image_root() {
    // Absolute names (umoci writes them) are rooted at the image root, never at the host's.
    let layer = LayerBuilder::new()
        .dir("/")
        .file("/etc/os-release", 0o644, b"ID=debian\n")
        .gzip();
    let fs = apply(&[layer], Limits::default()).unwrap();
    assert_eq!(paths(&fs), ["etc", "etc/os-release"]);
    assert!(fs.read("etc/os-release").is_some());
}

#[test]
fn escaping_symlinks_are_refused() {
    let layer = LayerBuilder::new()
        .symlink("etc/evil", "../../../../host/etc/shadow")
        .gzip();
    let err = apply(&[layer], Limits::default()).unwrap_err();
    assert!(
        matches!(err, ImageError::SymlinkEscape { ref path, .. } if path == "etc/evil"),
        "{err}"
    );
    // Writing through a symlink that points above the root (made of individually harmless
    // links) is refused as well.
    let a = LayerBuilder::new()
        .dir("a")
        .symlink("a/up", "..")
        .symlink("a/esc", "up/..")
        .gzip();
    let b = LayerBuilder::new().file("a/esc/x", 0o644, b"x").gzip();
    let err = apply(&[a, b], Limits::default()).unwrap_err();
    assert!(matches!(err, ImageError::SymlinkEscape { .. }), "{err}");
}

#[test]
fn symlink_cycles_are_refused() {
    let layer = LayerBuilder::new()
        .symlink("loop/a", "b")
        .symlink("loop/b", "c")
        .symlink("loop/c", "a")
        .gzip();
    let err = apply(&[layer], Limits::default()).unwrap_err();
    assert!(
        matches!(err, ImageError::SymlinkLoop { hops: 40, .. }),
        "{err}"
    );
}

#[test]
fn hardlinks_outside_or_to_unknown_files_are_refused() {
    for target in ["../../etc/shadow", "/etc/shadow", "etc/not-in-image"] {
        let layer = LayerBuilder::new().hardlink("x", target).gzip();
        let err = apply(&[layer], Limits::default()).unwrap_err();
        assert!(
            matches!(err, ImageError::HardlinkTarget { target: ref t, .. } if t == target),
            "{target}: {err}"
        );
    }
}

#[test]
fn gzip_bomb_is_refused_by_the_ratio_cap() {
    // 48 MiB of zeros compresses to about 48 KiB with gzip: a ratio near 1000:1.
    let layer = LayerBuilder::new().zero_file("zeros", 48 << 20).gzip();
    assert!(layer.blob.len() < 200 << 10, "{}", layer.blob.len());
    let err = apply(&[layer], Limits::default()).unwrap_err();
    match err {
        ImageError::CompressionRatio {
            limit,
            uncompressed,
            compressed,
            ..
        } => {
            assert_eq!(limit, 250);
            assert!(uncompressed / compressed > 250);
        }
        other => panic!("expected a ratio error, got {other}"),
    }
}

#[test]
fn size_and_count_caps_are_enforced() {
    let layer = LayerBuilder::new()
        .file("a", 0o644, &[1u8; 4096])
        .file("b", 0o644, b"b")
        .gzip();
    let limits = Limits {
        max_file_size: 1000,
        ..Limits::default()
    };
    assert!(matches!(
        apply(std::slice::from_ref(&layer), limits),
        Err(ImageError::FileSizeLimit { size: 4096, .. })
    ));
    let limits = Limits {
        max_entries: 1,
        ..Limits::default()
    };
    assert!(matches!(
        apply(std::slice::from_ref(&layer), limits),
        Err(ImageError::EntryCountLimit { limit: 1, .. })
    ));
    let limits = Limits {
        max_total_uncompressed: 2048,
        ..Limits::default()
    };
    assert!(matches!(
        apply(&[layer], limits),
        Err(ImageError::TotalSizeLimit { .. })
    ));
}

#[test]
fn digest_and_diff_id_mismatches_are_refused() {
    let layer = LayerBuilder::new().file("a", 0o644, b"a").gzip();
    let other = LayerBuilder::new().file("b", 0o644, b"b").gzip();
    let mut u = Unpacker::new(Limits::default());
    let expect = LayerExpectation {
        digest: Some(Digest::sha256_of(&other.blob)),
        ..Default::default()
    };
    assert!(matches!(
        u.apply_layer(&layer.blob[..], &expect),
        Err(ImageError::DigestMismatch { .. })
    ));
    let mut u = Unpacker::new(Limits::default());
    let expect = LayerExpectation {
        diff_id: Some(Digest::parse(&other.diff_id).unwrap()),
        ..Default::default()
    };
    let err = u.apply_layer(&layer.blob[..], &expect).unwrap_err();
    assert!(err.to_string().contains("diff_id"), "{err}");
}

#[test]
fn corrupt_gzip_is_an_error_not_a_panic() {
    let mut blob = LayerBuilder::new()
        .file("a", 0o644, &[7u8; 10_000])
        .gzip()
        .blob;
    let mid = blob.len() / 2;
    blob[mid] ^= 0xff;
    blob.truncate(blob.len() - 10);
    let mut u = Unpacker::new(Limits::default());
    assert!(
        u.apply_layer(&blob[..], &LayerExpectation::default())
            .is_err()
    );
}
