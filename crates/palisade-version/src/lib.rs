//! Exact version ordering for the package ecosystems Palisade matches vulnerabilities in.
//!
//! Each ecosystem has its own module with its own parser and ordering, written from that
//! ecosystem's specification:
//!
//! | module | ecosystems | rules |
//! |---|---|---|
//! | [`debian`] | Debian, Ubuntu | dpkg `verrevcmp` (epoch, upstream, revision, `~`) |
//! | [`alpine`] | Alpine | apk-tools (`_alpha`…`_p` suffixes, `~hash`, `-rN`) |
//! | [`rpm`] | RPM | `rpmvercmp` on epoch:version-release (`~`, `^`) |
//! | [`pypi`] | PyPI | PEP 440 with normalization |
//! | [`semver`] | npm, crates.io | SemVer 2.0.0 precedence (build metadata ignored) |
//! | [`go`] | Go | module versions (`v` prefix, `+incompatible`, pseudo-versions) and toolchain versions (`go1.21rc2`) |
//! | [`maven`] | Maven | `ComparableVersion` (qualifier order alpha < beta < milestone < rc < snapshot < release < sp) |
//!
//! [`compare`] is the single entry point by OSV ecosystem; [`parse`] gives a reusable parsed
//! [`Version`] for repeated comparisons. This crate is pure: no I/O.

use std::cmp::Ordering;

use palisade_model::{Ecosystem, VersionScheme};

pub mod alpine;
pub mod debian;
pub mod go;
pub mod maven;
pub mod pypi;
pub mod rpm;
pub mod semver;

mod digits;

/// Longest version string accepted, in bytes (real versions are far shorter).
pub const MAX_VERSION_LEN: usize = 512;

/// Why a version could not be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The string is not a valid version of that ecosystem.
    #[error("invalid {ecosystem} version {version:?}: {reason}")]
    Invalid {
        /// Ecosystem (or version scheme) name.
        ecosystem: &'static str,
        /// The rejected version string.
        version: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No ordering is known for this ecosystem.
    #[error("no version ordering is known for ecosystem {0:?}")]
    UnsupportedEcosystem(String),
}

impl VersionError {
    pub(crate) fn invalid(
        ecosystem: &'static str,
        version: &str,
        reason: impl Into<String>,
    ) -> Self {
        let mut shown: String = version.chars().take(80).collect();
        if shown.len() < version.len() {
            shown.push('…');
        }
        VersionError::Invalid {
            ecosystem,
            version: shown,
            reason: reason.into(),
        }
    }
}

pub(crate) fn check_length(ecosystem: &'static str, version: &str) -> Result<(), VersionError> {
    if version.is_empty() {
        return Err(VersionError::invalid(ecosystem, version, "empty version"));
    }
    if version.len() > MAX_VERSION_LEN {
        return Err(VersionError::invalid(
            ecosystem,
            version,
            format!("longer than {MAX_VERSION_LEN} bytes"),
        ));
    }
    Ok(())
}

/// A parsed version of one ecosystem's scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// dpkg version (Debian, Ubuntu).
    Debian(debian::DebianVersion),
    /// apk version (Alpine).
    Alpine(alpine::AlpineVersion),
    /// RPM epoch:version-release.
    Rpm(rpm::RpmVersion),
    /// PEP 440 version (PyPI).
    PyPI(pypi::Pep440Version),
    /// SemVer version (npm, crates.io).
    SemVer(semver::SemVersion),
    /// Go module or toolchain version.
    Go(go::GoVersion),
    /// Maven version.
    Maven(maven::MavenVersion),
}

