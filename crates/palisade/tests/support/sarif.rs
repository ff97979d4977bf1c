//! Validating SARIF logs with Microsoft's SARIF Multitool (npm `@microsoft/sarif-multitool`),
//! which checks a log against the SARIF 2.1.0 JSON schema and the spec's rules;
//! `scripts/setup/10-sarif-validator.sh` installs it in the test cache.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Validates the SARIF log `file` (run from its directory, so relative artifact URIs resolve
/// as they do for the tool that wrote it); fails the test with the Multitool's report.
pub fn validate(file: &Path) {
    let tool = palisade_testkit::cache::sarif_multitool();
    let v = Command::new(&tool)
        .arg("validate")
        .arg(file)
        .current_dir(file.parent().unwrap())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(v.status.success(), "{text}");
    assert!(
        !text.contains("error SARIF") && !text.contains("error JSON"),
        "{text}"
    );
}
