//! Go versions: module versions and Go toolchain versions, on a single SemVer order.
//!
//! Module versions are SemVer with a `v` prefix (`v1.2.3`); Go also accepts the shorthands
//! `v1` and `v1.2` (= `v1.0.0`, `v1.2.0`). `+incompatible` is build metadata and does not take
//! part in ordering. Pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`,
//! `v1.2.4-0.20191109021931-daa7c04131f5`) are SemVer pre-releases and so sort by their
//! timestamp below the next release, as the Go tool intends. OSV's Go data writes versions
//! without the `v`; both spellings are accepted.
//!
//! Toolchain versions as a Go binary reports them (`go1.20`, `go1.21.3`, `go1.21rc2`,
//! `go1.9beta2`) are mapped the way the Go vulnerability database maps them for the `stdlib`
//! and `toolchain` modules: `go1.20` → `1.20.0`, `go1.21rc2` → `1.21.0-rc.2`.

use std::cmp::Ordering;

use crate::VersionError;
use crate::semver::SemVersion;

const SCHEME: &str = "Go";

/// A parsed Go module or toolchain version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoVersion(SemVersion);

/// Converts a toolchain version (without `go`) to SemVer text, if it has that shape.
fn toolchain_to_semver(s: &str) -> Option<String> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (numbers, tail) = s.split_at(split);
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || !parts.iter().all(|p| crate::digits::all_digits(p)) {
        return None;
    }
    let mut core: Vec<&str> = parts.clone();
    while core.len() < 3 {
        core.push("0");
    }
    let core = core.join(".");
    if tail.is_empty() {
        return Some(core);
    }
    for kind in ["alpha", "beta", "rc"] {
        if let Some(n) = tail.strip_prefix(kind)
            && crate::digits::all_digits(n)
        {
            return Some(format!("{core}-{kind}.{n}"));
        }
    }
    None
}

impl GoVersion {
    /// Parses a Go module version (`v1.2.3`, `1.2.3`, `v1.2`) or toolchain version (`go1.21rc2`).
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let s = input.trim();
        crate::check_length(SCHEME, s)?;
        if let Some(toolchain) = s.strip_prefix("go") {
            let text = toolchain_to_semver(toolchain).ok_or_else(|| {
                VersionError::invalid(SCHEME, input, "not a Go toolchain version")
            })?;
            return Ok(GoVersion(SemVersion::parse_scheme(&text, SCHEME)?));
        }
        let bare = s.strip_prefix('v').unwrap_or(s);
        // Shorthands v1 and v1.2 (no pre-release or build allowed on them).
        let dots = bare.bytes().filter(|c| *c == b'.').count();
        if dots < 2 && bare.split('.').all(crate::digits::all_digits) {
            let padded = if dots == 0 {
                format!("{bare}.0.0")
            } else {
                format!("{bare}.0")
            };
            return Ok(GoVersion(SemVersion::parse_scheme(&padded, SCHEME)?));
        }
        match SemVersion::parse_scheme(bare, SCHEME) {
            Ok(v) => Ok(GoVersion(v)),
            // A toolchain version without its `go` prefix (`1.21rc2`), as inventories write
            // the `stdlib` version.
            Err(e) => match toolchain_to_semver(bare) {
                Some(text) => Ok(GoVersion(SemVersion::parse_scheme(&text, SCHEME)?)),
                None => Err(e),
            },
        }
    }
}

impl GoVersion {
    /// Orders two parsed Go versions.
    pub fn compare(&self, other: &GoVersion) -> Ordering {
        self.0.cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn cmp(a: &str, b: &str) -> Ordering {
        GoVersion::parse(a)
            .unwrap()
            .cmp(&GoVersion::parse(b).unwrap())
    }

    #[test]
    fn module_versions() {
        assert_eq!(cmp("v1.2.3", "1.2.3"), Equal);
        assert_eq!(cmp("v1.2", "v1.2.0"), Equal);
        assert_eq!(cmp("v1", "v1.0.0"), Equal);
        assert_eq!(cmp("0", "0.0.0"), Equal);
        assert_eq!(cmp("v2.0.0+incompatible", "v2.0.0"), Equal);
        assert_eq!(cmp("v2.0.1+incompatible", "v2.0.0+incompatible"), Greater);
        assert_eq!(cmp("v1.10.0", "v1.9.9"), Greater);
    }

    #[test]
    fn pseudo_versions_sort_below_the_next_release() {
        // v0.0.0-<timestamp>-<commit>: ordered by timestamp, below v0.0.1 and any tag.
        assert_eq!(
            cmp(
                "v0.0.0-20191109021931-daa7c04131f5",
                "v0.0.0-20200101000000-000000000000"
            ),
            Less
        );
        assert_eq!(cmp("v0.0.0-20191109021931-daa7c04131f5", "v0.1.0"), Less);
        // vX.Y.(Z+1)-0.<timestamp>-<commit> is after vX.Y.Z and before vX.Y.(Z+1).
        assert_eq!(
            cmp("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3"),
            Greater
        );
        assert_eq!(cmp("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4"), Less);
        // vX.Y.Z-pre.0.<timestamp>-<commit> is after vX.Y.Z-pre.
        assert_eq!(
            cmp("v1.2.3-rc.1.0.20191109021931-daa7c04131f5", "v1.2.3-rc.1"),
            Greater
        );
    }

    #[test]
    fn toolchain_versions() {
        assert_eq!(cmp("go1.20", "1.20.0"), Equal);
        assert_eq!(cmp("go1.21.3", "v1.21.3"), Equal);
        assert_eq!(cmp("go1.21rc2", "1.21.0-rc.2"), Equal);
        assert_eq!(cmp("go1.21rc2", "go1.21.0"), Less);
        assert_eq!(cmp("go1.9beta2", "go1.9rc1"), Less);
        assert_eq!(cmp("go1.19.10", "1.20.0-0"), Less);
        assert_eq!(cmp("go1.20.4", "1.20.5"), Less);
        // Without the `go` prefix, as an inventory writes the stdlib version.
        assert_eq!(cmp("1.21rc2", "go1.21rc2"), Equal);
        assert_eq!(cmp("1.9beta2", "1.9.0-beta.2"), Equal);
    }

    #[test]
    fn invalid() {
        for bad in ["", "go", "golang", "go1.x", "v1.2.3.4", "vx", "v1.2-foo"] {
            assert!(GoVersion::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
