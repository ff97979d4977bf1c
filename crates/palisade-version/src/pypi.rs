//! Python package versions, parsed and ordered per PEP 440 (with its normalization rules).
//!
//! `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, accepting the spellings PEP 440 normalizes:
//! case-insensitive, leading `v`, `alpha`/`beta`/`c`/`pre`/`preview` for pre-releases, `-`,
//! `_` or `.` separators or none, implicit numbers (`1.0a` = `1.0a0`), `rev`/`r` and the
//! implicit `1.0-1` post-release, and `-`/`_` in local versions.
//!
//! Ordering: epoch, then the release with trailing zeros ignored (`2.7 == 2.7.0`), then
//! dev-only releases before pre-releases before the final release, then post-releases, then
//! dev releases of a given pre/post before it; local versions sort after the public version,
//! numeric local segments above alphanumeric ones.

use std::cmp::Ordering;

use crate::VersionError;

const SCHEME: &str = "PyPI";

/// Pre-release phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrePhase {
    /// `a`
    Alpha,
    /// `b`
    Beta,
    /// `rc`
    ReleaseCandidate,
}

/// One segment of a local version label.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LocalSegment {
    Number(String),
    Text(String),
}

impl Ord for LocalSegment {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (LocalSegment::Number(a), LocalSegment::Number(b)) => crate::digits::cmp_numeric(a, b),
            (LocalSegment::Text(a), LocalSegment::Text(b)) => a.cmp(b),
            (LocalSegment::Number(_), LocalSegment::Text(_)) => Ordering::Greater,
            (LocalSegment::Text(_), LocalSegment::Number(_)) => Ordering::Less,
        }
    }
}

impl PartialOrd for LocalSegment {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed, normalized PEP 440 version.
#[derive(Debug, Clone)]
pub struct Pep440Version {
    epoch: u64,
    release: Vec<u64>,
    pre: Option<(PrePhase, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    local: Vec<LocalSegment>,
}

/// A cursor over the lower-cased version text.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }
    fn number(&mut self) -> Option<&'a str> {
        let n = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let d = &self.s[self.pos..self.pos + n];
        self.pos += n;
        Some(d)
    }
    /// Skips one optional separator (`.`, `-` or `_`), returning whether it did.
    fn separator(&mut self) -> bool {
        if matches!(self.peek(), Some(b'.' | b'-' | b'_')) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// Consumes the longest of `words` found at the cursor.
    fn word(&mut self, words: &[&'static str]) -> Option<&'static str> {
        let rest = self.rest();
        let found = words
            .iter()
            .filter(|w| rest.starts_with(**w))
            .max_by_key(|w| w.len())
            .copied()?;
        self.pos += found.len();
        Some(found)
    }
}

fn to_u64(digits: &str, input: &str) -> Result<u64, VersionError> {
    digits
        .parse()
        .map_err(|_| VersionError::invalid(SCHEME, input, "number too large"))
}

impl Pep440Version {
    /// Parses and normalizes a PEP 440 version.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let trimmed = input.trim();
        crate::check_length(SCHEME, trimmed)?;
        let lower = trimmed.to_ascii_lowercase();
        let mut c = Cursor { s: &lower, pos: 0 };
        let err = |why: &str| VersionError::invalid(SCHEME, input, why.to_string());
        if c.peek() == Some(b'v') {
            c.pos += 1;
        }
        // Epoch and release.
        let mut first = c.number().ok_or_else(|| err("expected a release number"))?;
        let mut epoch = 0;
        if c.peek() == Some(b'!') {
            epoch = to_u64(first, input)?;
            c.pos += 1;
            first = c
                .number()
                .ok_or_else(|| err("expected a release number after the epoch"))?;
        }
        let mut release = vec![to_u64(first, input)?];
        while c.peek() == Some(b'.')
            && c.s
                .as_bytes()
                .get(c.pos + 1)
                .is_some_and(u8::is_ascii_digit)
        {
            c.pos += 1;
            let n = c.number().ok_or_else(|| err("expected a number"))?;
            release.push(to_u64(n, input)?);
        }
        // Pre-release.
        let mut pre = None;
        let save = c.pos;
        c.separator();
        if let Some(w) = c.word(&["alpha", "a", "beta", "b", "preview", "pre", "rc", "c"]) {
            let phase = match w {
                "alpha" | "a" => PrePhase::Alpha,
                "beta" | "b" => PrePhase::Beta,
                _ => PrePhase::ReleaseCandidate,
            };
            let before_num = c.pos;
            c.separator();
            let n = match c.number() {
                Some(d) => to_u64(d, input)?,
                None => {
                    c.pos = before_num;
                    0
                }
            };
            pre = Some((phase, n));
        } else {
            c.pos = save;
        }
        // Post-release.
        let mut post = None;
        let save = c.pos;
        if c.peek() == Some(b'-')
            && c.s
                .as_bytes()
                .get(c.pos + 1)
                .is_some_and(u8::is_ascii_digit)
        {
            c.pos += 1;
            post = Some(to_u64(c.number().unwrap_or("0"), input)?);
        } else {
            c.separator();
            if c.word(&["post", "rev", "r"]).is_some() {
                let before_num = c.pos;
                c.separator();
                post = Some(match c.number() {
                    Some(d) => to_u64(d, input)?,
                    None => {
                        c.pos = before_num;
                        0
                    }
                });
            } else {
                c.pos = save;
            }
        }
        // Dev release.
        let mut dev = None;
        let save = c.pos;
        c.separator();
        if c.word(&["dev"]).is_some() {
            let before_num = c.pos;
            c.separator();
            dev = Some(match c.number() {
                Some(d) => to_u64(d, input)?,
                None => {
                    c.pos = before_num;
                    0
                }
            });
        } else {
            c.pos = save;
        }
        // Local version.
        let mut local = Vec::new();
        if c.peek() == Some(b'+') {
            c.pos += 1;
            let label = c.rest();
            for part in label.split(['.', '-', '_']) {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(err("invalid local version label"));
                }
                local.push(if part.bytes().all(|b| b.is_ascii_digit()) {
                    LocalSegment::Number(part.to_string())
                } else {
                    LocalSegment::Text(part.to_string())
                });
            }
            c.pos = c.s.len();
        }
        if c.pos != c.s.len() {
            return Err(err(&format!("unexpected text {:?}", c.rest())));
        }
        Ok(Pep440Version {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    /// The release segment without trailing zeros (the part that takes part in ordering).
    fn significant_release(&self) -> &[u64] {
        let n = self
            .release
            .iter()
            .rposition(|x| *x != 0)
            .map_or(0, |p| p + 1);
        &self.release[..n]
    }

    /// Whether this is a pre-release or a development release.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }
}

/// Sort key of the pre-release part: dev-only releases lowest, final releases highest.
fn pre_key(v: &Pep440Version) -> (u8, Option<(PrePhase, u64)>) {
    match (v.pre, v.post, v.dev) {
        (None, None, Some(_)) => (0, None),
        (Some(p), _, _) => (1, Some(p)),
        (None, _, _) => (2, None),
    }
}

impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| self.significant_release().cmp(other.significant_release()))
            .then_with(|| pre_key(self).cmp(&pre_key(other)))
            // No post-release sorts before any post-release.
            .then_with(|| self.post.cmp(&other.post))
            // No dev release sorts after any dev release.
            .then_with(|| match (self.dev, other.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(&b),
            })
            // No local version sorts before any local version; segments compare in order.
            .then_with(|| self.local.cmp(&other.local))
    }
}

impl PartialOrd for Pep440Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Pep440Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pep440Version {}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn cmp(a: &str, b: &str) -> Ordering {
        Pep440Version::parse(a)
            .unwrap()
            .cmp(&Pep440Version::parse(b).unwrap())
    }

