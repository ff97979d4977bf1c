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
fn symlinks_climbing_above_the_root_stay_inside_it_as_in_a_chroot() {
    // Issue 20: `..` at the root is the root (the kernel's rule in a chroot), so
    // `usr/lib/libx.so -> ../../../lib/libx.so`, which climbs one level above the root, is
    // `lib/libx.so`; the image used to be refused whole. Absolute targets start at the image
    // root, however many `..` follow.
    let base = LayerBuilder::new()
        .file("lib/libx.so", 0o755, b"not really ELF")
        .symlink("usr/lib/libx.so", "../../../lib/libx.so")
        .file("etc/shadow", 0o640, b"image's own")
        .symlink("etc/evil", "../../../../etc/shadow")
        .symlink("app/shadow", "/../../../etc/shadow")
        .symlink("app/root", "/")
        .file(
            "usr/lib/os-release",
            0o644,
            b"ID=alpine\nVERSION_ID=3.19.1\n",
        )
        .symlink("etc/os-release", "../../../../usr/lib/os-release")
        // Individually harmless links whose combination points above the root.
        .symlink("a/up", "..")
        .symlink("a/esc", "up/..")
        .gzip();
    // Writing through such links writes inside the image, at its root.
    let upper = LayerBuilder::new()
        .file("a/esc/x", 0o644, b"x")
        .file("app/root/etc/written", 0o644, b"x")
        .gzip();
    let fs = apply(&[base, upper], Limits::default()).unwrap();
    let resolved = |p: &str| fs.resolve(p, true).unwrap();
    assert_eq!(resolved("usr/lib/libx.so"), "lib/libx.so");
    assert_eq!(fs.stat("usr/lib/libx.so").map(|n| n.size), Some(14));
    assert_eq!(resolved("etc/evil"), "etc/shadow");
    assert_eq!(resolved("app/shadow"), "etc/shadow");
    assert_eq!(fs.stat("app/shadow").map(|n| n.size), Some(11));
    assert_eq!(resolved("a/esc"), "");
    assert!(fs.node("x").is_some_and(|n| n.is_file()), "a/esc/x");
    assert!(fs.node("a/esc/x").is_none());
    assert!(fs.node("etc/written").is_some(), "app/root/etc/written");
    // The content behind a climbing link is inventoried (the detector reads etc/os-release
    // first, through the link).
    let scan = palisade_image::analyze("test".into(), None, &fs);
    let os = scan.os.expect("os-release read through the climbing link");
    let os = (os.id, os.version_id, os.source_file);
    assert_eq!(
        os,
        (
            "alpine".into(),
            Some("3.19.1".into()),
            "etc/os-release".into()
        )
    );
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
fn a_cycle_is_reported_on_a_looping_link_not_on_an_innocent_one_leading_to_it() {
    // `aaa/innocent` sorts first and only points into the cycle; the message must name a
    // member of the cycle, whichever link the check meets first.
    let layer = LayerBuilder::new()
        .symlink("aaa/innocent", "../loop/a")
        .symlink("loop/a", "b")
        .symlink("loop/b", "a")
        .gzip();
    let err = apply(std::slice::from_ref(&layer), Limits::default()).unwrap_err();
    let ImageError::SymlinkLoop { ref path, .. } = err else {
        panic!("expected a loop, got {err}");
    };
    assert!(path == "loop/a" || path == "loop/b", "{err}");
    assert!(!err.to_string().contains("innocent"), "{err}");
    // The same when an entry is written through the innocent link while unpacking.
    let upper = LayerBuilder::new()
        .file("aaa/innocent/x", 0o644, b"x")
        .gzip();
    let err = apply(&[layer, upper], Limits::default()).unwrap_err();
    assert!(
        matches!(err, ImageError::SymlinkLoop { ref path, .. } if path.starts_with("loop/")),
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
