//! What the private daemons tests run ([`crate::docker::Dockerd`],
//! [`crate::containerd::Containerd`]) share: a temporary directory holding all their state and
//! their log, waiting until one answers, and terminating it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A daemon started in its own temporary directory, logging to `DIR/NAME.log`.
pub(crate) struct Daemon {
    name: &'static str,
    child: Child,
    dir: tempfile::TempDir,
}

impl Daemon {
    /// Checks that `program` and `client` exist (else names the setup script), makes the
    /// temporary directory and starts `program` with the arguments `args(DIR)` gives.
    pub(crate) fn spawn(
        name: &'static str,
        program: &str,
        client: &str,
        args: impl FnOnce(&Path) -> Vec<String>,
    ) -> Daemon {
        assert!(
            Path::new(program).exists() && Path::new(client).exists(),
            "{program} or {client} is missing: run scripts/test (scripts/setup/32-docker.sh)"
        );
        let dir = tempfile::Builder::new()
            .prefix(&format!("palisade-{name}-"))
            .tempdir()
            .expect("temporary directory");
        let log = std::fs::File::create(dir.path().join(format!("{name}.log")))
            .expect("creating the daemon log");
        let child = Command::new(program)
            .args(args(dir.path()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} ({e}): run scripts/setup/32-docker.sh")
            });
        Daemon { name, child, dir }
    }

    /// The temporary directory.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `DIR/REL`.
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The daemon's log so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.path(&format!("{}.log", self.name))).unwrap_or_default()
    }

    /// Waits until `answers()` is true; panics with the log when the daemon exits first or
    /// `timeout` passes.
    pub(crate) fn wait_answering(&mut self, timeout: Duration, answers: impl Fn() -> bool) {
        let deadline = Instant::now() + timeout;
        while !answers() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before answering:\n{}",
                    self.name,
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer within {timeout:?}:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM (so the daemon cleans up: unmounts, stops what it manages) and waits for
    /// it to exit; kills it when `timeout` passes first.
    pub(crate) fn terminate(&mut self, timeout: Duration) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The standard output of a client command, trimmed; panics with its standard error when it
/// failed (`what` names the command).
pub(crate) fn checked_stdout(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs a daemon's client, `PROGRAM GLOBAL ARGS` (`GLOBAL`: the options naming the daemon),
/// with no standard input.
pub(crate) fn client(program: &str, global: &[&str], args: &[&str]) -> std::io::Result<Output> {
    Command::new(program)
        .args(global)
        .args(args)
        .stdin(Stdio::null())
        .output()
}