impl Version {
    /// Orders two versions of the same scheme; `None` when the schemes differ.
    pub fn compare(&self, other: &Version) -> Option<Ordering> {
        match (self, other) {
            (Version::Debian(a), Version::Debian(b)) => Some(a.cmp(b)),
            (Version::Alpine(a), Version::Alpine(b)) => Some(a.cmp(b)),
            (Version::Rpm(a), Version::Rpm(b)) => Some(a.cmp(b)),
            (Version::PyPI(a), Version::PyPI(b)) => Some(a.cmp(b)),
            (Version::SemVer(a), Version::SemVer(b)) => Some(a.cmp(b)),
            (Version::Go(a), Version::Go(b)) => Some(a.cmp(b)),
            (Version::Maven(a), Version::Maven(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// Whether versions of this ecosystem can be ordered by this crate.
pub fn is_supported(ecosystem: &Ecosystem) -> bool {
    ecosystem.version_scheme().is_some()
}

/// Parses `version` with the rules of `ecosystem` (its [`VersionScheme`]).
pub fn parse(ecosystem: &Ecosystem, version: &str) -> Result<Version, VersionError> {
    match ecosystem.version_scheme() {
        Some(scheme) => parse_scheme(scheme, version),
        None => Err(VersionError::UnsupportedEcosystem(
            ecosystem.as_str().to_string(),
        )),
    }
}

/// Parses `version` with the rules of `scheme`.
pub fn parse_scheme(scheme: VersionScheme, version: &str) -> Result<Version, VersionError> {
    Ok(match scheme {
        VersionScheme::Dpkg => Version::Debian(debian::DebianVersion::parse(version)?),
        VersionScheme::Apk => Version::Alpine(alpine::AlpineVersion::parse(version)?),
        VersionScheme::Rpm => Version::Rpm(rpm::RpmVersion::parse(version)?),
        VersionScheme::Pep440 => Version::PyPI(pypi::Pep440Version::parse(version)?),
        VersionScheme::SemVer => Version::SemVer(semver::SemVersion::parse(version)?),
        VersionScheme::Go => Version::Go(go::GoVersion::parse(version)?),
        VersionScheme::Maven => Version::Maven(maven::MavenVersion::parse(version)?),
    })
}

/// Orders version `a` against version `b` with the rules of `ecosystem`.
///
/// ```
/// use std::cmp::Ordering;
/// use palisade_model::Ecosystem;
/// assert_eq!(palisade_version::compare(&Ecosystem::Debian, "1.0~rc1", "1.0").unwrap(), Ordering::Less);
/// assert_eq!(palisade_version::compare(&Ecosystem::PyPI, "2.7", "2.7.0").unwrap(), Ordering::Equal);
/// ```
pub fn compare(ecosystem: &Ecosystem, a: &str, b: &str) -> Result<Ordering, VersionError> {
    let va = parse(ecosystem, a)?;
    let vb = parse(ecosystem, b)?;
    // Both were parsed with the same ecosystem, so the schemes agree.
    Ok(va.compare(&vb).unwrap_or(Ordering::Equal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    #[test]
    fn dispatches_by_ecosystem() {
        let cases: [(Ecosystem, &str, &str, Ordering); 10] = [
            (Ecosystem::Debian, "1:1.0", "2.0", Greater),
            (Ecosystem::Ubuntu, "1.0~rc1", "1.0", Less),
            (Ecosystem::Alpine, "1.0_rc1-r0", "1.0-r0", Less),
            (Ecosystem::Rpm, "1.0^git1", "1.0", Greater),
            (Ecosystem::PyPI, "2.7", "2.7.0", Equal),
            (Ecosystem::Npm, "1.0.0-rc.1", "1.0.0", Less),
            (Ecosystem::CratesIo, "0.10.0", "0.9.9", Greater),
            (Ecosystem::Go, "v1.2.3+incompatible", "1.2.3", Equal),
            (Ecosystem::Go, "go1.21rc2", "1.21.0", Less),
            (Ecosystem::Maven, "1.0-SNAPSHOT", "1.0", Less),
        ];
        for (eco, a, b, want) in cases {
            assert_eq!(compare(&eco, a, b).unwrap(), want, "{eco}: {a} vs {b}");
        }
    }

    #[test]
    fn errors_name_the_version_and_ecosystem() {
        let err = compare(&Ecosystem::Npm, "1.0", "1.0.0").unwrap_err();
        assert!(err.to_string().contains("\"1.0\""), "{err}");
        assert!(err.to_string().contains("SemVer"), "{err}");
        let err = compare(&Ecosystem::Other("Hex".into()), "1", "2").unwrap_err();
        assert_eq!(err, VersionError::UnsupportedEcosystem("Hex".into()));
        let long = "1".repeat(MAX_VERSION_LEN + 1);
        assert!(compare(&Ecosystem::Debian, &long, "1").is_err());
    }
}
