//! Package ecosystems and the one table that says how each is named, identified in package URLs,
//! versioned and matched. Every crate that treats ecosystems differently reads this table
//! instead of keeping its own `match`; adding an ecosystem is adding a variant and a row.

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

/// How versions of an ecosystem are ordered (`palisade-version` implements each scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionScheme {
    /// dpkg `epoch:upstream-revision` (Debian, Ubuntu).
    Dpkg,
    /// apk versions (Alpine).
    Apk,
    /// RPM `epoch:version-release`.
    Rpm,
    /// PEP 440 (PyPI).
    Pep440,
    /// SemVer 2.0.0 precedence (npm, crates.io).
    SemVer,
    /// Go module and toolchain versions (`v1.2.3`, `go1.21.3`).
    Go,
    /// Maven ComparableVersion.
    Maven,
}

/// How package names of an ecosystem are normalized for lookups (advisories name packages in
/// the ecosystem's canonical form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameRule {
    /// Compared as written (trimmed).
    Exact,
    /// Case-insensitive: lower-cased.
    Lowercase,
    /// PEP 503: lower-cased, runs of `-`, `_` and `.` become one `-`.
    Pep503,
}

/// How a package name maps to a purl's namespace and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PurlNamespace {
    /// No namespace; the purl name is the package name.
    None,
    /// The distribution vendor (`debian`, `alpine`, `redhat`, …), not part of the package name;
    /// the default when the builder is not given one.
    Vendor(Option<&'static str>),
    /// The `@scope` of an `@scope/name` package (npm).
    NpmScope,
    /// Everything before the last `/` (Go module paths).
    LastSlash,
    /// The group of a `group:artifact` name (Maven).
    MavenGroup,
}

/// One row of the ecosystem table.
#[derive(Debug, Clone, Copy)]
pub struct EcosystemInfo {
    /// The OSV ecosystem name (`crates.io`).
    pub osv: &'static str,
    /// Other OSV names of the same ecosystem (RPM distributions: `Red Hat`, `AlmaLinux`, …).
    pub osv_aliases: &'static [&'static str],
    /// The purl-spec type (`cargo`).
    pub purl_type: &'static str,
    /// How the purl namespace relates to the package name.
    pub purl_namespace: PurlNamespace,
    /// How its versions are ordered.
    pub versions: VersionScheme,
    /// How names are normalized for lookups.
    pub names: NameRule,
    /// Packages of an OS distribution: advisories are keyed by source package, and OSV
    /// ecosystem suffixes (`Debian:12`) name distribution releases.
    pub distro: bool,
}

/// Every known ecosystem with its row, in the order the CLI lists them.
pub const ECOSYSTEMS: [(Ecosystem, EcosystemInfo); 9] = [
    (
        Ecosystem::Debian,
        EcosystemInfo {
            osv: "Debian",
            osv_aliases: &[],
            purl_type: "deb",
            purl_namespace: PurlNamespace::Vendor(Some("debian")),
            versions: VersionScheme::Dpkg,
            names: NameRule::Lowercase,
            distro: true,
        },
    ),
    (
        Ecosystem::Ubuntu,
        EcosystemInfo {
            osv: "Ubuntu",
            osv_aliases: &[],
            purl_type: "deb",
            purl_namespace: PurlNamespace::Vendor(Some("ubuntu")),
            versions: VersionScheme::Dpkg,
            names: NameRule::Lowercase,
            distro: true,
        },
    ),
    (
        Ecosystem::Alpine,
        EcosystemInfo {
            osv: "Alpine",
            osv_aliases: &[],
            purl_type: "apk",
            purl_namespace: PurlNamespace::Vendor(Some("alpine")),
            versions: VersionScheme::Apk,
            names: NameRule::Lowercase,
            distro: true,
        },
    ),
    (
        Ecosystem::Rpm,
        EcosystemInfo {
            osv: "RPM",
            osv_aliases: &["Red Hat", "Rocky Linux", "AlmaLinux", "openSUSE", "SUSE"],
            purl_type: "rpm",
            purl_namespace: PurlNamespace::Vendor(None),
            versions: VersionScheme::Rpm,
            names: NameRule::Exact,
            distro: true,
        },
    ),
    (
        Ecosystem::PyPI,
        EcosystemInfo {
            osv: "PyPI",
            osv_aliases: &[],
            purl_type: "pypi",
            purl_namespace: PurlNamespace::None,
            versions: VersionScheme::Pep440,
            names: NameRule::Pep503,
            distro: false,
        },
    ),
    (
        Ecosystem::Npm,
        EcosystemInfo {
            osv: "npm",
            osv_aliases: &[],
            purl_type: "npm",
            purl_namespace: PurlNamespace::NpmScope,
            versions: VersionScheme::SemVer,
            names: NameRule::Exact,
            distro: false,
        },
    ),
    (
        Ecosystem::CratesIo,
        EcosystemInfo {
            osv: "crates.io",
            osv_aliases: &[],
            purl_type: "cargo",
            purl_namespace: PurlNamespace::None,
            versions: VersionScheme::SemVer,
            names: NameRule::Exact,
            distro: false,
        },
    ),
    (
        Ecosystem::Go,
        EcosystemInfo {
            osv: "Go",
            osv_aliases: &[],
            purl_type: "golang",
            purl_namespace: PurlNamespace::LastSlash,
            versions: VersionScheme::Go,
            names: NameRule::Exact,
            distro: false,
        },
    ),
    (
        Ecosystem::Maven,
        EcosystemInfo {
            osv: "Maven",
            osv_aliases: &[],
            purl_type: "maven",
            purl_namespace: PurlNamespace::MavenGroup,
            versions: VersionScheme::Maven,
            names: NameRule::Exact,
            distro: false,
        },
    ),
];

