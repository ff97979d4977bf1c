//! Palisade's own OCI image (issue 19 §2), built by the test command with podman from the
//! Containerfile (scripts/build-image): it runs as a non-root user on a read-only root
//! filesystem with no network and no capabilities, has no shell, and the install manifests it
//! prints for itself — admission webhook, sensor, agent and central — pass its own scan with no
//! findings (reasoned exceptions, written on their objects, shown as suppressed).

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
    let report = scan_printed_manifests(&image.0, &["admission", "manifests"], &pinned);
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

    // So do the other components' manifests; each exception is written on its object with
    // its reason.
    for (command, exceptions) in [
        (
            &["sensor", "manifests"][..],
            &["PAL-032", "PAL-033", "PAL-051", "PAL-069", "PAL-076"][..],
        ),
        (
            &["agent", "manifests"][..],
            &[
                "PAL-004", "PAL-006", "PAL-015", "PAL-017", "PAL-019", "PAL-025", "PAL-032",
                "PAL-033", "PAL-057", "PAL-069",
            ][..],
        ),
        (
            &[
                "agent",
                "manifests",
                "--central",
                "https://palisade-central.palisade.svc:8443",
                "--cluster",
                "prod",
            ][..],
            &[
                "PAL-004", "PAL-006", "PAL-015", "PAL-017", "PAL-019", "PAL-025", "PAL-032",
                "PAL-033", "PAL-057", "PAL-069",
            ][..],
        ),
        (
            &["central", "manifests"][..],
            &["PAL-069", "PAL-076", "PAL-107"][..],
        ),
        (
            &[
                "central",
                "manifests",
                "--database-secret",
                "palisade-central-db",
                "--replicas",
                "3",
            ][..],
            &["PAL-022", "PAL-069"][..],
        ),
    ] {
        let report = scan_printed_manifests(&image.0, command, &pinned);
        let mut ids: Vec<&str> = report["suppressed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let reason = s["reason"].as_str().unwrap_or("");
                assert!(reason.len() > 40, "{command:?}: {s}");
                s["check_id"].as_str().unwrap()
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids, exceptions, "{command:?}: {report:#}");
    }
}

/// Runs `palisade COMMAND --image PINNED` in the image (read-only, no network) and scans what
/// it prints with the binary under test: no finding, exit status 0 with `--fail-on info`.
/// Returns the JSON report.
fn scan_printed_manifests(image: &str, command: &[&str], pinned: &str) -> serde_json::Value {
    let mut args = vec!["run", "--rm", "--read-only", "--network=none", image];
    args.extend(command);
    args.extend(["--image", pinned]);
    let manifests = podman(&args);
    assert!(
        manifests.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&manifests.stderr)
    );
    let text = String::from_utf8(manifests.stdout).unwrap();
    assert!(text.contains(&format!("image: {pinned}")), "{text}");
    let out = palisade(&["scan", "-", "--format", "json", "--fail-on", "info"])
        .env_remove("PALISADE_CONFIG")
        .stdin(text.clone())
        .output();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["findings"],
        serde_json::json!([]),
        "{command:?}: {report:#}\n{text}"
    );
    assert!(
        report["diagnostics"]
            .as_array()
            .is_none_or(|d| d.is_empty()),
        "{command:?}: {report:#}"
    );
    assert_eq!(out.status.code(), Some(0), "{command:?}");
    report
}
