//! [`Containerd`] runs a private containerd (Debian's `containerd` 1.6, installed by
//! `scripts/setup/32-docker.sh`) for tests: its own root, state directory, config file and
//! socket in a temporary directory, with the CRI plugin disabled (nothing here could drive it:
//! crictl and a kubelet are not packaged in Debian bookworm). Containers are run with `ctr`
//! from a plain rootfs directory (`ctr run --rootfs`), so no image store or registry is
//! needed. When dropped, every task is killed and deleted (a containerd shim outlives its
//! daemon), then containerd is terminated.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::daemon::{Daemon, checked_stdout};

/// Debian's containerd client.
pub const CTR: &str = "/usr/bin/ctr";
/// Debian's containerd daemon.
pub const CONTAINERD: &str = "/usr/bin/containerd";
/// The containerd namespace the tests' containers live in.
pub const NAMESPACE: &str = "palisade-test";

/// A private containerd; its tasks and the daemon are stopped when dropped.
pub struct Containerd {
    daemon: Daemon,
}

impl Containerd {
    /// Starts a daemon in a fresh temporary directory; returns once it answers.
    pub fn start() -> Containerd {
        let daemon = Daemon::spawn("containerd", CONTAINERD, CTR, |d| {
            let config = d.join("config.toml");
            std::fs::write(
                &config,
                format!(
                    "version = 2\nroot = \"{}\"\nstate = \"{}\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = \"{}\"\n",
                    d.join("root").display(),
                    d.join("state").display(),
                    d.join("containerd.sock").display()
                ),
            )
            .expect("writing config.toml");
            vec!["--config".into(), config.display().to_string()]
        });
        let mut containerd = Containerd { daemon };
        let socket = containerd.socket();
        containerd
            .daemon
            .wait_answering(Duration::from_secs(20), || {
                ctr_command(&socket, &["version"]).is_ok_and(|o| o.status.success())
            });
        containerd
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.daemon.path("containerd.sock")
    }

    /// The runtime v2 task state root (`STATE/io.containerd.runtime.v2.task`, holding
    /// `NAMESPACE/ID/config.json`), as the agent's `containerd_task_roots` names it.
    pub fn task_root(&self) -> PathBuf {
        self.daemon.path("state/io.containerd.runtime.v2.task")
    }

    /// A busybox-static root filesystem for `ctr run --rootfs`, made once per daemon.
    pub fn busybox_rootfs(&self) -> PathBuf {
        let dir = self.daemon.dir().join("busybox");
        let root = dir.join("rootfs");
        if root.exists() {
            return root;
        }
        crate::busybox::rootfs(&dir)
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        self.daemon.log()
    }

    /// Runs `ctr -a SOCKET -n NAMESPACE ARGS` and returns its output, whatever its status.
    pub fn try_ctr(&self, args: &[&str]) -> Output {
        ctr_command(&self.socket(), args)
            .unwrap_or_else(|e| panic!("cannot run {CTR} ({e}): run scripts/setup/32-docker.sh"))
    }

    /// Runs `ctr -a SOCKET -n NAMESPACE ARGS`; returns its standard output, trimmed. Panics
    /// with ctr's standard error when it fails.
    pub fn ctr(&self, args: &[&str]) -> String {
        checked_stdout(&format!("ctr {}", args.join(" ")), &self.try_ctr(args))
    }

    /// The host PID of a running task, from `ctr task ls`.
    pub fn task_pid(&self, id: &str) -> Option<u32> {
        self.ctr(&["task", "ls"])
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|cols| cols.first() == Some(&id))
            .and_then(|cols| cols.get(1)?.parse().ok())
    }
}

fn ctr_command(socket: &Path, args: &[&str]) -> std::io::Result<Output> {
    let socket = socket.to_str().expect("temporary paths are UTF-8");
    crate::daemon::client(CTR, &["-a", socket, "-n", NAMESPACE], args)
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let ids = ctr_command(&self.socket(), &["container", "ls", "-q"])
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for id in ids.split_whitespace() {
            let _ = ctr_command(&self.socket(), &["task", "delete", "--force", id]);
            let _ = ctr_command(&self.socket(), &["container", "delete", id]);
        }
        self.daemon.terminate(Duration::from_secs(10));
    }
}
