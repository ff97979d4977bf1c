//! [`Dockerd`] runs a private Docker daemon (Debian's `docker.io` 20.10, installed by
//! `scripts/setup/32-docker.sh`) for tests: its own data root, exec root (with the containerd
//! it manages), pid file, config file and unix socket in a temporary directory, so the
//! machine's Docker (if any) is never touched. It changes nothing outside that directory but
//! cgroups: no iptables rules, no IP masquerading or forwarding, no bridge (containers run
//! with `--network none`), and the `cgroupfs` cgroup driver (no systemd here), which puts each
//! container in `/docker/ID`. It stops (containers removed, daemon terminated) when dropped.
//!
//! Tests drive it with Debian's client, [`DOCKER`], given explicitly: a newer client elsewhere
//! on `PATH` may speak an API version this daemon refuses.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// Debian's Docker client (the one matching the daemon).
pub const DOCKER: &str = "/usr/bin/docker";
/// Debian's Docker daemon.
pub const DOCKERD: &str = "/usr/sbin/dockerd";

/// How long the daemon has to answer `docker version` after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the daemon has to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// A private Docker daemon; stopped, with its containers, when dropped.
pub struct Dockerd {
    child: Child,
    host: String,
    dir: tempfile::TempDir,
}

impl Dockerd {
    /// Starts a daemon in a fresh temporary directory; returns once it answers.
    pub fn start() -> Dockerd {
        assert!(
            Path::new(DOCKERD).exists() && Path::new(DOCKER).exists(),
            "{DOCKERD} or {DOCKER} is missing: run scripts/test (scripts/setup/32-docker.sh)"
        );
        let dir = tempfile::Builder::new()
            .prefix("palisade-dockerd-")
            .tempdir()
            .expect("temporary directory");
        let d = dir.path();
        let host = format!("unix://{}", d.join("docker.sock").display());
        let config = d.join("daemon.json");
        std::fs::write(&config, "{}\n").expect("writing daemon.json");
        let log = std::fs::File::create(d.join("dockerd.log")).expect("creating the daemon log");
        let child = Command::new(DOCKERD)
            .arg("--config-file")
            .arg(&config)
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("dockerd.pid"))
            .args(["-H", &host])
            .args([
                "--iptables=false",
                "--ip-masq=false",
                "--ip-forward=false",
                "--bridge=none",
                "--exec-opt",
                "native.cgroupdriver=cgroupfs",
                "--shutdown-timeout",
                "1",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {DOCKERD} ({e}): run scripts/setup/32-docker.sh")
            });
        let log = d.join("dockerd.log");
        let mut dockerd = Dockerd { child, host, dir };
        let host = dockerd.host.clone();
        crate::daemon::wait_answering(
            &mut dockerd.child,
            "dockerd",
            READY_TIMEOUT,
            || std::fs::read_to_string(&log).unwrap_or_default(),
            || docker_command(&host, &["version"]).is_ok_and(|o| o.status.success()),
        );
        dockerd
    }

    /// The daemon's address, for `docker -H` or `DOCKER_HOST` (`unix://DIR/docker.sock`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The daemon's `--data-root` (holding `containers/ID/config.v2.json`).
    pub fn data_root(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    /// Runs `docker -H HOST ARGS` and returns its output, whatever its exit status.
    pub fn try_docker(&self, args: &[&str]) -> Output {
        docker_command(&self.host, args)
            .unwrap_or_else(|e| panic!("cannot run {DOCKER} ({e}): run scripts/setup/32-docker.sh"))
    }

    /// Runs `docker -H HOST ARGS`; returns its standard output, trimmed. Panics with docker's
    /// standard error when it fails.
    pub fn docker(&self, args: &[&str]) -> String {
        let out = self.try_docker(args);
        assert!(
            out.status.success(),
            "docker {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Imports the host's busybox-static as `image` (`PATH=/bin`, `CMD ["/bin/sh"]`), built
    /// in a temporary directory ([`crate::busybox::rootfs_tar`]).
    pub fn import_busybox(&self, image: &str) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let tar = crate::busybox::rootfs_tar(dir.path());
        let tar = tar.to_str().expect("temporary paths are UTF-8");
        let mut args = vec!["import"];
        args.extend(crate::busybox::IMPORT_CHANGES);
        args.extend([tar, image]);
        self.docker(&args);
    }

    fn stop(&mut self) {
        if let Ok(out) = docker_command(&self.host, &["ps", "-aq"]) {
            let ids = String::from_utf8_lossy(&out.stdout).into_owned();
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f"];
                args.extend(ids);
                let _ = docker_command(&self.host, &args);
            }
        }
        crate::daemon::terminate(&mut self.child, STOP_TIMEOUT);
    }
}

fn docker_command(host: &str, args: &[&str]) -> std::io::Result<Output> {
    Command::new(DOCKER)
        .args(["-H", host])
        .args(args)
        .stdin(Stdio::null())
        .output()
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        self.stop();
    }
}
