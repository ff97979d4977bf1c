//! [`Containerd`] runs a private containerd (Debian's `containerd` 1.6, installed by
//! `scripts/setup/32-docker.sh`) for tests: its own root, state directory, config file and
//! socket in a temporary directory, with the CRI plugin disabled (nothing here could drive it:
//! crictl and a kubelet are not packaged in Debian bookworm). Containers are run with `ctr`
//! from a plain rootfs directory (`ctr run --rootfs`), so no image store or registry is
//! needed. When dropped, every task is killed and deleted (a containerd shim outlives its
//! daemon), then containerd is terminated.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// Debian's containerd client.
pub const CTR: &str = "/usr/bin/ctr";
/// Debian's containerd daemon.
pub const CONTAINERD: &str = "/usr/bin/containerd";
/// The containerd namespace the tests' containers live in.
pub const NAMESPACE: &str = "palisade-test";

/// How long the daemon has to answer after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the daemon has to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A private containerd; its tasks and the daemon are stopped when dropped.
pub struct Containerd {
    child: Child,
    dir: tempfile::TempDir,
}

impl Containerd {
    /// Starts a daemon in a fresh temporary directory; returns once it answers.
    pub fn start() -> Containerd {
        assert!(
            Path::new(CONTAINERD).exists() && Path::new(CTR).exists(),
            "{CONTAINERD} or {CTR} is missing: run scripts/test (scripts/setup/32-docker.sh)"
        );
        let dir = tempfile::Builder::new()
            .prefix("palisade-containerd-")
            .tempdir()
            .expect("temporary directory");
        let d = dir.path();
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
        let log = std::fs::File::create(d.join("containerd.log")).expect("creating the log");
        let child = Command::new(CONTAINERD)
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {CONTAINERD} ({e}): run scripts/setup/32-docker.sh")
            });
        let (socket, log) = (d.join("containerd.sock"), d.join("containerd.log"));
        let mut containerd = Containerd { child, dir };
        crate::daemon::wait_answering(
            &mut containerd.child,
            "containerd",
            READY_TIMEOUT,
            || std::fs::read_to_string(&log).unwrap_or_default(),
            || ctr_command(&socket, &["version"]).is_ok_and(|o| o.status.success()),
        );
        containerd
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("containerd.sock")
    }

    /// The runtime v2 task state root (`STATE/io.containerd.runtime.v2.task`, holding
    /// `NAMESPACE/ID/config.json`), as the agent's `containerd_task_roots` names it.
    pub fn task_root(&self) -> PathBuf {
        self.dir
            .path()
            .join("state")
            .join("io.containerd.runtime.v2.task")
    }

    /// A busybox-static root filesystem for `ctr run --rootfs`, made once per daemon.
    pub fn busybox_rootfs(&self) -> PathBuf {
        let root = self.dir.path().join("busybox").join("rootfs");
        if root.exists() {
            return root;
        }
        crate::busybox::rootfs(&self.dir.path().join("busybox"))
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("containerd.log")).unwrap_or_default()
    }

    /// Runs `ctr -a SOCKET -n NAMESPACE ARGS` and returns its output, whatever its status.
    pub fn try_ctr(&self, args: &[&str]) -> Output {
        ctr_command(&self.socket(), args)
            .unwrap_or_else(|e| panic!("cannot run {CTR} ({e}): run scripts/setup/32-docker.sh"))
    }

    /// Runs `ctr -a SOCKET -n NAMESPACE ARGS`; returns its standard output, trimmed. Panics
    /// with ctr's standard error when it fails.
    pub fn ctr(&self, args: &[&str]) -> String {
        let out = self.try_ctr(args);
        assert!(
            out.status.success(),
            "ctr {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
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

    fn stop(&mut self) {
        let ids =
            String::from_utf8_lossy(&self.try_ctr(&["container", "ls", "-q"]).stdout).into_owned();
        for id in ids.split_whitespace() {
            let _ = self.try_ctr(&["task", "delete", "--force", id]);
            let _ = self.try_ctr(&["container", "delete", id]);
        }
        crate::daemon::terminate(&mut self.child, STOP_TIMEOUT);
    }
}

fn ctr_command(socket: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(CTR)
        .arg("-a")
        .arg(socket)
        .args(["-n", NAMESPACE])
        .args(args)
        .stdin(Stdio::null())
        .output()
}

impl Drop for Containerd {
    fn drop(&mut self) {
        self.stop();
    }
}
