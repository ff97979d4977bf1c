//! The human-readable terminal report.

use std::collections::BTreeMap;
use std::fmt::Write;

use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table, Width, presets};
use palisade_model::{Finding, Severity};

use crate::ScanReport;

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
}

fn severity_color(s: Severity) -> Color {
    match s {
        Severity::Critical => Color::Magenta,
        Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Blue,
        Severity::Info => Color::Grey,
    }
}

fn severity_cell(s: Severity, color: bool) -> Cell {
    let cell = Cell::new(s.as_str().to_uppercase());
    if color {
        cell.fg(severity_color(s))
    } else {
        cell
    }
}

fn new_table(opts: &TableOptions) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_BORDERS_ONLY);
    if let Some(w) = opts.width {
        t.set_width(w);
        t.set_content_arrangement(ContentArrangement::Dynamic);
    }
    if !opts.color {
        t.force_no_tty();
    } else {
        t.enforce_styling();
    }
    t
}

/// Keeps the columns with these indices whole (identifiers and `file:line` are not wrapped),
/// so the free-text column takes the wrapping.
fn keep_whole(t: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
}

fn location(f: &Finding) -> String {
    format!("{}:{}", f.object.source.file, f.object.source.line)
}

/// Renders the report for a terminal.
pub fn to_table(r: &ScanReport<'_>, opts: &TableOptions) -> String {
    let mut out = String::new();
    for d in r.diagnostics {
        let _ = writeln!(out, "{d}");
    }
    if !r.diagnostics.is_empty() {
        out.push('\n');
    }
    if r.findings.is_empty() {
        out.push_str("No findings.\n");
    } else {
        match opts.grouping {
            Grouping::Severity => {
                let mut t = new_table(opts);
                t.set_header(vec!["SEVERITY", "CHECK", "OBJECT / LOCATION", "FINDING"]);
                for f in r.findings {
                    t.add_row(vec![
                        severity_cell(f.severity, opts.color),
                        Cell::new(&f.check_id),
                        Cell::new(format!("{}\n{}", f.object, location(f))),
                        Cell::new(&f.message),
                    ]);
                }
                keep_whole(&mut t, &[0, 1]);
                // On a narrow terminal the object and path wrap before the finding does.
                if let Some(c) = t.column_mut(3) {
                    c.set_constraint(ColumnConstraint::LowerBoundary(Width::Percentage(45)));
                }
                let _ = writeln!(out, "{t}");
            }
            Grouping::Object => {
                let mut by_object: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
                for f in r.findings {
                    by_object
                        .entry(format!("{}  ({})", f.object, location(f)))
                        .or_default()
                        .push(f);
                }
                for (object, findings) in by_object {
                    let _ = writeln!(out, "{object}");
                    let mut t = new_table(opts);
                    t.set_header(vec!["SEVERITY", "CHECK", "FINDING"]);
                    for f in findings {
                        t.add_row(vec![
                            severity_cell(f.severity, opts.color),
                            Cell::new(&f.check_id),
                            Cell::new(&f.message),
                        ]);
                    }
                    keep_whole(&mut t, &[0, 1]);
                    let _ = writeln!(out, "{t}\n");
                }
            }
        }
    }
    out.push_str(&summary_line(r));
    out
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
    s.push('\n');
    s
}
