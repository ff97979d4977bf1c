//! Kubernetes label syntax (apimachinery's `IsQualifiedName` and `IsValidLabelValue`), and the
//! map type objects keep labels and annotations in ([`Labels`]).
//!
//! A key is `[prefix/]name`: the name is 1–63 characters, alphanumeric at both ends with `-`,
//! `_` and `.` inside; the optional prefix is a DNS subdomain (at most 253 characters, dot
//! separated lowercase alphanumeric labels with inner `-`). A value is empty or a valid name.

use crate::sorted_map::SortedMap;

/// A label (or annotation) map: key to value, in key order. A [`SortedMap`], which holds the few
/// entries objects carry in far less memory than a `BTreeMap`.
pub type Labels = SortedMap<String, String>;

/// Longest name part of a key, and longest value.
pub const MAX_NAME_LEN: usize = 63;
/// Longest key prefix (a DNS subdomain).
pub const MAX_PREFIX_LEN: usize = 253;

/// Why `key` is not a valid label key; `None` when it is.
pub fn key_error(key: &str) -> Option<&'static str> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Some("the prefix before '/' is empty");
        }
        if p.len() > MAX_PREFIX_LEN {
            return Some("the prefix is longer than 253 characters");
        }
        if !p.split('.').all(is_dns_label) {
            return Some(
                "the prefix must be a DNS subdomain (lowercase letters, digits, '-' and '.')",
            );
        }
    }
    if name.contains('/') {
        return Some("a key has at most one '/'");
    }
    if name.is_empty() {
        return Some("the name part is empty");
    }
    name_error(name)
}

/// Why `value` is not a valid label value; `None` when it is (the empty value is valid).
pub fn value_error(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        None
    } else {
        name_error(value)
    }
}

fn name_error(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if b.len() > MAX_NAME_LEN {
        return Some("longer than 63 characters");
    }
    let inner = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    if !b.iter().all(inner) {
        return Some("only letters, digits, '-', '_' and '.' are allowed");
    }
    if !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return Some("must begin and end with a letter or digit");
    }
    None
}

fn is_dns_label(l: &str) -> bool {
    let b = l.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_NAME_LEN
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in [
            "app",
            "app.kubernetes.io/name",
            "a",
            "A_b-c.d",
            "x/y",
            "k8s.io/Z9",
        ] {
            assert_eq!(key_error(ok), None, "{ok}");
        }
        for bad in [
            "app@b",
            "",
            "/app",
            "a/b/c",
            "-app",
            "app-",
            "Example.com/app",
            "ex_ample.com/app",
            "app/",
            &"a".repeat(64),
        ] {
            assert!(key_error(bad).is_some(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn values() {
        for ok in ["", "web", "v1.2_3-x", &"a".repeat(63)] {
            assert_eq!(value_error(ok), None, "{ok}");
        }
        for bad in ["$x", "-web", "web.", "a b", "x/y", &"a".repeat(64)] {
            assert!(value_error(bad).is_some(), "{bad:?} should be refused");
        }
    }
}
