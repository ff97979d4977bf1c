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

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use crate::daemon::{Daemon, checked_stdout};

/// Debian's Docker client (the one matching the daemon).
pub const DOCKER: &str = "/usr/bin/docker";
/// Debian's Docker daemon.
pub const DOCKERD: &str = "/usr/sbin/dockerd";

/// A private Docker daemon; stopped, with its containers, when dropped.
pub struct Dockerd {
    daemon: Daemon,
    host: String,
}

impl Dockerd {
    /// Starts a daemon in a fresh temporary directory; returns once it answers.
    pub fn start() -> Dockerd {
        let mut host = String::new();
        let daemon = Daemon::spawn("dockerd", DOCKERD, DOCKER, |d| {
            host = format!("unix://{}", d.join("docker.sock").display());
            let config = d.join("daemon.json");
            std::fs::write(&config, "{}\n").expect("writing daemon.json");
            let path = |p: &str| d.join(p).display().to_string();
            let mut args = vec!["--config-file".to_string(), config.display().to_string()];
            args.extend(["--data-root".into(), path("data")]);
            args.extend(["--exec-root".into(), path("exec")]);
            args.extend(["--pidfile".into(), path("dockerd.pid")]);
            args.extend(["-H".into(), host.clone()]);
            args.extend(
                [
                    "--iptables=false",
                    "--ip-masq=false",
                    "--ip-forward=false",
                    "--bridge=none",
                    "--exec-opt",
                    "native.cgroupdriver=cgroupfs",
                    "--shutdown-timeout",
                    "1",
                ]
                .map(String::from),
            );
            args
        });
        let mut dockerd = Dockerd { daemon, host };
        let host = dockerd.host.clone();
        dockerd.daemon.wait_answering(Duration::from_secs(30), || {
            docker_command(&host, &["version"]).is_ok_and(|o| o.status.success())
        });
        dockerd
    }

    /// The daemon's address, for `docker -H` or `DOCKER_HOST` (`unix://DIR/docker.sock`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The daemon's `--data-root` (holding `containers/ID/config.v2.json`).
    pub fn data_root(&self) -> PathBuf {
        self.daemon.path("data")
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        self.daemon.log()
    }

    /// Runs `docker -H HOST ARGS` and returns its output, whatever its exit status.
    pub fn try_docker(&self, args: &[&str]) -> Output {
        docker_command(&self.host, args)
            .unwrap_or_else(|e| panic!("cannot run {DOCKER} ({e}): run scripts/setup/32-docker.sh"))
    }

    /// Runs `docker -H HOST ARGS`; returns its standard output, trimmed. Panics with docker's
    /// standard error when it fails.
    pub fn docker(&self, args: &[&str]) -> String {
        checked_stdout(
            &format!("docker {}", args.join(" ")),
            &self.try_docker(args),
        )
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
}

fn docker_command(host: &str, args: &[&str]) -> std::io::Result<Output> {
    crate::daemon::client(DOCKER, &["-H", host], args)
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        if let Ok(out) = docker_command(&self.host, &["ps", "-aq"]) {
            let ids = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut args = vec!["rm", "-f"];
            args.extend(ids.split_whitespace());
            if args.len() > 2 {
                let _ = docker_command(&self.host, &args);
            }
        }
        self.daemon.terminate(Duration::from_secs(20));
    }
}
