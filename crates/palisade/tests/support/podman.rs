//! Real podman containers and a running agent for the agent tests (root, podman + crun
//! configured by scripts/setup/30-podman.sh).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::cli::palisade;

/// The busybox image [`import_image`] makes.
pub const IMAGE: &str = "localhost/palisade-cli-agent-test:busybox";

pub use palisade_testkit::podman::podman;

/// Imports a busybox-static rootfs (one symlink per applet) as [`IMAGE`].
pub fn import_image(dir: &Path) {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is not installed: run scripts/test (scripts/setup/30-podman.sh)");
    let root = dir.join("rootfs");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    for d in ["tmp", "proc", "sys", "dev", "etc"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    // The applets are listed by the installed busybox: executing the fresh copy races with
    // other test threads' forks, which may still hold its write descriptor (ETXTBSY).
    let list = Command::new(busybox).arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" && !applet.is_empty() {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
    }
    let tar = dir.join("rootfs.tar");
    let ok = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let old = Command::new("podman")
        .args(["image", "inspect", "--format", "{{.Id}}", IMAGE])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    podman(&[
        "import",
        "--change",
        "ENV PATH=/bin",
        tar.to_str().unwrap(),
        IMAGE,
    ]);
    let new = podman(&["image", "inspect", "--format", "{{.Id}}", IMAGE]);
    if let Some(old) = old.filter(|o| *o != new) {
        // The previous import is now untagged; remove it unless a container uses it.
        let _ = Command::new("podman").args(["rmi", &old]).output();
    }
}

/// A container removed on drop.
pub struct Container(pub String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t", "0", &self.0])
            .output();
    }
}

/// A running agent, killed on drop.
pub struct Agent(pub Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Agent {
    /// `palisade agent run --config CONFIG --state-dir STATE --alerts ALERTS EXTRA…` (stdout
    /// discarded, stderr piped); returns once the agent has saved its state the first time.
    pub fn start<S: AsRef<OsStr>>(
        config: &Path,
        state: &Path,
        alerts: &Path,
        extra: &[S],
    ) -> Agent {
        let agent = Agent(
            palisade(&["agent", "run", "--config"])
                .arg(config)
                .arg("--state-dir")
                .arg(state)
                .arg("--alerts")
                .arg(alerts)
                .args(extra)
                .command()
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !state.join("stats.json").exists() {
            assert!(Instant::now() < deadline, "agent did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        agent
    }
}

impl Container {
    /// `podman run -d --network none --name NAME IMAGE sleep 300`, after removing a leftover
    /// container of that name.
    pub fn sleeping(name: &str) -> Container {
        Container::sleeping_labelled(name, &[])
    }

    /// [`Container::sleeping`] with labels (`KEY=VALUE`), e.g. the kubelet's
    /// `io.kubernetes.pod.*` labels.
    pub fn sleeping_labelled(name: &str, labels: &[&str]) -> Container {
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t", "0", name])
            .output();
        let mut args = vec!["run", "-d", "--network", "none", "--name", name];
        for l in labels {
            args.extend(["--label", l]);
        }
        args.extend([IMAGE, "sleep", "300"]);
        Container(podman(&args))
    }
}
