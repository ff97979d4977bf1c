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
    palisade_testkit::podman::import_busybox(dir, IMAGE);
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
