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
    crate::daemon::checked_stdout(&format!("podman {}", args.join(" ")), &out)
}

/// Builds a rootfs from the host's busybox-static (the binary, one symlink per applet, a root
/// user) in `dir` and imports it as `image` (`PATH=/bin`, `CMD ["/bin/sh"]`). A previous import
/// under the same tag, left untagged by this one, is removed unless a container uses it.
pub fn import_busybox(dir: &Path, image: &str) {
    let tar = crate::busybox::rootfs_tar(dir);
    let old = Command::new("podman")
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let tar = tar.to_str().expect("temporary paths are UTF-8");
    let mut args = vec!["import"];
    args.extend(crate::busybox::IMPORT_CHANGES);
    args.extend([tar, image]);
    podman(&args);
    let new = podman(&["image", "inspect", "--format", "{{.Id}}", image]);
    if let Some(old) = old.filter(|o| *o != new) {
        // The previous import is now untagged; remove it unless a container uses it.
        let _ = Command::new("podman").args(["rmi", &old]).output();
    }
}
