//! Validating SARIF logs with Microsoft's SARIF Multitool (npm `@microsoft/sarif-multitool`),
//! which checks a log against the SARIF 2.1.0 JSON schema and the spec's rules;
//! `scripts/setup/10-sarif-validator.sh` installs it in the test cache.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Validates the SARIF log `file` (run from its directory, so relative artifact URIs resolve
/// as they do for the tool that wrote it); fails the test with the Multitool's report.
pub fn validate(file: &Path) {
    let (status, text) = palisade_testkit::tool::report(
        Command::new(palisade_testkit::cache::sarif_multitool())
            .arg("validate")
            .arg(file)
            .current_dir(file.parent().unwrap()),
    );
    assert!(status.success(), "{text}");
    assert!(
        !text.contains("error SARIF") && !text.contains("error JSON"),
        "{text}"
    );
}
