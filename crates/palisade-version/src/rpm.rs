//! RPM package versions (`[epoch:]version[-release]`), ordered as rpm orders them.
//!
//! The epoch is compared numerically (absent = 0), then version and release with
//! `rpmvercmp`: both strings are split into alternating runs of digits and of letters,
//! everything else being a separator; digit runs compare numerically, letter runs by byte
//! order, and a digit run is newer than a letter run. `~` sorts before anything, even the end
//! of the string (pre-releases: `1.0~rc1 < 1.0`); `^` sorts after the end of the string but
//! before any further component (snapshots: `1.0 < 1.0^git1 < 1.0.1`). When all compared
//! runs are equal, the string with components left over is newer.

use std::cmp::Ordering;

use crate::VersionError;

const SCHEME: &str = "RPM";

/// A parsed RPM epoch:version-release.
#[derive(Debug, Clone)]
pub struct RpmVersion {
    epoch: String,
    version: String,
    release: Option<String>,
}

impl RpmVersion {
    /// Parses `[epoch:]version[-release]` as rpm's `parseEVR` splits it: the epoch is the
    /// leading run of digits when a `:` follows it (an empty one is `0`); otherwise there is
    /// no epoch and any `:` belongs to the version (`x:1.0` is version `x:1.0`, in which `:`
    /// is a separator for `rpmvercmp`). The release is everything after the last `-`, and
    /// may be empty (`1.0-` has the release `""`, older than any other release).
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let s = input.trim();
        crate::check_length(SCHEME, s)?;
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(VersionError::invalid(SCHEME, input, "contains whitespace"));
        }
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let (epoch, rest) = match s[digits..].strip_prefix(':') {
            Some(rest) if digits == 0 => ("0".to_string(), rest),
            Some(rest) => (s[..digits].to_string(), rest),
            None => ("0".to_string(), s),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, Some(r.to_string())),
            None => (rest, None),
        };
        if version.is_empty() {
            return Err(VersionError::invalid(SCHEME, input, "empty version"));
        }
        Ok(RpmVersion {
            epoch,
            version: version.to_string(),
            release,
        })
    }
}

/// rpm's `rpmvercmp` on one version or release string.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    let separator = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        while i < a.len() && separator(a[i]) {
            i += 1;
        }
        while j < b.len() && separator(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(first), Some(_)) = (ca, cb) else {
            break;
        };
        let numeric = first.is_ascii_digit();
        let in_run = |c: u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let (sa, sb) = (i, j);
        while i < a.len() && in_run(a[i]) {
            i += 1;
        }
        while j < b.len() && in_run(b[j]) {
            j += 1;
        }
        if j == sb {
            // Different kinds of run: a number is newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let ra = std::str::from_utf8(&a[sa..i]).unwrap_or("");
        let rb = std::str::from_utf8(&b[sb..j]).unwrap_or("");
        let ord = if numeric {
            crate::digits::cmp_numeric(ra, rb)
        } else {
            ra.cmp(rb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        crate::digits::cmp_numeric(&self.epoch, &other.epoch)
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| match (&self.release, &other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (None, None) => Ordering::Equal,
            })
    }
}

impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RpmVersion {}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn evr(a: &str, b: &str) -> Ordering {
        RpmVersion::parse(a)
            .unwrap()
            .cmp(&RpmVersion::parse(b).unwrap())
    }

    #[test]
    fn rpmvercmp_basics() {
        assert_eq!(rpmvercmp("1.0", "1.0"), Equal);
        assert_eq!(rpmvercmp("1.0", "2.0"), Less);
        assert_eq!(rpmvercmp("2.0.1", "2.0"), Greater);
        assert_eq!(rpmvercmp("1.10", "1.9"), Greater);
        assert_eq!(rpmvercmp("1.010", "1.10"), Equal);
        // Separators only separate: any run of them is equivalent.
        assert_eq!(rpmvercmp("1.0", "1_0"), Equal);
        assert_eq!(rpmvercmp("1..0", "1.0"), Equal);
        assert_eq!(rpmvercmp("1.0.", "1.0"), Equal);
        // Letters against digits: the number is newer.
        assert_eq!(rpmvercmp("1.a", "1.1"), Less);
        assert_eq!(rpmvercmp("1.1", "1.a"), Greater);
        // Letters compare by byte order.
        assert_eq!(rpmvercmp("1.0a", "1.0b"), Less);
        assert_eq!(rpmvercmp("1.0B", "1.0a"), Less);
        // Leftover components win.
        assert_eq!(rpmvercmp("1.0a", "1.0"), Greater);
        assert_eq!(rpmvercmp("2.0", "2.0.0"), Less);
    }

    #[test]
    fn tilde_and_caret() {
        assert_eq!(rpmvercmp("1.0~rc1", "1.0"), Less);
        assert_eq!(rpmvercmp("1.0~rc1", "1.0~rc2"), Less);
        assert_eq!(rpmvercmp("1.0~~", "1.0~"), Less);
        assert_eq!(rpmvercmp("1.0^git1", "1.0"), Greater);
        assert_eq!(rpmvercmp("1.0^git1", "1.0.1"), Less);
        assert_eq!(rpmvercmp("1.0^git1", "1.0^git2"), Less);
        assert_eq!(rpmvercmp("1.0~rc1^git1", "1.0~rc1"), Greater);
        assert_eq!(rpmvercmp("1.0~rc1^git1", "1.0"), Less);
    }

    #[test]
    fn epoch_version_release() {
        assert_eq!(evr("1:1.0-1", "2.0-1"), Greater);
        assert_eq!(evr("0:1.0-1", "1.0-1"), Equal);
        assert_eq!(evr("1.0-1.el8", "1.0-2.el8"), Less);
        assert_eq!(evr("1.0-10.el8", "1.0-9.el8"), Greater);
        assert_eq!(evr("3.2.1-1.el9_2", "3.2.1-1.el9"), Greater);
        assert_eq!(evr("1.0", "1.0-1"), Less);
        assert!(RpmVersion::parse("").is_err());
    }

    /// rpm's `parseEVR`: only a leading run of digits before `:` is an epoch; other text
    /// before `:` stays in the version, where `rpmvercmp` reads `:` as a separator.
    #[test]
    fn non_numeric_text_before_the_colon_is_part_of_the_version() {
        let v = RpmVersion::parse("x:1.0").unwrap();
        assert_eq!((v.epoch.as_str(), v.version.as_str()), ("0", "x:1.0"));
        assert_eq!(evr("x:1.0", "x.1.0"), Equal);
        assert_eq!(evr("x:1.0", "1.0"), Less, "letters are older than a number");
        assert_eq!(evr("1a:2.0", "1a.2.0"), Equal);
        let v = RpmVersion::parse("2:1.0:3-1").unwrap();
        assert_eq!((v.epoch.as_str(), v.version.as_str()), ("2", "1.0:3"));
        assert_eq!(evr(":1.0-1", "0:1.0-1"), Equal, "an empty epoch is 0");
    }

    /// An empty release (`1.0-`) is a release, the empty string, older than any other.
    #[test]
    fn empty_release_is_accepted() {
        let v = RpmVersion::parse("1.0-").unwrap();
        assert_eq!(v.release.as_deref(), Some(""));
        assert_eq!(evr("1.0-", "1.0-1"), Less);
        assert_eq!(evr("1.0-", "1.0-"), Equal);
        assert_eq!(evr("1:1.0-", "1.0-5"), Greater);
    }
}
