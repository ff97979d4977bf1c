//! Debian and Ubuntu package versions, ordered as dpkg orders them.
//!
//! A version is `[epoch:]upstream_version[-debian_revision]` (Debian Policy §5.6.12). The epoch
//! is compared numerically; upstream version and revision are compared with dpkg's algorithm:
//! alternating non-digit and digit runs, where non-digit characters sort by a modified ASCII
//! order in which `~` sorts before everything (even the end of the string), then the end of
//! the string, then letters, then all other characters; digit runs compare numerically.
//!
//! Like dpkg, hard syntax errors (empty epoch, nothing after the colon, empty revision, empty
//! version, embedded spaces) are rejected, while versions dpkg only warns about (not starting
//! with a digit, unusual characters) are accepted and compared the way dpkg compares them.

use std::cmp::Ordering;

use crate::VersionError;

const SCHEME: &str = "Debian";

/// A parsed dpkg version.
#[derive(Debug, Clone)]
pub struct DebianVersion {
    epoch: u32,
    upstream: String,
    revision: String,
}

impl DebianVersion {
    /// Parses a dpkg version string (surrounding whitespace is ignored, as dpkg does).
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let s = input.trim();
        crate::check_length(SCHEME, s)?;
        if s.chars().any(char::is_whitespace) {
            return Err(VersionError::invalid(
                SCHEME,
                input,
                "version string has embedded spaces",
            ));
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((epoch, rest)) => {
                if epoch.is_empty() || !epoch.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(VersionError::invalid(
                        SCHEME,
                        input,
                        "epoch in version is empty or not a number",
                    ));
                }
                let epoch: u32 = epoch
                    .parse()
                    .ok()
                    .filter(|e| *e <= i32::MAX as u32)
                    .ok_or_else(|| {
                        VersionError::invalid(SCHEME, input, "epoch in version is too big")
                    })?;
                if rest.is_empty() {
                    return Err(VersionError::invalid(
                        SCHEME,
                        input,
                        "nothing after colon in version number",
                    ));
                }
                (epoch, rest)
            }
            None => (0, s),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((upstream, revision)) => {
                if revision.is_empty() {
                    return Err(VersionError::invalid(
                        SCHEME,
                        input,
                        "revision number is empty",
                    ));
                }
                (upstream, revision)
            }
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(VersionError::invalid(
                SCHEME,
                input,
                "version number is empty",
            ));
        }
        Ok(DebianVersion {
            epoch,
            upstream: upstream.to_string(),
            revision: revision.to_string(),
        })
    }

    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The Debian revision (empty when absent).
    pub fn revision(&self) -> &str {
        &self.revision
    }
}

/// dpkg's weight of a non-digit character; `None` stands for the end of the string.
fn weight(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's comparison of one version part (upstream version or revision).
pub fn compare_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    let is_digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        // Non-digit prefix, character by character.
        while (i < a.len() && !is_digit(a, i)) || (j < b.len() && !is_digit(b, j)) {
            let wa = weight(a.get(i).copied());
            let wb = weight(b.get(j).copied());
            if wa != wb {
                return wa.cmp(&wb);
            }
            i += 1;
            j += 1;
        }
        // Digit run, numerically.
        let start_a = i;
        while is_digit(a, i) {
            i += 1;
        }
        let start_b = j;
        while is_digit(b, j) {
            j += 1;
        }
        let da = std::str::from_utf8(&a[start_a..i]).unwrap_or("");
        let db = std::str::from_utf8(&b[start_b..j]).unwrap_or("");
        let ord = crate::digits::cmp_numeric(da, db);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

impl Ord for DebianVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_part(&self.upstream, &other.upstream))
            .then_with(|| compare_part(&self.revision, &other.revision))
    }
}

impl PartialOrd for DebianVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for DebianVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DebianVersion {}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn cmp(a: &str, b: &str) -> Ordering {
        DebianVersion::parse(a)
            .unwrap()
            .cmp(&DebianVersion::parse(b).unwrap())
    }

    #[test]
    fn policy_examples() {
        // Debian Policy 5.6.12: `~` sorts before anything, even the end of a part.
        assert_eq!(cmp("1.0~rc1", "1.0"), Less);
        assert_eq!(cmp("1.0~~", "1.0~~a"), Less);
        assert_eq!(cmp("1.0~~a", "1.0~"), Less);
        assert_eq!(cmp("1.0~", "1.0"), Less);
        assert_eq!(cmp("1.0", "1.0a"), Less);
        // Letters sort before non-letters.
        assert_eq!(cmp("1.0a", "1.0+"), Less);
        assert_eq!(cmp("1.0z", "1.0."), Less);
        assert_eq!(cmp("1.0+", "1.0.1"), Less);
    }

    #[test]
    fn epochs_dominate() {
        assert_eq!(cmp("1:0.1", "9.9"), Greater);
        assert_eq!(cmp("0:1.0", "1.0"), Equal);
        assert_eq!(cmp("2:1.0", "10:0.1"), Less);
    }

    #[test]
    fn numbers_compare_numerically() {
        assert_eq!(cmp("1.10", "1.9"), Greater);
        assert_eq!(cmp("1.010", "1.10"), Equal);
        assert_eq!(cmp("1.0-10", "1.0-9"), Greater);
        assert_eq!(cmp("1.2.3-1+deb11u1", "1.2.3-1"), Greater);
        assert_eq!(cmp("1.2.3-1~deb11u1", "1.2.3-1"), Less);
    }

    #[test]
    fn revision_split_at_last_hyphen() {
        let v = DebianVersion::parse("1:2.3-4-5").unwrap();
        assert_eq!((v.epoch(), v.upstream(), v.revision()), (1, "2.3-4", "5"));
        // A missing revision compares like revision "0".
        assert_eq!(cmp("1.0", "1.0-0"), Equal);
    }

    #[test]
    fn hard_errors_are_rejected() {
        for bad in ["", "1:", ":1", "x:1", "1.0-", "1 0", "-1"] {
            assert!(
                DebianVersion::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }
}
