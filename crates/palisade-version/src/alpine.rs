//! Alpine package versions, ordered as apk-tools orders them.
//!
//! Grammar: `digit{.digit}...{letter{digit}}{_suffix{digit}}...{~hash}{-r digit}`. Suffixes
//! `_alpha < _beta < _pre < _rc` mark pre-releases (older than no suffix), while
//! `_cvs < _svn < _git < _hg < _p` mark post-releases (newer). Components are compared in
//! order while both versions have the same kind of component; a number with a leading zero
//! (after a dot) is compared as a string. When one version runs out of matching components,
//! the other one is newer unless its next component is a pre-release suffix; otherwise the
//! kind of the next component decides (a further number beats a letter, which beats a
//! suffix, …, which beats the end).
//!
//! A number right after a letter (`6.6.2p1-r0`, `1.7.4p6-r1`, as OpenBSD-derived packages
//! spell their portable releases) is a number component, as apk-tools 2's tokenizer reads
//! it (`TOKEN_LETTER` followed by a digit gives `TOKEN_DIGIT`), compared by value; Alpine's
//! security database uses such versions (`opensmtpd` `6.6.2p1-r0` fixes CVE-2020-7247).

use std::cmp::Ordering;

use crate::VersionError;

const SCHEME: &str = "Alpine";

/// Suffix kinds in apk order; the ones before `None` are pre-releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Suffix {
    Alpha,
    Beta,
    Pre,
    Rc,
    /// Boundary: pre-release suffixes sort below it.
    None,
    Cvs,
    Svn,
    Git,
    Hg,
    P,
}

impl Suffix {
    fn parse(s: &str) -> Option<Suffix> {
        Some(match s {
            "alpha" => Suffix::Alpha,
            "beta" => Suffix::Beta,
            "pre" => Suffix::Pre,
            "rc" => Suffix::Rc,
            "cvs" => Suffix::Cvs,
            "svn" => Suffix::Svn,
            "git" => Suffix::Git,
            "hg" => Suffix::Hg,
            "p" => Suffix::P,
            _ => return None,
        })
    }
}

/// One component; the declaration order is apk's token order (used when kinds differ).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    InitialDigit(String),
    Digit(String),
    /// A number right after a letter (`p1` in `6.6.2p1`): same kind as `Digit`, by value.
    DigitAfterLetter(String),
    Letter(u8),
    Suffix(Suffix),
    SuffixNo(String),
    CommitHash(String),
    RevisionNo(String),
}

impl Token {
    fn rank(&self) -> u8 {
        match self {
            Token::InitialDigit(_) => 0,
            Token::Digit(_) | Token::DigitAfterLetter(_) => 1,
            Token::Letter(_) => 2,
            Token::Suffix(_) => 3,
            Token::SuffixNo(_) => 4,
            Token::CommitHash(_) => 5,
            Token::RevisionNo(_) => 6,
        }
    }
}

/// Rank of the end of a version (greater than every token kind).
const END_RANK: u8 = 7;

/// A parsed apk version.
#[derive(Debug, Clone)]
pub struct AlpineVersion {
    tokens: Vec<Token>,
}

fn take_while(s: &str, pred: impl Fn(u8) -> bool) -> (&str, &str) {
    let n = s.bytes().take_while(|c| pred(*c)).count();
    s.split_at(n)
}

impl AlpineVersion {
    /// Parses an apk version string; anything apk-tools would flag as invalid is rejected.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        crate::check_length(SCHEME, input)?;
        let err = |why: &str| VersionError::invalid(SCHEME, input, why.to_string());
        let (first, mut rest) = take_while(input, |c| c.is_ascii_digit());
        if first.is_empty() {
            return Err(err("must start with a digit"));
        }
        let mut tokens = vec![Token::InitialDigit(first.to_string())];
        while let Some(c) = rest.bytes().next() {
            let prev = tokens.last().map(Token::rank).unwrap_or(0);
            match c {
                b'a'..=b'z' => {
                    if prev > 1 {
                        return Err(err("a letter may only follow a number"));
                    }
                    tokens.push(Token::Letter(c));
                    rest = &rest[1..];
                }
                b'.' | b'0'..=b'9' => {
                    if c == b'.' {
                        if prev > 1 {
                            return Err(err("a dot may only follow a number"));
                        }
                        rest = &rest[1..];
                    }
                    let (digits, tail) = take_while(rest, |c| c.is_ascii_digit());
                    if digits.is_empty() {
                        return Err(err("expected a number"));
                    }
                    let token = match (prev, c) {
                        (0 | 1, _) => Token::Digit(digits.to_string()),
                        (2, b'0'..=b'9') => Token::DigitAfterLetter(digits.to_string()),
                        (3, _) => Token::SuffixNo(digits.to_string()),
                        _ => {
                            return Err(err(
                                "a number may not follow a suffix number, hash or revision",
                            ));
                        }
                    };
                    tokens.push(token);
                    rest = tail;
                }
                b'_' => {
                    if prev > 4 {
                        return Err(err("a suffix may not follow a hash or revision"));
                    }
                    let (name, tail) = take_while(&rest[1..], |c| c.is_ascii_lowercase());
                    let suffix = Suffix::parse(name).ok_or_else(|| err("unknown suffix"))?;
                    tokens.push(Token::Suffix(suffix));
                    rest = tail;
                }
                b'~' => {
                    if prev >= 5 {
                        return Err(err("misplaced ~hash"));
                    }
                    let (hash, tail) = take_while(&rest[1..], |c| c.is_ascii_hexdigit());
                    if hash.is_empty() {
                        return Err(err("empty ~hash"));
                    }
                    tokens.push(Token::CommitHash(hash.to_string()));
                    rest = tail;
                }
                b'-' => {
                    if prev >= 6 || !rest.starts_with("-r") {
                        return Err(err("expected -r<number> revision"));
                    }
                    let (digits, tail) = take_while(&rest[2..], |c| c.is_ascii_digit());
                    if digits.is_empty() {
                        return Err(err("empty revision number"));
                    }
                    tokens.push(Token::RevisionNo(digits.to_string()));
                    rest = tail;
                }
                _ => return Err(err("unexpected character")),
            }
        }
        Ok(AlpineVersion { tokens })
    }
}