    #[test]
    fn pep440_total_order_example() {
        // The ordering example given in PEP 440 ("Summary of permitted suffixes and relative
        // ordering"), each strictly less than the next.
        let ordered = [
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
        ];
        for pair in ordered.windows(2) {
            assert_eq!(cmp(pair[0], pair[1]), Less, "{} < {}", pair[0], pair[1]);
            assert_eq!(cmp(pair[1], pair[0]), Greater, "{} > {}", pair[1], pair[0]);
        }
    }

    #[test]
    fn normalization_equalities() {
        for (a, b) in [
            ("2.7", "2.7.0"),
            ("2.7.0.0", "2.7"),
            ("1.0", "1.0.0"),
            ("1.0a", "1.0a0"),
            ("1.0alpha1", "1.0a1"),
            ("1.0-beta.2", "1.0b2"),
            ("1.0c1", "1.0rc1"),
            ("1.0pre1", "1.0rc1"),
            ("1.0preview1", "1.0rc1"),
            ("1.0_RC_1", "1.0rc1"),
            ("1.0-1", "1.0.post1"),
            ("1.0post", "1.0.post0"),
            ("1.0-r4", "1.0.post4"),
            ("1.0rev4", "1.0.post4"),
            ("1.0-dev", "1.0.dev0"),
            ("v1.0", "1.0"),
            ("V1.0", "1.0"),
            ("0!1.0", "1.0"),
            ("1.0+ubuntu-1", "1.0+ubuntu.1"),
            ("1.0+ABC", "1.0+abc"),
            (" 1.0 ", "1.0"),
        ] {
            assert_eq!(cmp(a, b), Equal, "{a} == {b}");
        }
    }

    #[test]
    fn epochs_and_numbers() {
        assert_eq!(cmp("1!0.1", "2.0"), Greater);
        assert_eq!(cmp("1.10", "1.9"), Greater);
        assert_eq!(cmp("1.0a10", "1.0a9"), Greater);
        assert_eq!(cmp("1.0+1.a", "1.0+1.1"), Less);
        assert_eq!(cmp("1.0+1", "1.0+1.0"), Less);
    }

    #[test]
    fn invalid_versions() {
        for bad in [
            "", "foo", "1.0.", "1.0+", "1.0+a..b", "1.0 a", "1.0-", "1!", "!1", "1.0a1a",
        ] {
            assert!(
                Pep440Version::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }
}
