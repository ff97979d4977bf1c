//! Running podman from tests (`scripts/setup/30-podman.sh` installs and configures it), for the
//! agent's tests and the CLI's runtime tests alike.

use std::path::Path;
use std::process::Command;

/// Runs `podman ARGS`; returns its standard output, trimmed. Panics with podman's standard
/// error when it fails, and names the setup script when podman cannot be run at all.
pub fn podman(args: &[&str]) -> String {
    let out = Command::new("podman")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run podman ({e}): run scripts/test (scripts/setup/30-podman.sh)")
        });
    assert!(
        out.status.success(),
        "podman {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Builds a rootfs from the host's busybox-static (the binary, one symlink per applet, a root
/// user) in `dir` and imports it as `image` (`PATH=/bin`, `CMD ["/bin/sh"]`). A previous import
/// under the same tag, left untagged by this one, is removed unless a container uses it.
pub fn import_busybox(dir: &Path, image: &str) {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is not installed: run scripts/test (scripts/setup/30-podman.sh)");
    let root = dir.join("rootfs");
    for d in ["bin", "tmp", "proc", "sys", "dev", "etc", "root"] {
        std::fs::create_dir_all(root.join(d)).expect("creating the rootfs");
    }
    std::fs::copy(busybox, root.join("bin/busybox")).expect("copying busybox");
    // The applets are listed by the installed busybox: executing the fresh copy races with
    // other test threads' forks, which may still hold its write descriptor (ETXTBSY).
    let list = Command::new(busybox)
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        // busybox lists itself; a self-link would loop.
        if applet != "busybox" && !applet.is_empty() {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))
                .expect("linking an applet");
        }
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    let tar = dir.join("rootfs.tar");
    let tarred = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .expect("running tar");
    assert!(tarred.success(), "tar of the busybox rootfs failed");
    let old = Command::new("podman")
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let tar = tar.to_str().expect("temporary paths are UTF-8");
    podman(&[
        "import",
        "--change",
        "ENV PATH=/bin",
        "--change",
        "CMD [\"/bin/sh\"]",
        tar,
        image,
    ]);
    let new = podman(&["image", "inspect", "--format", "{{.Id}}", image]);
    if let Some(old) = old.filter(|o| *o != new) {
        // The previous import is now untagged; remove it unless a container uses it.
        let _ = Command::new("podman").args(["rmi", &old]).output();
    }
}
