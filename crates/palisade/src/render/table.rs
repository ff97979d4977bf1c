//! The house style of the command line's tables.

use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

/// A table with these headers, wrapped to [`crate::output::table_width`].
pub fn new_table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(crate::output::table_width())
        .set_header(headers.to_vec());
    t
}

/// Keeps the columns with these indices unwrapped (names and identifiers), so that the
/// free-text columns take the wrapping. Call after the rows are added.
pub fn keep_whole(t: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
}

/// Output format of the reports that are a table for people or one JSON document (the rbac
/// and risk commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableOrJson {
    /// Human-readable table.
    #[value(alias = "text", alias = "txt")]
    Table,
    /// JSON document.
    Json,
}
