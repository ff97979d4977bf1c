//! Comparison of unbounded decimal digit strings without overflow.

use std::cmp::Ordering;

/// Compares two ASCII digit strings by numeric value (leading zeros ignored, any length).
pub(crate) fn cmp_numeric(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Whether `s` is a non-empty run of ASCII digits.
pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_order_ignores_leading_zeros_and_length_limits() {
        assert_eq!(cmp_numeric("010", "10"), Ordering::Equal);
        assert_eq!(cmp_numeric("9", "10"), Ordering::Less);
        assert_eq!(cmp_numeric("", "0"), Ordering::Equal);
        assert_eq!(
            cmp_numeric("99999999999999999999999999", "100000000000000000000000000"),
            Ordering::Less
        );
    }
}
