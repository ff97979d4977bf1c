//! Diagnostics: problems with inputs, reported beside results rather than instead of them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosticLevel {
    /// Something was read but may not be what the author meant.
    Warning,
    /// A document or file could not be read; its objects are missing from the inventory.
    Error,
}

/// A problem with one input: a file that could not be read or a document that could not be
/// parsed. Messages never contain Secret values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Warning or error.
    pub level: DiagnosticLevel,
    /// The file (or `-` for stdin).
    pub file: Arc<str>,
    /// 1-based line, 0 when the whole file is concerned.
    pub line: u32,
    /// 1-based column, 0 when unknown.
    pub column: u32,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            DiagnosticLevel::Warning => "warning",
            DiagnosticLevel::Error => "error",
        };
        // Shown on terminals: file names and messages come from untrusted input.
        write!(f, "{}", crate::terminal::escape(&self.file))?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        write!(f, ": {level}: {}", crate::terminal::escape(&self.message))
    }
}
