//! The human-readable terminal report.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write;

use palisade_model::terminal::escape;
use palisade_model::{Finding, Severity};
use rayon::prelude::*;

use crate::ScanReport;
use crate::grid::{Cell, Column, Layout};

/// How findings are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    /// One table, most severe first.
    #[default]
    Severity,
    /// One section per object.
    Object,
}

/// Terminal rendering options.
#[derive(Debug, Clone, Copy)]
pub struct TableOptions {
    /// Use ANSI colours (the caller decides: only on a TTY, never with NO_COLOR).
    pub color: bool,
    /// Width in columns that long cells wrap to (`None`: no wrapping; rows are as wide as
    /// their longest cell).
    pub width: Option<u16>,
    /// Grouping.
    pub grouping: Grouping,
    /// List info-level diagnostics (inputs skipped as not Kubernetes manifests) one by one;
    /// without it the summary line counts them.
    pub notes: bool,
}

/// SGR foreground colour per severity.
fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "35", // magenta
        Severity::High => "31",     // red
        Severity::Medium => "33",   // yellow
        Severity::Low => "34",      // blue
        Severity::Info => "90",     // grey
    }
}

/// [`summary_line`] wrapped between words to `width` columns, when there is one.
fn wrapped_summary(r: &ScanReport<'_>, width: Option<usize>) -> String {
    let line = summary_line(r);
    let Some(width) = width else { return line };
    let mut out = String::with_capacity(line.len() + 8);
    for part in crate::grid::wrap(line.trim_end(), width) {
        out.push_str(part.trim_end());
        out.push('\n');
    }
    out
}

/// Upper-case severity names, borrowed by the cells.
fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

fn severity_cell(s: Severity) -> Cell<'static> {
    Cell {
        text: severity_label(s),
        color: Some(severity_color(s)),
    }
}

/// `file:line`, or `cluster NAME resourceVersion RV` for a live object.
fn location(f: &Finding) -> String {
    f.object.source.to_string()
}

/// Severity and check ID never wrap; the other columns share what is left.
const SEVERITY: Column = Column::whole("SEVERITY");
const CHECK: Column = Column::whole("CHECK");
const FINDING: Column = Column::wrapping("FINDING");

const BY_SEVERITY: [Column; 4] = [
    SEVERITY,
    CHECK,
    Column::wrapping("OBJECT / LOCATION"),
    FINDING,
];

const PER_OBJECT: [Column; 3] = [SEVERITY, CHECK, FINDING];

/// Renders the report for a terminal.
pub fn to_table(r: &ScanReport<'_>, opts: &TableOptions) -> String {
    let mut buf = Vec::new();
    write_table(r, opts, &mut buf).expect("writing to memory cannot fail");
    String::from_utf8(buf).expect("the table is UTF-8")
}