impl Ecosystem {
    /// Its row of [`ECOSYSTEMS`]; `None` for [`Ecosystem::Other`].
    pub fn info(&self) -> Option<&'static EcosystemInfo> {
        ECOSYSTEMS.iter().find(|(e, _)| e == self).map(|(_, i)| i)
    }

    /// The OSV ecosystem name.
    pub fn as_str(&self) -> &str {
        match self {
            Ecosystem::Other(s) => s,
            known => known.info().map_or("", |i| i.osv),
        }
    }

    /// Parses an OSV ecosystem name (a `:release` suffix such as `Debian:12` is ignored).
    pub fn parse(name: &str) -> Ecosystem {
        let base = name.split(':').next().unwrap_or(name);
        ECOSYSTEMS
            .iter()
            .find(|(_, i)| i.osv == base || i.osv_aliases.contains(&base))
            .map_or_else(|| Ecosystem::Other(base.to_string()), |(e, _)| e.clone())
    }

    /// How its versions are ordered; `None` when Palisade cannot order them.
    pub fn version_scheme(&self) -> Option<VersionScheme> {
        self.info().map(|i| i.versions)
    }

    /// Whether these are packages of an OS distribution (see [`EcosystemInfo::distro`]).
    pub fn is_distro(&self) -> bool {
        self.info().is_some_and(|i| i.distro)
    }

    /// `name` trimmed and normalized as the ecosystem compares names.
    pub fn normalize_name(&self, name: &str) -> String {
        let name = name.trim();
        match self.info().map_or(NameRule::Exact, |i| i.names) {
            NameRule::Exact => name.to_string(),
            NameRule::Lowercase => name.to_ascii_lowercase(),
            NameRule::Pep503 => pep503_normalize(name),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// PEP 503 name normalization: lower-case, runs of `-`, `_` and `.` become one `-`.
pub fn pep503_normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_sep = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osv_names_round_trip_and_aliases_parse() {
        for (e, i) in &ECOSYSTEMS {
            assert_eq!(e.as_str(), i.osv);
            assert_eq!(&Ecosystem::parse(i.osv), e);
            assert_eq!(serde_json::to_value(e).unwrap(), i.osv);
        }
        assert_eq!(Ecosystem::parse("Debian:12"), Ecosystem::Debian);
        assert_eq!(Ecosystem::parse("AlmaLinux:9"), Ecosystem::Rpm);
        assert_eq!(Ecosystem::parse("Hex"), Ecosystem::Other("Hex".into()));
        assert_eq!(Ecosystem::Other("Hex".into()).as_str(), "Hex");
    }

    #[test]
    fn names_normalize_per_ecosystem() {
        assert_eq!(
            Ecosystem::PyPI.normalize_name(" Django_Rest.framework "),
            "django-rest-framework"
        );
        assert_eq!(Ecosystem::Debian.normalize_name("LibSSL3"), "libssl3");
        assert_eq!(Ecosystem::Rpm.normalize_name("OpenSSL"), "OpenSSL");
        assert!(Ecosystem::Rpm.is_distro() && !Ecosystem::Npm.is_distro());
        assert_eq!(Ecosystem::Other("Hex".into()).version_scheme(), None);
    }
}
