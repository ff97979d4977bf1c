//! A container root filesystem made of the host's busybox-static: a directory (containerd's
//! `ctr run --rootfs`) or a tar archive that podman and Docker import as an image
//! (`podman import`, `docker import`), all without a registry.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `--change` options of `podman import` and `docker import` that make the archive a
/// usable image: `PATH=/bin` and a shell as the default command.
pub const IMPORT_CHANGES: [&str; 4] =
    ["--change", "ENV PATH=/bin", "--change", "CMD [\"/bin/sh\"]"];

/// Builds a rootfs from the host's busybox-static (the binary, one symlink per applet, a root
/// user) under `dir` and returns the path of its tar archive (`dir/rootfs.tar`).
pub fn rootfs_tar(dir: &Path) -> PathBuf {
    let root = rootfs(dir);
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
    tar
}

/// Builds a rootfs from the host's busybox-static (the binary, one symlink per applet, a root
/// user) in `dir/rootfs` and returns that path (for `ctr run --rootfs`).
pub fn rootfs(dir: &Path) -> PathBuf {
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
    root
}
