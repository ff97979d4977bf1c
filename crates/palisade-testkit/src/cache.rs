//! The test cache: everything `scripts/setup/*.sh` prepare for the tests (a Debian root
//! filesystem, the SBOM validators' Python venv, the SARIF Multitool, an installed npm package)
//! lives under one directory, `$PALISADE_TEST_CACHE`, which `scripts/test` exports. When the
//! variable is unset, the default is the one `scripts/test` and the setup scripts use,
//! `$HOME/.cache/palisade-test`.
//!
//! Tests find prepared files only through this module, so no test reads a path that no setup
//! script creates; a missing file fails the test naming the path and the script that makes it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable naming the cache directory.
pub const ENV: &str = "PALISADE_TEST_CACHE";

/// The cache directory: `$PALISADE_TEST_CACHE`, else `$HOME/.cache/palisade-test`.
pub fn dir() -> PathBuf {
    if let Some(d) = std::env::var_os(ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| panic!("neither {ENV} nor HOME is set: run scripts/test"));
    Path::new(&home).join(".cache/palisade-test")
}

/// `rel` under the cache directory, whether or not it exists.
pub fn path(rel: &str) -> PathBuf {
    dir().join(rel)
}

/// `rel` under the cache directory, which `script` (a file in `scripts/setup/`) makes; fails
/// the test with that hint when it is missing.
pub fn prepared(rel: &str, script: &str) -> PathBuf {
    let p = path(rel);
    assert!(
        p.exists(),
        "{} is missing: run scripts/test (scripts/setup/{script} makes it under ${ENV})",
        p.display()
    );
    p
}

/// The Debian bookworm minbase root filesystem built by debootstrap (complete).
pub fn debian_rootfs() -> PathBuf {
    let marker = prepared("debian-bookworm-minbase/.complete", "20-registry.sh");
    marker.parent().unwrap().to_path_buf()
}

/// The SBOM validators' Python virtual environment (cyclonedx-python-lib with its JSON
/// schemas, spdx-tools' `pyspdxtools`).
pub fn sbom_venv() -> Venv {
    let root = path("sbom-venv");
    prepared("sbom-venv/bin/pyspdxtools", "20-registry.sh");
    Venv { root }
}

/// A Python virtual environment made by a setup script.
#[derive(Debug, Clone)]
pub struct Venv {
    root: PathBuf,
}

impl Venv {
    /// A console script or interpreter in the venv's `bin/`.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.root.join("bin").join(name)
    }

    /// The venv's interpreter.
    pub fn python(&self) -> PathBuf {
        self.bin("python")
    }

    /// Where the venv installs pure-Python packages (`site-packages`), as its interpreter
    /// reports it (the Python version is the machine's, not ours to guess).
    pub fn site_packages(&self) -> PathBuf {
        let out = Command::new(self.python())
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ])
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", self.python().display()));
        assert!(
            out.status.success(),
            "{}: {}",
            self.python().display(),
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim_end())
    }
}

/// Microsoft's SARIF Multitool executable (`$PALISADE_SARIF_MULTITOOL` overrides the one
/// `scripts/setup/10-sarif-validator.sh` installs).
pub fn sarif_multitool() -> PathBuf {
    if let Some(p) = std::env::var_os("PALISADE_SARIF_MULTITOOL") {
        return PathBuf::from(p);
    }
    prepared(
        "sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool",
        "10-sarif-validator.sh",
    )
}

/// The directory of an npm package installed from the registry by
/// `scripts/setup/20-registry.sh` (`npm/node_modules/NAME`; today `semver`).
pub fn npm_package(name: &str) -> PathBuf {
    prepared(
        &format!("npm/node_modules/{name}/package.json"),
        "20-registry.sh",
    )
    .parent()
    .unwrap()
    .to_path_buf()
}

/// Debian's kubectl (v1.32), linked by `60-kubectl.sh`.
pub fn kubectl() -> PathBuf {
    prepared("kubectl/kubectl", "60-kubectl.sh")
}

/// The directory holding `helm`: `helm template` on Helm v4's own engine (helm-python-sdk),
/// made by `65-helm.sh`. Put it first on `PATH`.
pub fn helm_bin_dir() -> PathBuf {
    prepared("helm/bin/helm", "65-helm.sh")
        .parent()
        .expect("helm/bin")
        .to_path_buf()
}

/// Debian's Chromium and chromedriver (browser, driver), linked by `70-chromium.sh`.
pub fn chromium() -> (PathBuf, PathBuf) {
    (
        prepared("chromium/chromium", "70-chromium.sh"),
        prepared("chromium/chromedriver", "70-chromium.sh"),
    )
}
