//! Bounded texts of a decision: the denial message, warnings and audit annotation values.
//!
//! Kubernetes shows `status.message` to the user and prints each warning; the API server
//! truncates long warnings (over 256 characters) and drops many of them, and audit annotation
//! values land in audit logs. Every text here has a fixed upper bound.

use palisade_model::Finding;
use palisade_model::terminal::escape;

/// Largest denial message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Largest single violation line inside a message, in bytes.
pub const MAX_VIOLATION_BYTES: usize = 512;
/// Largest single warning, in bytes (the API server truncates beyond 256 characters).
pub const MAX_WARNING_BYTES: usize = 256;
/// Most warnings returned (the last one summarises the rest).
pub const MAX_WARNINGS: usize = 20;
/// Largest audit annotation value, in bytes.
pub const MAX_ANNOTATION_BYTES: usize = 1024;

/// Cuts `s` to at most `max` bytes on a character boundary, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let ellipsis = "…";
    let mut end = max.saturating_sub(ellipsis.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ellipsis}", &s[..end])
}

/// One violation as the denial lists it: `CHECK-ID title: message (remediation)`. The message
/// names what the request holds (images, names), so control characters in it are escaped:
/// kubectl prints this text on the user's terminal.
pub fn violation_line(f: &Finding) -> String {
    truncate(
        &format!(
            "{} {}: {} ({})",
            f.check_id,
            f.title,
            escape(&f.message),
            f.remediation.trim()
        ),
        MAX_VIOLATION_BYTES,
    )
}

/// The denial message: a head line, then one `- ` line per violation, bounded by
/// [`MAX_MESSAGE_BYTES`] with a count of the violations left out.
pub fn denial_message(object: &str, violations: &[&Finding]) -> String {
    let object = escape(object);
    let mut out = format!(
        "palisade denied {object}: {} violation{} of enforced policy",
        violations.len(),
        if violations.len() == 1 { "" } else { "s" }
    );
    for (i, f) in violations.iter().enumerate() {
        let line = format!("\n- {}", violation_line(f));
        let left = violations.len() - i - 1;
        // Keep room for the "and N more" tail unless this is the last line.
        let reserve = if left == 0 { 0 } else { 48 };
        if out.len() + line.len() + reserve > MAX_MESSAGE_BYTES {
            out.push_str(&format!(
                "\n- … and {} more violation{}",
                violations.len() - i,
                if violations.len() - i == 1 { "" } else { "s" }
            ));
            break;
        }
        out.push_str(&line);
    }
    out
}

/// Warnings for findings: one per finding (`CHECK-ID title: message`), each bounded, at most
/// [`MAX_WARNINGS`] with a summary of the rest. `prefix` is prepended to each (for break-glass).
pub fn warnings(prefix: &str, findings: &[&Finding], out: &mut Vec<String>) {
    for (i, f) in findings.iter().enumerate() {
        let left = findings.len() - i;
        if out.len() + 1 >= MAX_WARNINGS && left > 1 {
            out.push(format!("… and {left} more finding(s); see the audit log"));
            return;
        }
        if out.len() >= MAX_WARNINGS {
            return;
        }
        out.push(truncate(
            &format!("{prefix}{} {}: {}", f.check_id, f.title, escape(&f.message)),
            MAX_WARNING_BYTES,
        ));
    }
}

/// An audit annotation value listing check IDs (deduplicated, in order), bounded.
pub fn id_list<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for id in ids {
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    truncate(&seen.join(","), MAX_ANNOTATION_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{ObjectRef, Severity, SourceLocation};

    fn finding(id: &str, message: &str) -> Finding {
        Finding {
            check_id: id.into(),
            severity: Severity::High,
            title: "Privileged container".into(),
            message: message.into(),
            remediation: "Remove privileged: true.".into(),
            object: ObjectRef {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: Some("a".into()),
                name: "p".into(),
                source: SourceLocation::new("x", 1),
            }
            .into(),
            container: None,
            path: None,
        }
    }

    #[test]
    fn control_characters_from_the_request_are_escaped() {
        let f = finding("PAL-1", "image nginx\u{1b}]0;pwned\u{7} is not pinned");
        let m = denial_message("Pod/a/p\u{1b}[2J", &[&f]);
        assert!(!m.chars().any(|c| c.is_control() && c != '\n'), "{m:?}");
        assert!(m.contains("Pod/a/p\\u{1b}[2J"), "{m}");
        assert!(m.contains("nginx\\u{1b}]0;pwned\\u{7}"), "{m}");
        let mut w = Vec::new();
        warnings("", &[&f], &mut w);
        assert!(!w[0].chars().any(char::is_control), "{w:?}");
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("abc", 3), "abc");
        let t = truncate("ééééé", 6);
        assert!(t.len() <= 6 && t.ends_with('…'), "{t}");
        assert!(truncate(&"x".repeat(1000), 10).len() <= 10);
    }

    #[test]
    fn denial_lists_each_violation_with_remediation() {
        let a = finding("PAL-001", "container web is privileged");
        let b = finding("PAL-014", "pod uses the host network");
        let m = denial_message("Pod a/p", &[&a, &b]);
        assert!(
            m.starts_with("palisade denied Pod a/p: 2 violations"),
            "{m}"
        );
        assert!(m.contains(
            "\n- PAL-001 Privileged container: container web is privileged (Remove privileged: true.)"
        ));
        assert!(m.contains("\n- PAL-014 "));
    }

    #[test]
    fn denial_is_bounded_and_counts_the_rest() {
        let many: Vec<Finding> = (0..500)
            .map(|i| finding(&format!("PAL-{i:03}"), &"m".repeat(300)))
            .collect();
        let refs: Vec<&Finding> = many.iter().collect();
        let m = denial_message("Pod a/p", &refs);
        assert!(m.len() <= MAX_MESSAGE_BYTES, "{}", m.len());
        assert!(m.contains("more violations"), "{m}");
        let listed = m.matches("\n- PAL-").count();
        assert!(m.contains(&format!("and {} more", 500 - listed)), "{m}");
    }

    #[test]
    fn warnings_are_bounded_in_size_and_number() {
        let many: Vec<Finding> = (0..50)
            .map(|i| finding(&format!("PAL-{i:03}"), &"m".repeat(400)))
            .collect();
        let refs: Vec<&Finding> = many.iter().collect();
        let mut out = Vec::new();
        warnings("", &refs, &mut out);
        assert_eq!(out.len(), MAX_WARNINGS);
        assert!(out.iter().all(|w| w.len() <= MAX_WARNING_BYTES));
        assert!(out.last().unwrap().contains("31 more"), "{:?}", out.last());
        let mut few = Vec::new();
        warnings("", &refs[..2], &mut few);
        assert_eq!(few.len(), 2);
    }

    #[test]
    fn id_lists_are_deduplicated() {
        assert_eq!(id_list(["A", "B", "A"].into_iter()), "A,B");
    }
}
