//! Moving images into a test registry with skopeo, a client independent of ours, so that what
//! our registry code reads was written by someone else's implementation.

use std::path::Path;
use std::process::Command;

/// Runs `cmd`, which must succeed (else the test fails with its stderr); returns its stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}; run scripts/test"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// How [`copy`] pushes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Push<'a> {
    /// `user:password` for the destination registry.
    pub creds: Option<&'a str>,
    /// Copy every image of an index (`--all`), not only the one for this machine.
    pub all: bool,
}

/// Copies `oci:LAYOUT:TAG` to `docker://DEST` (the loopback test registry speaks plain HTTP,
/// so TLS verification is off).
pub fn copy(layout: &Path, tag: &str, dest: &str, push: Push<'_>) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
    if push.all {
        cmd.arg("--all");
    }
    if let Some(c) = push.creds {
        cmd.arg("--dest-creds").arg(c);
    }
    cmd.arg(format!("oci:{}:{tag}", layout.display()))
        .arg(format!("docker://{dest}"));
    run(&mut cmd);
}

/// The manifest digest the registry reports for `reference` (`host/repo:tag`).
pub fn digest(reference: &str) -> String {
    run(Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"])
        .arg(format!("docker://{reference}")))
    .trim()
    .to_string()
}
