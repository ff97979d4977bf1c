//! SemVer 2.0.0 versions (npm, crates.io), ordered by SemVer precedence.
//!
//! `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`. Precedence (SemVer §11): major, minor and patch
//! numerically; a version with a pre-release is lower than the same version without; pre-release
//! identifiers compare left to right, numeric identifiers numerically, alphanumeric ones in ASCII
//! order, numeric below alphanumeric, and a shorter list lower when all preceding identifiers are
//! equal. Build metadata is ignored (`1.0.0+a == 1.0.0+b`). A leading `v` or `=` (as npm accepts
//! in loose mode) is skipped.

use std::cmp::Ordering;

use crate::VersionError;

const SCHEME: &str = "SemVer";

/// One pre-release identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identifier {
    Numeric(String),
    Alphanumeric(String),
}

impl Ord for Identifier {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Identifier::Numeric(a), Identifier::Numeric(b)) => crate::digits::cmp_numeric(a, b),
            (Identifier::Alphanumeric(a), Identifier::Alphanumeric(b)) => {
                a.as_bytes().cmp(b.as_bytes())
            }
            (Identifier::Numeric(_), Identifier::Alphanumeric(_)) => Ordering::Less,
            (Identifier::Alphanumeric(_), Identifier::Numeric(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed SemVer version.
#[derive(Debug, Clone)]
pub struct SemVersion {
    core: [String; 3],
    pre: Vec<Identifier>,
    build: String,
}

fn valid_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

impl SemVersion {
    /// Parses a SemVer version.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Self::parse_scheme(input, SCHEME)
    }

    pub(crate) fn parse_scheme(input: &str, scheme: &'static str) -> Result<Self, VersionError> {
        let s = input.trim();
        crate::check_length(scheme, s)?;
        let err = |why: &str| VersionError::invalid(scheme, input, why.to_string());
        let s = s.strip_prefix('=').unwrap_or(s);
        let s = s.strip_prefix('v').unwrap_or(s);
        let (rest, build) = match s.split_once('+') {
            Some((r, b)) => {
                if !b.split('.').all(valid_identifier) {
                    return Err(err("invalid build metadata"));
                }
                (r, b)
            }
            None => (s, ""),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (rest, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() != 3 {
            return Err(err("expected MAJOR.MINOR.PATCH"));
        }
        if !parts.iter().all(|p| crate::digits::all_digits(p)) {
            return Err(err("MAJOR, MINOR and PATCH must be numbers"));
        }
        let mut identifiers = Vec::new();
        if let Some(pre) = pre {
            for id in pre.split('.') {
                if !valid_identifier(id) {
                    return Err(err("invalid pre-release identifier"));
                }
                identifiers.push(if crate::digits::all_digits(id) {
                    Identifier::Numeric(id.to_string())
                } else {
                    Identifier::Alphanumeric(id.to_string())
                });
            }
        }
        Ok(SemVersion {
            core: [
                parts[0].to_string(),
                parts[1].to_string(),
                parts[2].to_string(),
            ],
            pre: identifiers,
            build: build.to_string(),
        })
    }

    /// Whether the version has a pre-release part.
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// The build metadata (empty when absent); it takes no part in ordering.
    pub fn build(&self) -> &str {
        &self.build
    }
}

impl Ord for SemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.core.iter().zip(other.core.iter()) {
            let ord = crate::digits::cmp_numeric(a, b);
            if ord != Ordering::Equal {
                return ord;
            }
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => self.pre.cmp(&other.pre),
        }
    }
}

impl PartialOrd for SemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVersion {}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn cmp(a: &str, b: &str) -> Ordering {
        SemVersion::parse(a)
            .unwrap()
            .cmp(&SemVersion::parse(b).unwrap())
    }

    #[test]
    fn semver_spec_precedence_example() {
        // SemVer 2.0.0 §11 example chain.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for w in chain.windows(2) {
            assert_eq!(cmp(w[0], w[1]), Less, "{} < {}", w[0], w[1]);
        }
        assert_eq!(cmp("1.0.0", "2.0.0"), Less);
        assert_eq!(cmp("2.0.0", "2.1.0"), Less);
        assert_eq!(cmp("2.1.0", "2.1.1"), Less);
    }

    #[test]
    fn build_metadata_is_ignored_and_lowest_version() {
        assert_eq!(cmp("1.0.0+build.1", "1.0.0+build.2"), Equal);
        assert_eq!(cmp("1.0.0-rc.1+x", "1.0.0-rc.1"), Equal);
        // OSV's "0.0.0-0" is the lowest SemVer version.
        assert_eq!(cmp("0.0.0-0", "0.0.0-alpha"), Less);
        assert_eq!(cmp("0.0.0-0", "0.0.0"), Less);
        assert_eq!(cmp("v1.2.3", "1.2.3"), Equal);
        assert_eq!(cmp("1.2.10", "1.2.9"), Greater);
    }

    #[test]
    fn invalid() {
        for bad in [
            "",
            "1.0",
            "1.0.0.0",
            "1.0.0-",
            "1.0.0-a..b",
            "1.0.0+",
            "a.b.c",
            "1.0.0-a_b",
        ] {
            assert!(
                SemVersion::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }
}
