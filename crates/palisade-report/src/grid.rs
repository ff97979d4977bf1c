//! A box-drawn text grid for the terminal report, built for hundreds of thousands of rows:
//! column widths come from one pass over the cells, long cells wrap at word boundaries to fit
//! a total width, and rows are rendered in parallel.
//!
//! The look is a border around the grid, a double rule under the header and no inner lines:
//!
//! ```text
//! ┌──────────────────────────────┐
//! │ SEVERITY   CHECK     FINDING │
//! ╞══════════════════════════════╡
//! │ HIGH       PAL-001   text    │
//! └──────────────────────────────┘
//! ```

use std::fmt::Write;

use rayon::prelude::*;
use unicode_width::UnicodeWidthChar;

/// Columns narrower than this are never produced by wrapping (a cell wraps one character per
/// line below it, which helps nobody).
const MIN_WRAPPED_WIDTH: usize = 12;

/// Display width of `s` in terminal columns.
pub(crate) fn display_width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        unicode_width::UnicodeWidthStr::width(s)
    }
}

/// One column: its header and whether it may wrap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    /// Header text.
    pub header: &'static str,
    /// Never wrap this column (identifiers, short fixed values): it is as wide as its widest
    /// cell, and the wrapping columns share what is left.
    pub whole: bool,
}

/// A cell: text (may hold `\n`) and an optional ANSI colour for all of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell<'a> {
    /// The text.
    pub text: &'a str,
    /// SGR colour code (`"31"` for red), applied when the grid is coloured.
    pub color: Option<&'static str>,
}

impl Column {
    /// A column as wide as its widest cell.
    pub const fn whole(header: &'static str) -> Self {
        Column {
            header,
            whole: true,
        }
    }

    /// A column whose cells wrap when the line would be too wide.
    pub const fn wrapping(header: &'static str) -> Self {
        Column {
            header,
            whole: false,
        }
    }
}

impl<'a> Cell<'a> {
    /// Uncoloured text.
    pub fn plain(text: &'a str) -> Self {
        Cell { text, color: None }
    }
}

/// Column widths for a set of rows within a total width.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    widths: Vec<usize>,
}

