//! Maven artifact versions, ordered as Maven's `ComparableVersion` orders them.
//!
//! The version is lower-cased and split into items: `.` separates items, `-` starts a nested
//! list, and a switch between digits and letters acts like `-`. Numbers compare numerically;
//! qualifiers by the well-known order `alpha < beta < milestone < rc (= cr) < snapshot <
//! "" (= ga = final = release) < sp`, unknown qualifiers after those, alphabetically. `a1`,
//! `b1`, `m1` (a single letter followed by a digit) mean alpha, beta, milestone. Trailing
//! "null" items (0, empty qualifier, empty list) are dropped, so `1.0 == 1` and
//! `1.0-ga == 1`. Against a missing item, a number counts as 0 and a qualifier as the release
//! (""), so `1-alpha < 1 < 1-sp` and `1 < 1.1`. A number is newer than a qualifier or a list,
//! a list is newer than a qualifier.

use std::cmp::Ordering;

use crate::VersionError;

const SCHEME: &str = "Maven";

/// The known qualifiers, in order; the empty string is the release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: usize = 5;

/// Sort key of a qualifier: known ones by position, unknown ones after, by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum QualifierKey {
    Known(usize),
    Unknown(String),
}

fn qualifier_key(value: &str) -> QualifierKey {
    match QUALIFIERS.iter().position(|q| *q == value) {
        Some(i) => QualifierKey::Known(i),
        None => QualifierKey::Unknown(value.to_string()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Number(String),
    Qualifier(QualifierKey),
    List(Vec<Item>),
}

impl Item {
    fn qualifier(text: &str, followed_by_digit: bool) -> Item {
        let text = if followed_by_digit && text.len() == 1 {
            match text {
                "a" => "alpha",
                "b" => "beta",
                "m" => "milestone",
                other => other,
            }
        } else {
            text
        };
        let canonical = match text {
            "ga" | "final" | "release" => "",
            "cr" => "rc",
            other => other,
        };
        Item::Qualifier(qualifier_key(canonical))
    }

    fn number(text: &str) -> Item {
        let trimmed = text.trim_start_matches('0');
        Item::Number(trimmed.to_string())
    }

    fn is_null(&self) -> bool {
        match self {
            Item::Number(n) => n.is_empty(),
            Item::Qualifier(q) => *q == QualifierKey::Known(RELEASE_INDEX),
            Item::List(l) => l.is_empty(),
        }
    }

    /// Compares against a missing item.
    fn cmp_missing(&self) -> Ordering {
        match self {
            Item::Number(n) => {
                if n.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            Item::Qualifier(q) => q.cmp(&QualifierKey::Known(RELEASE_INDEX)),
            Item::List(l) => l
                .iter()
                .map(Item::cmp_missing)
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal),
        }
    }

    fn compare(&self, other: &Item) -> Ordering {
        match (self, other) {
            (Item::Number(a), Item::Number(b)) => crate::digits::cmp_numeric(a, b),
            (Item::Number(_), _) => Ordering::Greater,
            (_, Item::Number(_)) => Ordering::Less,
            (Item::Qualifier(a), Item::Qualifier(b)) => a.cmp(b),
            (Item::Qualifier(_), Item::List(_)) => Ordering::Less,
            (Item::List(_), Item::Qualifier(_)) => Ordering::Greater,
            (Item::List(a), Item::List(b)) => compare_lists(a, b),
        }
    }
}

fn compare_lists(a: &[Item], b: &[Item]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let ord = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => x.compare(y),
            (Some(x), None) => x.cmp_missing(),
            (None, Some(y)) => y.cmp_missing().reverse(),
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Drops trailing null items, looking past non-null nested lists as Maven does.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// A parsed Maven version.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    items: Vec<Item>,
}

/// Builder state: the stack of open lists (the innermost last).
struct Builder {
    stack: Vec<Vec<Item>>,
}

impl Builder {
    fn push_item(&mut self, item: Item) {
        if let Some(top) = self.stack.last_mut() {
            top.push(item);
        }
    }
    fn current_is_empty(&self) -> bool {
        self.stack.last().is_none_or(Vec::is_empty)
    }
    fn open_list(&mut self) {
        self.stack.push(Vec::new());
    }
    fn finish(mut self) -> Vec<Item> {
        // Close lists innermost first, normalizing each, and nest them into their parents.
        while self.stack.len() > 1 {
            let mut inner = self.stack.pop().unwrap_or_default();
            normalize(&mut inner);
            self.push_item(Item::List(inner));
        }
        let mut root = self.stack.pop().unwrap_or_default();
        normalize(&mut root);
        root
    }
}

impl MavenVersion {
    /// Parses a Maven version (any text is a valid Maven version except the empty string and
    /// control characters).
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let s = input.trim();
        crate::check_length(SCHEME, s)?;
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(VersionError::invalid(
                SCHEME,
                input,
                "contains whitespace or control characters",
            ));
        }
        let lower = s.to_lowercase();
        let chars: Vec<char> = lower.chars().collect();
        let mut b = Builder {
            stack: vec![Vec::new()],
        };
        let mut start = 0usize;
        let mut is_digit = false;
        let text = |from: usize, to: usize| -> String { chars[from..to].iter().collect() };
        let parse_item = |digit: bool, t: &str| {
            if digit {
                Item::number(t)
            } else {
                Item::qualifier(t, false)
            }
        };
        for (i, &c) in chars.iter().enumerate() {
            if c == '.' || c == '-' {
                if i == start {
                    b.push_item(Item::Number(String::new()));
                } else {
                    b.push_item(parse_item(is_digit, &text(start, i)));
                }
                start = i + 1;
                if c == '-' {
                    b.open_list();
                }
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    // Letters followed by digits: "x1" is "x-1" ("a1" is "alpha-1"), and it
                    // starts a list of its own unless the current list is still empty.
                    if !b.current_is_empty() {
                        b.open_list();
                    }
                    b.push_item(Item::qualifier(&text(start, i), true));
                    start = i;
                    b.open_list();
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    b.push_item(Item::number(&text(start, i)));
                    start = i;
                    b.open_list();
                }
                is_digit = false;
            }
        }
        if chars.len() > start {
            // A trailing ".X" qualifier is treated as "-X".
            if !is_digit && !b.current_is_empty() {
                b.open_list();
            }
            b.push_item(parse_item(is_digit, &text(start, chars.len())));
        }
        Ok(MavenVersion { items: b.finish() })
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_lists(&self.items, &other.items)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn cmp(a: &str, b: &str) -> Ordering {
        MavenVersion::parse(a)
            .unwrap()
            .cmp(&MavenVersion::parse(b).unwrap())
    }

    #[test]
    fn qualifier_order() {
        let chain = [
            "1-alpha",
            "1-beta",
            "1-milestone",
            "1-rc",
            "1-snapshot",
            "1",
            "1-sp",
            "1-abc",
            "1-xyz",
        ];
        for w in chain.windows(2) {
            assert_eq!(cmp(w[0], w[1]), Less, "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn aliases_and_null_items() {
        for (a, b) in [
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1", "1-ga"),
            ("1", "1-final"),
            ("1", "1-release"),
            ("1-rc1", "1-cr1"),
            ("1a1", "1-alpha-1"),
            ("1b2", "1-beta-2"),
            ("1m3", "1-milestone-3"),
            ("1.0-alpha", "1-alpha"),
            ("1.0.0-SNAPSHOT", "1-snapshot"),
            ("1.0RC1", "1.0-rc-1"),
            ("1.x", "1-x"),
            ("1.0.0.X1", "1-x-1"),
            ("1.0.RELEASE", "1"),
            ("1.2.3.Final-2", "1.2.3-2"),
            ("1..2", "1.0.2"),
            ("2.0.0.M1", "2-milestone-1"),
        ] {
            assert_eq!(cmp(a, b), Equal, "{a} == {b}");
        }
    }

    #[test]
    fn numbers_and_separators() {
        assert_eq!(cmp("1.10", "1.9"), Greater);
        assert_eq!(cmp("1.0.1", "1.0"), Greater);
        assert_eq!(cmp("1-1", "1"), Greater);
        assert_eq!(
            cmp("1-1", "1.1"),
            Less,
            "a list (after '-') is older than a number"
        );
        assert_eq!(cmp("1-sp", "1.1"), Less);
        assert_eq!(cmp("1.0-alpha1", "1.0"), Less);
        assert_eq!(cmp("2.0.0.Final", "2.0.0"), Equal);
        assert_eq!(cmp("2.17.0", "2.15.0"), Greater);
        assert_eq!(cmp("5.3.18", "5.3.17.RELEASE"), Greater);
        assert_eq!(cmp("1.0-SNAPSHOT", "1.0"), Less);
        assert_eq!(cmp("1.0-alpha-2", "1.0-alpha-10"), Less);
        // An unknown qualifier sorts after the release.
        assert_eq!(cmp("1.0-foo", "1.0"), Greater);
        // a1 is alpha only when followed by a digit.
        assert_eq!(cmp("1a", "1-alpha"), Greater);
        // A qualifier between dots stays in place; only a trailing one becomes a list.
        assert_eq!(
            cmp("1.x.2", "1-x-2"),
            Less,
            "a qualifier is older than a list"
        );
        assert_eq!(cmp("1.0.0.X1", "1.0.0-X2"), Less);
    }
}
