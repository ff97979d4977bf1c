//! Palisade's own OCI image (issue 19 §2), built by the test command with podman from the
//! Containerfile (scripts/build-image): it runs as a non-root user on a read-only root
//! filesystem with no network and no capabilities, has no shell, and the install manifests it
//! prints for itself pass its own scan with no findings (one reasoned exception, shown as
//! suppressed).

use std::path::PathBuf;
use std::process::Command;

mod support;

use support::cli::palisade;

fn podman(args: &[&str]) -> std::process::Output {
    Command::new("podman")
        .args(args)
        .output()
        .expect("podman is installed by scripts/setup/30-podman.sh")
}

/// The image, removed when dropped.
struct Image(String);

impl Drop for Image {
    fn drop(&mut self) {
        let _ = podman(&["rmi", "--force", &self.0]);
    }
}

#[test]
fn the_image_is_minimal_and_its_manifests_pass_its_own_scan() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let image = Image(format!(
        "localhost/palisade-image-test:{}",
        std::process::id()
    ));
    let built = Command::new(root.join("scripts/build-image"))
        .arg(env!("CARGO_BIN_EXE_palisade"))
        .arg(&image.0)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );

    let run = podman(&[
        "run",
        "--rm",
        "--read-only",
        "--network=none",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        &image.0,
        "version",
        "--format",
        "json",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));

    let inspect = podman(&[
        "image",
        "inspect",
        "--format",
        "{{.Config.User}} {{.Digest}}",
        &image.0,
    ]);
    let text = String::from_utf8(inspect.stdout).unwrap();
    let (user, digest) = text.trim().split_once(' ').unwrap();
    assert_eq!(user, "65532:65532");
    assert!(digest.starts_with("sha256:"), "{digest}");
    let whoami = podman(&["run", "--rm", "--network=none", &image.0, "version"]);
    assert!(whoami.status.success());
    let shell = podman(&[
        "run",
        "--rm",
        "--network=none",
        "--entrypoint",
        "/bin/sh",
        &image.0,
        "-c",
        "true",
    ]);
    assert!(!shell.status.success(), "the image has no shell");

    // The image prints its own install manifests, pinned to itself by digest; they pass.
    let repository = image.0.rsplit_once(':').unwrap().0;
    let pinned = format!("{repository}@{digest}");
    let manifests = podman(&[
        "run",
        "--rm",
        "--read-only",
        "--network=none",
        &image.0,
        "admission",
        "manifests",
        "--image",
        &pinned,
    ]);
    assert!(
        manifests.status.success(),
        "{}",
        String::from_utf8_lossy(&manifests.stderr)
    );
    let out = palisade(&["scan", "-", "--format", "json", "--fail-on", "info"])
        .stdin(manifests.stdout)
        .output();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_eq!(out.status.code(), Some(0));
    let suppressed = report["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1, "{suppressed:?}");
    assert_eq!(suppressed[0]["check_id"], "PAL-069");
    assert!(
        suppressed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("outside the pod network"),
        "{suppressed:?}"
    );
}
