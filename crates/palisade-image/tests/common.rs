//! Shared helpers for the integration tests: real host files and command runners.

#![allow(dead_code)]

use std::process::Command;

/// Runs a command and returns stdout, failing the test with its stderr otherwise.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?} ({e}); run scripts/test, which installs it via scripts/setup")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Reads a host file, failing with a hint when missing.
pub fn host_file(path: &str) -> Vec<u8> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run scripts/test (scripts/setup/20-registry.sh)"))
}

/// (name, version) of installed packages according to dpkg-query on `admindir`.
pub fn dpkg_query_installed(admindir: &str) -> std::collections::BTreeSet<(String, String)> {
    run(Command::new("dpkg-query")
        .arg(format!("--admindir={admindir}"))
        .args(["-W", "-f=${db:Status-Status} ${Package} ${Version}\n"]))
    .lines()
    .filter_map(|l| {
        let mut f = l.split(' ');
        (f.next() == Some("installed"))
            .then(|| (f.next().unwrap().to_string(), f.next().unwrap().to_string()))
    })
    .collect()
}
