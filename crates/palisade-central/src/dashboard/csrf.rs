//! CSRF tokens: every form of a session carries the session's token in a hidden `csrf` field;
//! a POST whose field does not match (compared in constant time) is refused with 403. The
//! login form, which has no session yet, uses a double-submit cookie instead.

use maud::{Markup, html};

/// The hidden field's name.
pub const FIELD: &str = "csrf";
/// The login form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "pal_login";

/// The hidden input carrying `token`.
pub fn field(token: &str) -> Markup {
    html! { input type="hidden" name=(FIELD) value=(token); }
}

/// Whether `given` equals `expected` (constant time in the length of `expected`).
pub fn matches(expected: &str, given: Option<&str>) -> bool {
    let Some(given) = given else {
        return false;
    };
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    if a.is_empty() || a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_matches() {
        assert!(matches("abc", Some("abc")));
        for bad in [None, Some(""), Some("abd"), Some("ab"), Some("abcd")] {
            assert!(!matches("abc", bad), "{bad:?}");
        }
        assert!(!matches("", Some("")));
        assert!(
            field("x\"<")
                .into_string()
                .contains("value=\"x&quot;&lt;\"")
        );
    }
}