/// Writes the terminal report to `out` as it is rendered (memory stays bounded by a window of
/// rows, not the whole report).
pub fn write_table(
    r: &ScanReport<'_>,
    opts: &TableOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut head = String::new();
    let listed = r
        .diagnostics
        .iter()
        .filter(|d| opts.notes || d.level != palisade_model::DiagnosticLevel::Info);
    for d in listed.clone() {
        let _ = writeln!(head, "{d}");
    }
    if listed.count() > 0 {
        head.push('\n');
    }
    let total = opts.width.map(usize::from);
    if r.findings.is_empty() {
        head.push_str("No findings.\n");
        out.write_all(head.as_bytes())?;
        return out.write_all(wrapped_summary(r, total).as_bytes());
    }
    match opts.grouping {
        Grouping::Severity => {
            // Names, paths and messages come from the scanned input: escaped for the terminal.
            let texts: Vec<[Cow<'_, str>; 3]> = r
                .findings
                .par_iter()
                .map(|f| {
                    [
                        escape(&f.check_id),
                        Cow::Owned(format!(
                            "{}\n{}",
                            escape(&f.object.to_string()),
                            escape(&location(f))
                        )),
                        escape(&f.message),
                    ]
                })
                .collect();
            let rows: Vec<Vec<Cell<'_>>> = r
                .findings
                .iter()
                .zip(&texts)
                .map(|(f, [check, object, message])| {
                    vec![
                        severity_cell(f.severity),
                        Cell::plain(check),
                        Cell::plain(object),
                        Cell::plain(message),
                    ]
                })
                .collect();
            let layout = Layout::new(&BY_SEVERITY, &rows, total);
            layout.head(&BY_SEVERITY, &mut head);
            out.write_all(head.as_bytes())?;
            layout.write_rows(&rows, opts.color, out)?;
            let mut foot = String::new();
            layout.foot(&mut foot);
            out.write_all(foot.as_bytes())?;
        }
        Grouping::Object => {
            out.write_all(head.as_bytes())?;
            let mut by_object: BTreeMap<String, Vec<Texts<'_>>> = BTreeMap::new();
            for f in r.findings {
                by_object
                    .entry(format!(
                        "{}  ({})",
                        escape(&f.object.to_string()),
                        escape(&location(f))
                    ))
                    .or_default()
                    .push((f, escape(&f.check_id), escape(&f.message)));
            }
            type Texts<'f> = (&'f Finding, Cow<'f, str>, Cow<'f, str>);
            fn row<'t>((f, check, message): &'t Texts<'_>) -> Vec<Cell<'t>> {
                vec![
                    severity_cell(f.severity),
                    Cell::plain(check),
                    Cell::plain(message),
                ]
            }
            // One layout for all objects: every table has the same columns.
            let all: Vec<Vec<Cell<'_>>> = by_object.values().flatten().map(row).collect();
            let layout = Layout::new(&PER_OBJECT, &all, total);
            drop(all);
            let mut text = String::new();
            for (object, findings) in &by_object {
                let _ = writeln!(text, "{object}");
                let rows: Vec<Vec<Cell<'_>>> = findings.iter().map(row).collect();
                layout.head(&PER_OBJECT, &mut text);
                layout.rows(&rows, opts.color, &mut text);
                layout.foot(&mut text);
                text.push('\n');
                if text.len() > 1 << 20 {
                    out.write_all(text.as_bytes())?;
                    text.clear();
                }
            }
            out.write_all(text.as_bytes())?;
        }
    }
    out.write_all(wrapped_summary(r, total).as_bytes())
}

/// One-line summary: counts per severity, objects, files, suppressed, unreadable inputs.
pub fn summary_line(r: &ScanReport<'_>) -> String {
    let counts = r.counts();
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter(|s| counts[*s] > 0)
        .map(|s| format!("{} {}", counts[s], s))
        .collect();
    let mut s = format!(
        "{} finding{}{} in {} object{} from {} file{}",
        r.findings.len(),
        if r.findings.len() == 1 { "" } else { "s" },
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        },
        r.objects,
        if r.objects == 1 { "" } else { "s" },
        r.files,
        if r.files == 1 { "" } else { "s" },
    );
    if !r.suppressed.is_empty() {
        let _ = write!(s, "; {} suppressed by exceptions", r.suppressed.len());
    }
    if !r.expired_exceptions.is_empty() {
        let _ = write!(s, "; {} exception(s) expired", r.expired_exceptions.len());
    }
    let errors = r
        .diagnostics
        .iter()
        .filter(|d| d.level == palisade_model::DiagnosticLevel::Error)
        .count();
    if errors > 0 {
        let _ = write!(s, "; {errors} input(s) could not be read");
    }
    let skipped = r
        .diagnostics
        .iter()
        .filter(|d| d.level == palisade_model::DiagnosticLevel::Info)
        .count();
    if skipped > 0 {
        let _ = write!(
            s,
            "; {skipped} input(s) skipped as not Kubernetes manifests"
        );
    }
    s.push('\n');
    if !r.unanalysed_kinds.is_empty() {
        let kinds: Vec<String> = r
            .unanalysed_kinds
            .iter()
            .map(|(k, n)| format!("{} {n}", escape(k)))
            .collect();
        let _ = writeln!(
            s,
            "Kinds no built-in check analyses (custom and API-version checks still read them): {}",
            kinds.join(", ")
        );
    }
    s
}
