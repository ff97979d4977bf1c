//! Running the independent tools tests check Palisade's output with (validators and the like).

use std::process::{Command, ExitStatus};

/// Runs `cmd` to completion; returns its exit status and everything it wrote (standard output,
/// then standard error). A tool that cannot be started fails the test, naming it.
pub fn report(cmd: &mut Command) -> (ExitStatus, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}): run scripts/test"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status, text)
}
