//! Software packages found in images or SBOMs: the input of vulnerability matching.

use serde::{Deserialize, Serialize};

use crate::ecosystem::Ecosystem;

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