impl Layout {
    /// Widths for `columns` holding these rows, so that a line is at most `total` columns wide
    /// (`None`: every column as wide as its widest cell). Whole columns keep their content
    /// width; the others share the rest fairly, a narrow one keeping its own width and leaving
    /// the remainder to the wide ones.
    pub fn new(columns: &[Column], rows: &[Vec<Cell<'_>>], total: Option<usize>) -> Layout {
        let n = columns.len();
        let header: Vec<usize> = columns.iter().map(|c| display_width(c.header)).collect();
        let content = rows
            .par_iter()
            .fold(
                || header.clone(),
                |mut acc, row| {
                    for (w, cell) in acc.iter_mut().zip(row) {
                        for line in cell.text.split('\n') {
                            *w = (*w).max(display_width(line));
                        }
                    }
                    acc
                },
            )
            .reduce(
                || header.clone(),
                |a, b| a.iter().zip(&b).map(|(x, y)| *x.max(y)).collect(),
            );
        let Some(total) = total else {
            return Layout { widths: content };
        };
        // A line is `│ ` + cells separated by three spaces + ` │`.
        let frame = 3 * n + 1;
        let mut widths = content.clone();
        let fixed: usize = (0..n)
            .filter(|&i| columns[i].whole)
            .map(|i| content[i])
            .sum();
        let mut free: Vec<usize> = (0..n).filter(|&i| !columns[i].whole).collect();
        let mut room = total.saturating_sub(frame + fixed);
        if free.iter().map(|&i| content[i]).sum::<usize>() <= room {
            return Layout { widths };
        }
        // Water filling: columns narrower than a fair share keep their width.
        free.sort_by_key(|&i| content[i]);
        let mut left = free.len();
        for &i in &free {
            let share = (room / left).max(MIN_WRAPPED_WIDTH);
            widths[i] = content[i].min(share);
            room = room.saturating_sub(widths[i]);
            left -= 1;
        }
        Layout { widths }
    }

    /// Total width of a rendered line.
    pub fn line_width(&self) -> usize {
        self.widths.iter().sum::<usize>() + 3 * self.widths.len() + 1
    }

    /// The top border and the header.
    pub fn head(&self, columns: &[Column], out: &mut String) {
        self.rule(out, '┌', '─', '┐');
        let cells: Vec<Cell<'_>> = columns.iter().map(|c| Cell::plain(c.header)).collect();
        self.row(&cells, false, out);
        self.rule(out, '╞', '═', '╡');
    }

    /// The bottom border.
    pub fn foot(&self, out: &mut String) {
        self.rule(out, '└', '─', '┘');
    }

    /// Renders `rows` (in parallel, in order) and appends them to `out`.
    pub fn rows(&self, rows: &[Vec<Cell<'_>>], color: bool, out: &mut String) {
        for part in self.render_parallel(rows, color) {
            out.push_str(&part);
        }
    }

    /// Renders `rows` (in parallel, in order) to `out`, a window at a time, so memory stays
    /// bounded however many rows there are.
    pub fn write_rows(
        &self,
        rows: &[Vec<Cell<'_>>],
        color: bool,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        const WINDOW: usize = 32 * 1024;
        for window in rows.chunks(WINDOW) {
            for part in self.render_parallel(window, color) {
                out.write_all(part.as_bytes())?;
            }
        }
        Ok(())
    }

    fn render_parallel(&self, rows: &[Vec<Cell<'_>>], color: bool) -> Vec<String> {
        const BATCH: usize = 1024;
        rows.par_chunks(BATCH)
            .map(|chunk| {
                let mut s = String::with_capacity(chunk.len() * 2 * (self.line_width() + 8));
                for row in chunk {
                    self.row(row, color, &mut s);
                }
                s
            })
            .collect()
    }

    fn rule(&self, out: &mut String, left: char, fill: char, right: char) {
        out.push(left);
        for _ in 0..self.line_width() - 2 {
            out.push(fill);
        }
        out.push(right);
        out.push('\n');
    }

    /// One row: each cell wrapped to its column, as many lines as the tallest cell.
    fn row(&self, cells: &[Cell<'_>], color: bool, out: &mut String) {
        let wrapped: Vec<Vec<&str>> = cells
            .iter()
            .zip(&self.widths)
            .map(|(c, &w)| wrap(c.text, w))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        for line in 0..height {
            out.push('│');
            for (i, (cell, lines)) in cells.iter().zip(&wrapped).enumerate() {
                out.push_str(if i == 0 { " " } else { "   " });
                let text = lines.get(line).copied().unwrap_or("");
                match cell.color.filter(|_| color && !text.is_empty()) {
                    Some(code) => {
                        let _ = write!(out, "\x1b[{code}m{text}\x1b[0m");
                    }
                    None => out.push_str(text),
                }
                pad(out, self.widths[i].saturating_sub(display_width(text)));
            }
            out.push_str(" │\n");
        }
    }
}

fn pad(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

/// Splits `text` into lines of at most `width` columns: at its own line breaks, then between
/// words, and inside a word only when the word alone is wider than the column.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<&str> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for para in text.split('\n') {
        wrap_line(para.trim_end(), width, &mut lines);
    }
    lines
}

fn wrap_line<'a>(mut rest: &'a str, width: usize, lines: &mut Vec<&'a str>) {
    loop {
        if display_width(rest) <= width {
            lines.push(rest);
            return;
        }
        // The longest prefix that fits, by display width.
        let mut fit = 0; // byte index just after the last character that fits
        let mut used = 0;
        let mut last_space = None; // byte index of the last space inside the fitting prefix
        for (i, ch) in rest.char_indices() {
            let w = ch.width().unwrap_or(0);
            if used + w > width {
                break;
            }
            used += w;
            fit = i + ch.len_utf8();
            if ch == ' ' {
                last_space = Some(i);
            }
        }
        // A break at a space right after the fitting prefix is as good as one inside it.
        if rest[fit..].starts_with(' ') {
            last_space = Some(fit);
        }
        let (line, next) = match last_space {
            Some(sp) if sp > 0 => (&rest[..sp], &rest[sp..]),
            // One word wider than the column (a path, an image reference): cut it.
            _ => (
                &rest[..fit.max(first_char_len(rest))],
                &rest[fit.max(first_char_len(rest))..],
            ),
        };
        lines.push(line.trim_end());
        rest = next.trim_start_matches(' ');
        if rest.is_empty() {
            return;
        }
    }
}

fn first_char_len(s: &str) -> usize {
    s.chars().next().map_or(0, char::len_utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole grid: border, header, rows, border.
    fn draw(layout: &Layout, columns: &[Column], rows: &[Vec<Cell<'_>>]) -> String {
        let mut out = String::new();
        layout.head(columns, &mut out);
        layout.rows(rows, false, &mut out);
        layout.foot(&mut out);
        out
    }

    #[test]
    fn wraps_between_words_and_cuts_only_overlong_words() {
        assert_eq!(
            wrap("pod mounts host path /", 10),
            ["pod mounts", "host path", "/"]
        );
        assert_eq!(wrap("exactly ten", 11), ["exactly ten"]);
        assert_eq!(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
        assert_eq!(wrap("a\nb c", 3), ["a", "b c"]);
        assert_eq!(wrap("", 4), [""]);
        // Wide characters count two columns.
        assert_eq!(wrap("日本語テキスト", 6), ["日本語", "テキス", "ト"]);
    }

    #[test]
    fn every_line_has_the_layout_width_and_fits_the_total() {
        let columns = [
            Column::whole("SEVERITY"),
            Column::wrapping("OBJECT"),
            Column::wrapping("FINDING"),
        ];
        let long = "word ".repeat(40);
        let rows = vec![
            vec![
                Cell::plain("HIGH"),
                Cell::plain("Deployment/shop/web\nweb.yaml:3"),
                Cell::plain(&long),
            ],
            vec![
                Cell::plain("LOW"),
                Cell::plain("Pod/a/b"),
                Cell::plain("short"),
            ],
        ];
        for total in [60, 80, 160] {
            let layout = Layout::new(&columns, &rows, Some(total));
            let out = draw(&layout, &columns, &rows);
            for line in out.lines() {
                assert_eq!(line.chars().count(), layout.line_width(), "{line:?}");
                assert!(layout.line_width() <= total, "{total}: {out}");
            }
            // Nothing lost: every word of the long cell is there.
            assert_eq!(out.matches("word").count(), 40);
            assert!(out.contains("web.yaml:3"));
        }
        // Unlimited: one line per cell line.
        let layout = Layout::new(&columns, &rows, None);
        let mut out = String::new();
        layout.rows(&rows, false, &mut out);
        assert_eq!(out.lines().count(), 3);
    }

    proptest::proptest! {
        /// Wrapping never makes a line wider than the column, and loses or invents nothing
        /// but the spaces at the breaks.
        #[test]
        fn wrapped_lines_fit_and_keep_every_character(
            text in "[ a-zA-Z0-9/:.é日本語\u{200B}-]{0,200}",
            width in 2usize..60,
        ) {
            let lines = wrap(&text, width);
            for line in &lines {
                proptest::prop_assert!(display_width(line) <= width, "{line:?} wider than {width}");
            }
            let kept: String = lines.concat().chars().filter(|c| *c != ' ').collect();
            let original: String = text.chars().filter(|c| *c != ' ').collect();
            proptest::prop_assert_eq!(kept, original);
        }

        /// Every line of a grid is exactly as wide as the layout says, and no wider than the
        /// total once the whole columns fit in it.
        #[test]
        fn grid_lines_have_the_layout_width(
            cells in proptest::collection::vec(
                ("[A-Z]{1,8}", "[ a-z日本/.:-]{0,40}", "[ a-z日本é]{0,120}"),
                1..20,
            ),
            total in 40usize..200,
        ) {
            let columns = [Column::whole("SEVERITY"), Column::wrapping("OBJECT"), Column::wrapping("FINDING")];
            let rows: Vec<Vec<Cell<'_>>> = cells
                .iter()
                .map(|(a, b, c)| vec![Cell::plain(a), Cell::plain(b), Cell::plain(c)])
                .collect();
            let layout = Layout::new(&columns, &rows, Some(total));
            let out = draw(&layout, &columns, &rows);
            for line in out.lines() {
                proptest::prop_assert_eq!(display_width(line), layout.line_width(), "{:?}", line);
            }
            proptest::prop_assert!(layout.line_width() <= total.max(3 * 3 + 1 + 8 + 2 * MIN_WRAPPED_WIDTH));
        }
    }

    #[test]
    fn colour_wraps_the_text_not_the_padding() {
        let columns = [Column::whole("SEVERITY")];
        let rows = vec![vec![Cell {
            text: "HIGH",
            color: Some("31"),
        }]];
        let layout = Layout::new(&columns, &rows, Some(80));
        let mut out = String::new();
        layout.rows(&rows, true, &mut out);
        assert_eq!(out, "│ \x1b[31mHIGH\x1b[0m     │\n");
        let mut plain = String::new();
        layout.rows(&rows, false, &mut plain);
        assert_eq!(plain, "│ HIGH     │\n");
    }
}
