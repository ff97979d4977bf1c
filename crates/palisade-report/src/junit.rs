//! JUnit XML output: one test case per (check, object) that failed, and one passing test case
//! per check that found nothing, so CI systems show both.

use std::collections::BTreeMap;
use std::fmt::Write;

use rayon::prelude::*;

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
    let mut buf = Vec::new();
    write_junit(r, &mut buf).expect("writing to memory cannot fail");
    String::from_utf8(buf).expect("the XML is UTF-8")
}

/// Writes the report as JUnit XML to `out`, test case by test case (memory does not grow with
/// the number of findings beyond the findings themselves).
pub fn write_junit(r: &ScanReport<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut by_check: BTreeMap<&str, Vec<&palisade_model::Finding>> = BTreeMap::new();
    for f in r.findings {
        by_check.entry(&*f.check_id).or_default().push(f);
    }
    let tests: usize = r
        .catalog
        .checks()
        .iter()
        .map(|c| by_check.get(c.id.as_str()).map_or(1, Vec::len))
        .sum();
    let input_errors: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.level == palisade_model::DiagnosticLevel::Error)
        .collect();
    let errors = input_errors.len();
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"palisade\" tests=\"{t}\" failures=\"{f}\" errors=\"{e}\">\n  <testsuite name=\"palisade scan\" tests=\"{t}\" failures=\"{f}\" errors=\"{e}\" skipped=\"0\">\n",
        t = tests + errors,
        f = r.findings.len(),
        e = errors,
    )?;
    // One entry per test case, in catalog order; formatted in parallel batches, written in order.
    let order: Vec<(&palisade_checks::CheckDef, Option<&palisade_model::Finding>)> = r
        .catalog
        .checks()
        .iter()
        .flat_map(|c| match by_check.get(c.id.as_str()) {
            None => vec![(c, None)],
            Some(findings) => findings.iter().map(|f| (c, Some(*f))).collect(),
        })
        .collect();
    const PER_TASK: usize = 512;
    for window in order.chunks(PER_TASK * 32) {
        let texts: Vec<String> = window
            .par_chunks(PER_TASK)
            .map(|chunk| {
                let mut text = String::with_capacity(chunk.len() * 400);
                for (c, f) in chunk {
                    test_case(&mut text, c, *f);
                }
                text
            })
            .collect();
        for t in texts {
            out.write_all(t.as_bytes())?;
        }
    }
    let mut cases = String::new();
    for d in input_errors {
        let _ = writeln!(
            cases,
            "    <testcase classname=\"input\" name=\"{}\">\n      <error type=\"input\" message=\"{}\"/>\n    </testcase>",
            esc(&format!("{}:{}", d.file(), d.line())),
            esc(&d.message)
        );
    }
    out.write_all(cases.as_bytes())?;
    out.write_all(b"  </testsuite>\n</testsuites>\n")
}

/// One test case: a passing check, or one finding of a check.
fn test_case(
    out: &mut String,
    c: &palisade_checks::CheckDef,
    finding: Option<&palisade_model::Finding>,
) {
    let Some(f) = finding else {
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}\" name=\"{}: {}\"/>",
            esc(&c.id),
            esc(&c.id),
            esc(&c.title)
        );
        return;
    };
    let location = f.object.source.to_string();
    let _ = writeln!(
        out,
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
