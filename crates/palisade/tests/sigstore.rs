//! `palisade sigstore verify-blob` over every case of the public sigstore-conformance suite
//! (`../shared/sigstore-conformance/bundle-verify`): a case named `*_fail` must exit 1 with a
//! reason, every other case must exit 0. Cases Palisade cannot pass yet are listed in
//! [`KNOWN_FAILURES`] with the reason; they still run, and the test fails if one of them starts
//! passing (so the list is kept true).

#![cfg(feature = "trust")]

use std::path::{Path, PathBuf};

mod support;

use support::cli::palisade;

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Cases with the wrong outcome today, and why.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

fn suite() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/sigstore-conformance/bundle-verify")
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Runs one case; returns (exit code, stderr).
fn run_case(dir: &Path) -> (i32, String, String) {
    let artifact = if dir.join("artifact").exists() {
        dir.join("artifact")
    } else {
        suite().join("a.txt")
    };
    let mut cmd = palisade(&["sigstore", "verify-blob"])
        .arg(&artifact)
        .arg("--bundle")
        .arg(dir.join("bundle.sigstore.json"));
    if dir.join("key.pub").exists() {
        cmd = cmd.arg("--key").arg(dir.join("key.pub"));
    } else {
        let identity =
            read_trimmed(&dir.join("identity")).unwrap_or_else(|| DEFAULT_IDENTITY.into());
        let issuer = read_trimmed(&dir.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.into());
        cmd = cmd.args([
            "--certificate-identity",
            &identity,
            "--certificate-oidc-issuer",
            &issuer,
        ]);
    }
    if dir.join("trusted_root.json").exists() {
        cmd = cmd.arg("--trusted-root").arg(dir.join("trusted_root.json"));
    }
    cmd.run()
}

#[test]
fn every_conformance_case_verifies_or_fails_with_a_reason() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(suite())
        .expect("the conformance suite in ../shared")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 60, "the suite has 60 cases");
    let mut wrong = Vec::new();
    let mut passed = 0;
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let must_fail = name.ends_with("_fail");
        let (code, out, err) = run_case(dir);
        let ok = if must_fail {
            code == 1 && err.contains("palisade: not verified: ") && err.trim().len() > 30
        } else {
            code == 0 && out.starts_with("Verified OK")
        };
        eprintln!("{name}: exit {code} {}", err.trim());
        let known = KNOWN_FAILURES.iter().any(|(n, _)| *n == name);
        match (ok, known) {
            (true, false) => passed += 1,
            (false, true) => {}
            (true, true) => {
                wrong.push(format!("{name}: passes now; remove it from KNOWN_FAILURES"))
            }
            (false, false) => wrong.push(format!("{name}: exit {code}, stderr {err:?}")),
        }
    }
    eprintln!(
        "conformance: {passed} of {} cases pass, {} known failures",
        cases.len(),
        KNOWN_FAILURES.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = suite().join("happy-path-v0.3");
    let (code, _, err) = palisade(&["sigstore", "verify-blob"])
        .arg(suite().join("a.txt"))
        .arg("--bundle")
        .arg(dir.join("bundle.sigstore.json"))
        .args(["--certificate-identity", DEFAULT_IDENTITY])
        .run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--certificate-oidc-issuer"), "{err}");
}
