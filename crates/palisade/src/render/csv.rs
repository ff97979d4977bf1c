//! CSV fields (RFC 4180) for the CSV outputs, safe to open in a spreadsheet.

use std::borrow::Cow;

/// One field: quoted when it holds a comma, quote or line break (quotes doubled), and, when a
/// spreadsheet would run it as a formula (CSV injection: a leading `=`, `@`, tab or carriage
/// return, or `+`/`-` not starting a plain number), prefixed with an apostrophe so it stays
/// text. Names, images and owner annotations come from the scanned input.
pub fn field(s: &str) -> Cow<'_, str> {
    let formula = match s.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => s.len() > 1 && s[1..].trim().parse::<f64>().is_err(),
        _ => false,
    };
    let text: Cow<'_, str> = if formula {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    };
    if text.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn quotes_per_rfc_4180_and_defuses_formulas() {
        assert_eq!(field("web"), "web");
        assert_eq!(field("alice, bob"), "\"alice, bob\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("a\r\nb"), "\"a\r\nb\"");
        assert_eq!(
            field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(field("-2+3"), "'-2+3");
        // Plain numbers and a lone dash (our "none") stay as they are.
        assert_eq!(field("-"), "-");
        assert_eq!(field("-12.5"), "-12.5");
        assert_eq!(field("+1"), "+1");
    }
}
