//! Where output goes and whether it may use colour.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::ValueEnum;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour on a terminal unless NO_COLOR is set.
    #[default]
    Auto,
    /// Always colour (still never with NO_COLOR).
    Always,
    /// Never colour.
    Never,
}

/// Whether to colour stdout: never with a non-empty NO_COLOR, otherwise as chosen (auto = only
/// on a TTY).
pub fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if no_color {
        return false;
    }
    match choice {
        ColorChoice::Never => false,
        ColorChoice::Always => true,
        ColorChoice::Auto => !to_file && std::io::stdout().is_terminal(),
    }
}

/// Columns a table wraps its long cells to, so that no row is wider than this: `$COLUMNS` when
/// set, else the terminal's width when stdout is one, else [`DEFAULT_WIDTH`] (CI logs, pipes
/// and files get wrapped rows, not rows padded to the longest message).
pub fn table_width() -> u16 {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&c| c > 0);
    columns
        .or_else(|| comfy_table::Table::new().width())
        .unwrap_or(DEFAULT_WIDTH)
}

/// Table width when neither `$COLUMNS` nor a terminal says otherwise.
pub const DEFAULT_WIDTH: u16 = 160;

/// Writes text meant for people (tables, plain text) to the file or stdout, with control and
/// bidirectional-override characters from the scanned input escaped so they cannot drive the
/// terminal (see `palisade_model::terminal`). Machine formats go through [`emit`] unchanged:
/// they have their own escaping.
pub fn emit_text(text: &str, file: Option<&PathBuf>) -> anyhow::Result<()> {
    emit(&palisade_model::terminal::escape_keep_lines(text), file)
}

/// Chooses [`emit_text`] for people's formats and [`emit`] for machine formats.
pub fn emit_for(text: &str, file: Option<&PathBuf>, for_people: bool) -> anyhow::Result<()> {
    if for_people {
        emit_text(text, file)
    } else {
        emit(text, file)
    }
}

/// Writes `text` to the file, or to stdout, as it is (machine formats).
pub fn emit(text: &str, file: Option<&PathBuf>) -> anyhow::Result<()> {
    match file {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("writing to stdout"),
            }
        }
    }
}

/// Streams output into the file, or stdout, through a buffer; a closed pipe ends quietly.
pub fn emit_with(
    file: Option<&PathBuf>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let result = match file {
        Some(path) => {
            let f = std::fs::File::create(path)
                .with_context(|| format!("writing {}", path.display()))?;
            let mut w = std::io::BufWriter::new(f);
            write(&mut w).and_then(|_| w.flush())
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            write(&mut w).and_then(|_| w.flush())
        }
    };
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing the report"),
    }
}

/// `text` ending with a newline.
pub fn with_newline(text: String) -> String {
    if text.ends_with('\n') {
        text
    } else {
        text + "\n"
    }
}

/// Prints one message (which may span lines) to stderr with unsafe characters escaped; used by
/// `eprintln_safe!`.
pub fn stderr_line(message: &str) {
    eprintln!("{}", palisade_model::terminal::escape_keep_lines(message));
}

/// An error with its causes, each said once: `outer: cause: root cause`, leaving out a cause
/// whose text the message already contains (many errors print their source in their own
/// message, so anyhow's `{:#}` said "file is not a database" three times).
pub fn error_chain(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[test]
    fn causes_already_in_the_message_are_not_repeated() {
        /// An error that prints its source in its own message, as thiserror's `{source}` does.
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "/x: {}", self.0)
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = anyhow::Error::new(Wrapper(io)).context("reading config");
        assert_eq!(error_chain(&e), "reading config: /x: no such file");
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_chain(&plain), "outer: inner");
    }
}
