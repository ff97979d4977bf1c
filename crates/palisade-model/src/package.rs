//! Software packages found in images or SBOMs: the input of vulnerability matching.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A package ecosystem, named as OSV names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ecosystem {
    /// Debian dpkg packages.
    Debian,
    /// Ubuntu dpkg packages.
    Ubuntu,
    /// Alpine apk packages.
    Alpine,
    /// RPM packages of an RPM-based distribution.
    #[serde(rename = "RPM")]
    Rpm,
    /// Python packages.
    PyPI,
    /// npm packages.
    #[serde(rename = "npm")]
    Npm,
    /// Rust crates.
    #[serde(rename = "crates.io")]
    CratesIo,
    /// Go modules (including `stdlib` for the Go toolchain version).
    Go,
    /// Maven artifacts (`group:artifact`).
    Maven,
    /// Anything else, by name.
    Other(String),
}

impl Ecosystem {
    /// The OSV ecosystem name.
    pub fn as_str(&self) -> &str {
        match self {
            Ecosystem::Debian => "Debian",
            Ecosystem::Ubuntu => "Ubuntu",
            Ecosystem::Alpine => "Alpine",
            Ecosystem::Rpm => "RPM",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::Other(s) => s,
        }
    }

    /// Parses an OSV ecosystem name (a `:release` suffix such as `Debian:12` is ignored).
    pub fn parse(name: &str) -> Ecosystem {
        let base = name.split(':').next().unwrap_or(name);
        match base {
            "Debian" => Ecosystem::Debian,
            "Ubuntu" => Ecosystem::Ubuntu,
            "Alpine" => Ecosystem::Alpine,
            "RPM" | "Red Hat" | "Rocky Linux" | "AlmaLinux" | "openSUSE" | "SUSE" => Ecosystem::Rpm,
            "PyPI" => Ecosystem::PyPI,
            "npm" => Ecosystem::Npm,
            "crates.io" => Ecosystem::CratesIo,
            "Go" => Ecosystem::Go,
            "Maven" => Ecosystem::Maven,
            other => Ecosystem::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Package {
    /// Package name as its ecosystem spells it (Maven: `group:artifact`).
    pub name: String,
    /// Installed version.
    pub version: String,
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Distribution release for OS packages (e.g. `12` for Debian bookworm, `3.19` for Alpine).
    pub distro_release: Option<String>,
    /// Source package for distro packages (dpkg `Source:`, apk origin), used for matching
    /// distro advisories, which are keyed by source package.
    pub source_name: Option<String>,
    /// Source package version when it differs from `version`.
    pub source_version: Option<String>,
    /// Package URL.
    pub purl: Option<String>,
    /// Licences (SPDX expressions or names, as declared).
    pub licenses: Vec<String>,
    /// Where it was found: a file path in the image.
    pub path: Option<String>,
    /// Digest of the layer that added it.
    pub layer: Option<String>,
}

impl Package {
    /// A package with just name, version and ecosystem.
    pub fn new(ecosystem: Ecosystem, name: impl Into<String>, version: impl Into<String>) -> Self {
        Package {
            name: name.into(),
            version: version.into(),
            ecosystem,
            distro_release: None,
            source_name: None,
            source_version: None,
            purl: None,
            licenses: Vec::new(),
            path: None,
            layer: None,
        }
    }
}