fn compare_same_kind(a: &Token, b: &Token) -> Ordering {
    use crate::digits::cmp_numeric;
    match (a, b) {
        (Token::Digit(x), Token::Digit(y)) => {
            if x.starts_with('0') || y.starts_with('0') {
                x.as_bytes().cmp(y.as_bytes())
            } else {
                cmp_numeric(x, y)
            }
        }
        (Token::InitialDigit(x), Token::InitialDigit(y))
        | (Token::DigitAfterLetter(x), Token::DigitAfterLetter(y))
        | (Token::SuffixNo(x), Token::SuffixNo(y))
        | (Token::RevisionNo(x), Token::RevisionNo(y)) => cmp_numeric(x, y),
        (Token::Letter(x), Token::Letter(y)) => x.cmp(y),
        (Token::Suffix(x), Token::Suffix(y)) => x.cmp(y),
        (Token::CommitHash(x), Token::CommitHash(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => a.rank().cmp(&b.rank()),
    }
}

impl Ord for AlpineVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let mut i = 0;
        loop {
            let (a, b) = (self.tokens.get(i), other.tokens.get(i));
            match (a, b) {
                (None, None) => return Ordering::Equal,
                (Some(x), Some(y)) if x.rank() == y.rank() => {
                    let ord = compare_same_kind(x, y);
                    if ord != Ordering::Equal {
                        return ord;
                    }
                    i += 1;
                }
                _ => {
                    // Kinds differ (or one version ended).
                    if let Some(Token::Suffix(s)) = a
                        && *s < Suffix::None
                    {
                        return Ordering::Less;
                    }
                    if let Some(Token::Suffix(s)) = b
                        && *s < Suffix::None
                    {
                        return Ordering::Greater;
                    }
                    let ra = a.map(Token::rank).unwrap_or(END_RANK);
                    let rb = b.map(Token::rank).unwrap_or(END_RANK);
                    // The version whose next component has the higher kind is older.
                    return rb.cmp(&ra);
                }
            }
        }
    }
}

impl PartialOrd for AlpineVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for AlpineVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for AlpineVersion {}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn cmp(a: &str, b: &str) -> Ordering {
        AlpineVersion::parse(a)
            .unwrap()
            .cmp(&AlpineVersion::parse(b).unwrap())
    }

    #[test]
    fn pre_release_suffixes_are_older() {
        assert_eq!(cmp("1.0_alpha", "1.0"), Less);
        assert_eq!(cmp("1.0_alpha1", "1.0_beta"), Less);
        assert_eq!(cmp("1.0_beta2", "1.0_pre1"), Less);
        assert_eq!(cmp("1.0_pre1", "1.0_rc1"), Less);
        assert_eq!(cmp("1.0_rc1", "1.0_rc2"), Less);
        assert_eq!(cmp("1.0_rc10", "1.0_rc9"), Greater);
        assert_eq!(cmp("1.0_rc1", "1.0"), Less);
    }

    #[test]
    fn post_release_suffixes_are_newer() {
        assert_eq!(cmp("1.0_p1", "1.0"), Greater);
        assert_eq!(cmp("1.0_cvs", "1.0_svn"), Less);
        assert_eq!(cmp("1.0_git20200101", "1.0_p1"), Less);
        assert_eq!(cmp("1.0_p1", "1.0.1"), Less);
    }

    #[test]
    fn revisions_and_components() {
        assert_eq!(cmp("1.0-r0", "1.0-r1"), Less);
        assert_eq!(cmp("1.0-r10", "1.0-r9"), Greater);
        // apk: when one version ends, the other is newer unless a pre-release suffix follows.
        assert_eq!(cmp("1.0", "1.0-r0"), Less);
        assert_eq!(cmp("1.0-r5", "1.0.1-r0"), Less);
        assert_eq!(cmp("1.2.3", "1.2.3"), Equal);
        assert_eq!(cmp("1.10", "1.9"), Greater);
        assert_eq!(cmp("1.0a", "1.0"), Greater);
        assert_eq!(cmp("1.0a", "1.0b"), Less);
        assert_eq!(cmp("1.0a", "1.0.1"), Less);
        assert_eq!(cmp("1.0", "1.0.0"), Less);
    }

    #[test]
    fn leading_zero_components_compare_as_strings() {
        // 1.01 vs 1.1: "01" < "1" as strings.
        assert_eq!(cmp("1.01", "1.1"), Less);
        assert_eq!(cmp("1.001", "1.01"), Less);
        // The first number is always numeric.
        assert_eq!(cmp("01.0", "1.0"), Equal);
    }

    #[test]
    fn commit_hash() {
        assert_eq!(cmp("1.0~abc-r0", "1.0~abd-r0"), Less);
        assert_eq!(cmp("1.0~abc", "1.0"), Greater);
    }

    #[test]
    fn invalid_versions_are_rejected() {
        for bad in [
            "",
            "a1",
            "1.0_foo",
            "1.0-1",
            "1.0-r",
            "1.0.",
            "1.0ab",
            "1.0 ",
            "1.0~",
            "1.0-r1_p1",
        ] {
            assert!(
                AlpineVersion::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }
}
