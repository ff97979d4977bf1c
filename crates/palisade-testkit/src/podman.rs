//! Running podman from tests (`scripts/setup/30-podman.sh` installs and configures it), for the
//! agent's tests and the CLI's runtime tests alike.

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
    assert!(
        out.status.success(),
        "podman {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
