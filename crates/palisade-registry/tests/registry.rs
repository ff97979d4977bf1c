//! Pulls through a real registry: Debian's `docker-registry` (distribution) started on a free
//! loopback port with filesystem storage in a temp dir; images are OCI layouts made by
//! palisade-image's builder and pushed with skopeo (an independent client).

use std::path::Path;
use std::process::Command;

use palisade_image::builder::{ImageSpec, LayerBuilder, OciLayoutWriter};
use palisade_image::oci::Platform;
use palisade_image::source::NoProgress;
use palisade_image::{ImageError, Limits, scan_resolved};
use palisade_model::Ecosystem;
use palisade_registry::{AuthSource, PullOptions, RegistryError, RemoteImage};
use palisade_testkit::skopeo::{self, run};
use palisade_testkit::{Registry, RegistryAuth, RegistryOptions};

fn push(layout: &Path, name: &str, dest: &str, creds: Option<&str>, all: bool) {
    skopeo::copy(layout, name, dest, skopeo::Push { creds, all });
}

fn debian_like_image(dir: &Path, arch: &str, marker: &[u8]) -> ImageSpec {
    let _ = dir;
    let status = std::fs::read("/var/lib/dpkg/status").unwrap();
    let mut spec = ImageSpec::new(vec![
        LayerBuilder::new()
            .file(
                "etc/os-release",
                0o644,
                b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
            )
            .file("var/lib/dpkg/status", 0o644, &status)
            .gzip(),
        LayerBuilder::new().file("etc/marker", 0o644, marker).gzip(),
    ]);
    spec.platform.architecture = arch.to_string();
    if arch == "arm64" {
        spec.platform.variant = Some("v8".into());
    }
    spec
}

fn installed_count() -> usize {
    run(Command::new("dpkg-query").args(["-W", "-f=${db:Status-Status} ${Package} ${Version}\n"]))
        .lines()
        .filter(|l| l.starts_with("installed "))
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

#[test]
fn anonymous_pull_streams_and_verifies_layers() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let w = OciLayoutWriter::create(dir.path()).unwrap();
    let d = w
        .image(&debian_like_image(dir.path(), "amd64", b"amd64"))
        .unwrap();
    w.finish(vec![(d, Some("v1"))]).unwrap();
    push(
        dir.path(),
        "v1",
        &format!("{}/team/app:v1", reg.addr),
        None,
        false,
    );

    let image = RemoteImage::open(
        &format!("{}/team/app:v1", reg.addr),
        &PullOptions::default(),
    )
    .unwrap();
    let scan = scan_resolved(&image, &image.resolved, Limits::default(), &NoProgress).unwrap();
    let debs = scan
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Debian)
        .count();
    assert_eq!(debs, installed_count());
    // The digest the registry reports (via skopeo) is the one we resolved.
    let digest = skopeo::digest(&format!("{}/team/app:v1", reg.addr));
    assert_eq!(
        image.resolved.manifest_digest.as_deref(),
        Some(digest.trim())
    );
    // Pinning by digest works and yields the same layers.
    let pinned = RemoteImage::open(
        &format!("{}/team/app@{}", reg.addr, digest.trim()),
        &PullOptions::default(),
    )
    .unwrap();
    assert_eq!(
        pinned.resolved.manifest.layers,
        image.resolved.manifest.layers
    );

    // Tampering with a stored layer blob is caught by digest verification.
    let layer = &image.resolved.manifest.layers[1].digest;
    let hex = layer.trim_start_matches("sha256:");
    let data = reg.storage.join(format!(
        "docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ));
    let mut bytes = std::fs::read(&data).unwrap();
    let blob_len = bytes.len();
    bytes[blob_len - 9] ^= 0x55;
    std::fs::write(&data, &bytes).unwrap();
    let err = scan_resolved(&image, &image.resolved, Limits::default(), &NoProgress).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::DigestMismatch { .. } | ImageError::Io { .. } | ImageError::Tar { .. }
        ),
        "{err}"
    );

    let missing = RemoteImage::open(
        &format!("{}/team/app:nope", reg.addr),
        &PullOptions::default(),
    );
    assert!(matches!(missing, Err(RegistryError::Distribution { .. })));
}

