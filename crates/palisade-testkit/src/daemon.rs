//! Starting and stopping the private daemons tests run ([`crate::docker::Dockerd`],
//! [`crate::containerd::Containerd`]): waiting until one answers, and terminating it.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Waits until `answers()` is true; panics with `log()` when the daemon exits first or
/// `timeout` passes.
pub(crate) fn wait_answering(
    child: &mut Child,
    name: &str,
    timeout: Duration,
    log: impl Fn() -> String,
    mut answers: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + timeout;
    while !answers() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{name} exited ({status}) before answering:\n{}", log());
        }
        assert!(
            Instant::now() < deadline,
            "{name} did not answer within {timeout:?}:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends SIGTERM (so the daemon cleans up: unmounts, stops what it manages) and waits for it
/// to exit; kills it when `timeout` passes first.
pub(crate) fn terminate(child: &mut Child, timeout: Duration) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
