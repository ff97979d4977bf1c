//! JUnit XML output: one test case per (check, object) that failed, and one passing test case
//! per check that found nothing, so CI systems show both.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::ScanReport;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// Renders the report as JUnit XML.
pub fn to_junit(r: &ScanReport<'_>) -> String {
    let mut by_check: BTreeMap<&str, Vec<&palisade_model::Finding>> = BTreeMap::new();
    for f in r.findings {
        by_check.entry(&*f.check_id).or_default().push(f);
    }
    let mut cases = String::new();
    let mut tests = 0usize;
    for c in r.catalog.checks() {
        match by_check.get(c.id.as_str()) {
            None => {
                tests += 1;
                let _ = writeln!(
                    cases,
                    "    <testcase classname=\"{}\" name=\"{}: {}\"/>",
                    esc(&c.id),
                    esc(&c.id),
                    esc(&c.title)
                );
            }
            Some(findings) => {
                for f in findings {
                    tests += 1;
                    let location = format!("{}:{}", f.object.source.file, f.object.source.line);
                    let _ = writeln!(
                        cases,
                        "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}&#10;at {}&#10;remediation: {}</failure>\n    </testcase>",
                        esc(&c.id),
                        esc(&format!(
                            "{} {}",
                            f.object,
                            f.container.as_deref().unwrap_or("")
                        ))
                        .trim_end(),
                        esc(&f.object.source.file),
                        f.severity,
                        esc(&f.message),
                        esc(&f.title),
                        esc(&location),
                        esc(&f.remediation),
                    );
                }
            }
        }
    }
    let errors = r
        .diagnostics
        .iter()
        .filter(|d| d.level == palisade_model::DiagnosticLevel::Error)
        .count();
    let mut diag_cases = String::new();
    for d in r
        .diagnostics
        .iter()
        .filter(|d| d.level == palisade_model::DiagnosticLevel::Error)
    {
        let _ = writeln!(
            diag_cases,
            "    <testcase classname=\"input\" name=\"{}\">\n      <error type=\"input\" message=\"{}\"/>\n    </testcase>",
            esc(&format!("{}:{}", d.file, d.line)),
            esc(&d.message)
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"palisade\" tests=\"{t}\" failures=\"{f}\" errors=\"{e}\">\n  <testsuite name=\"palisade scan\" tests=\"{t}\" failures=\"{f}\" errors=\"{e}\" skipped=\"0\">\n{cases}{diag_cases}  </testsuite>\n</testsuites>\n",
        t = tests + errors,
        f = r.findings.len(),
        e = errors,
    )
}