#[test]
fn multi_arch_index_selects_the_platform() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let w = OciLayoutWriter::create(dir.path()).unwrap();
    let amd = w
        .image(&debian_like_image(dir.path(), "amd64", b"amd64"))
        .unwrap();
    let arm = w
        .image(&debian_like_image(dir.path(), "arm64", b"arm64"))
        .unwrap();
    let index = w.index_blob(&[amd.clone(), arm.clone()]).unwrap();
    w.finish(vec![(index, Some("multi"))]).unwrap();
    push(
        dir.path(),
        "multi",
        &format!("{}/multi:1", reg.addr),
        None,
        true,
    );

    for (platform, manifest) in [("linux/arm64", &arm), ("linux/amd64", &amd)] {
        let options = PullOptions {
            platform: Some(Platform::parse(platform).unwrap()),
            ..Default::default()
        };
        let image = RemoteImage::open(&format!("{}/multi:1", reg.addr), &options).unwrap();
        assert_eq!(
            image.resolved.manifest_digest.as_deref(),
            Some(manifest.digest.as_str())
        );
        assert_eq!(image.resolved.available_platforms.len(), 2);
        let scan = scan_resolved(&image, &image.resolved, Limits::default(), &NoProgress).unwrap();
        assert!(scan.platform.as_deref().unwrap().starts_with(platform));
    }
    let options = PullOptions {
        platform: Some(Platform::parse("linux/riscv64").unwrap()),
        ..Default::default()
    };
    let err = RemoteImage::open(&format!("{}/multi:1", reg.addr), &options)
        .err()
        .unwrap();
    assert!(err.to_string().contains("linux/riscv64"), "{err}");
}

#[test]
fn basic_auth_with_explicit_and_docker_config_credentials() {
    let reg = Registry::start_with(&RegistryOptions {
        auth: RegistryAuth::Htpasswd {
            user: "alice".into(),
            password: "s3cret-pw".into(),
        },
    });
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let w = OciLayoutWriter::create(&layout).unwrap();
    let d = w.image(&debian_like_image(&layout, "amd64", b"x")).unwrap();
    w.finish(vec![(d, Some("v1"))]).unwrap();
    push(
        &layout,
        "v1",
        &format!("{}/private:v1", reg.addr),
        Some("alice:s3cret-pw"),
        false,
    );
    let reference = format!("{}/private:v1", reg.addr);

    let anonymous = RemoteImage::open(
        &reference,
        &PullOptions {
            auth: AuthSource::Anonymous,
            ..Default::default()
        },
    );
    assert!(
        matches!(anonymous, Err(RegistryError::Distribution { .. })),
        "anonymous pull must be refused"
    );
    let wrong = RemoteImage::open(
        &reference,
        &PullOptions {
            auth: AuthSource::Basic {
                username: "alice".into(),
                password: "wrong".into(),
            },
            ..Default::default()
        },
    );
    assert!(wrong.is_err());

    let basic = RemoteImage::open(
        &reference,
        &PullOptions {
            auth: AuthSource::Basic {
                username: "alice".into(),
                password: "s3cret-pw".into(),
            },
            ..Default::default()
        },
    )
    .unwrap();
    let scan = scan_resolved(&basic, &basic.resolved, Limits::default(), &NoProgress).unwrap();
    assert!(!scan.packages.is_empty());

    // A docker config.json with an `auths` entry (base64 "user:password").
    let config = dir.path().join("config.json");
    let auth = base64_encode(b"alice:s3cret-pw");
    std::fs::write(
        &config,
        serde_json::json!({"auths": {reg.addr.clone(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let from_config = RemoteImage::open(
        &reference,
        &PullOptions {
            auth: AuthSource::DockerConfigFile(config),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        from_config.resolved.manifest_digest,
        basic.resolved.manifest_digest
    );
}

fn base64_encode(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
