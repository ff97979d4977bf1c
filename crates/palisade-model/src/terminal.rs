//! Text from scanned inputs made safe to show on a terminal.
//!
//! Names, messages and file paths come from untrusted manifests, images and file systems. Shown
//! raw, a control character can drive the terminal (or a CI log viewer that renders ANSI):
//! erase the screen, retitle the window, move the cursor over earlier findings, or write the
//! clipboard (OSC 52); a bidirectional override can make text read differently from what it
//! is. Human-readable sinks pass such text through [`escape`] first; machine formats (JSON,
//! SARIF, XML) have their own escaping.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal as itself: the C0 and C1 control characters and DEL
/// (Unicode category Cc), and the invisible bidirectional formatting characters (Trojan
/// Source, CVE-2021-42574).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every unsafe character (see [`is_unsafe`]) written as a visible escape, `\u{1b}`
/// for ESC; line breaks and tabs included, so one value stays on one line. Borrows when
/// nothing needs escaping (the usual case).
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_where(s, is_unsafe)
}

/// [`escape`] for text that is several lines by design (a rendered table, a report): line
/// breaks are kept, everything else unsafe is escaped.
pub fn escape_keep_lines(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| c != '\n' && is_unsafe(c))
}

fn escape_where(s: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    let Some(first) = s.find(&unsafe_char) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_become_visible_escapes() {
        assert!(matches!(escape("web-7d9f ✓ ümlaut"), Cow::Borrowed(_)));
        assert_eq!(
            escape("evil\x1b[2J\x1b]0;pwned\x07"),
            "evil\\u{1b}[2J\\u{1b}]0;pwned\\u{7}"
        );
        assert_eq!(escape("a\nb\tc\rd"), "a\\u{a}b\\u{9}c\\u{d}d");
        assert_eq!(escape("del\x7f c1\u{9b}"), "del\\u{7f} c1\\u{9b}");
        assert_eq!(escape("x\u{202E}gpj.exe"), "x\\u{202e}gpj.exe");
        assert_eq!(escape_keep_lines("a\nb\x1bc"), "a\nb\\u{1b}c");
    }
}
