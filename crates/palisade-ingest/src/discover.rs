//! Finding manifest files under the paths given on the command line, and reading them with a
//! size bound.

use std::fs;
use std::path::{Path, PathBuf};

use palisade_fs::Special;

use crate::{Diagnostic, DiagnosticLevel};

/// File extensions read when walking a directory. Files named explicitly are read whatever
/// their extension.
const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Deepest directory nesting walked (guards against pathological trees).
const MAX_DIR_DEPTH: usize = 64;

/// A file to read, and whether it may be a pipe or device (only a path the user named: a
/// shell's process substitution passes a pipe; files found by walking a directory must be
/// regular files, so a FIFO in a repository cannot hang the scan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFile {
    /// The path.
    pub path: PathBuf,
    /// Whether a pipe or character device may be read.
    pub special: Special,
}

/// Lists the manifest files a path stands for: the file itself, or every `.yaml`/`.yml`/`.json`
/// file below a directory in sorted order. Hidden entries (starting with `.`) are skipped and
/// symlinked directories are not followed, so the walk always ends. Entries with a manifest
/// extension that cannot be read as files — FIFOs, sockets, devices, dangling symlinks,
/// symlink loops — are reported as warnings, never opened and never skipped silently.
pub fn discover_files(path: &Path) -> (Vec<FoundFile>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            walk(path, 0, &mut files, &mut diags);
            // A directory named on purpose that holds no manifest is most likely the wrong
            // one; "no findings" alone would read as a pass.
            if files.is_empty() && diags.is_empty() {
                diags.push(warning(
                    path,
                    "no .yaml, .yml or .json file in this directory (hidden entries are skipped)"
                        .into(),
                ));
            }
        }
        Ok(_) => files.push(FoundFile {
            path: path.to_path_buf(),
            special: Special::Allow,
        }),
        Err(e) => diags.push(file_error(path, format!("cannot read: {e}"))),
    }
    (files, diags)
}

fn walk(dir: &Path, depth: usize, files: &mut Vec<FoundFile>, diags: &mut Vec<Diagnostic>) {
    if depth > MAX_DIR_DEPTH {
        diags.push(file_error(
            dir,
            "directory nesting too deep; not walked further".into(),
        ));
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(file_error(dir, format!("cannot list directory: {e}")));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) => {
                diags.push(warning(
                    &path,
                    format!("cannot read its type: {e}; skipped"),
                ));
                continue;
            }
        };
        if file_type.is_dir() {
            walk(&path, depth + 1, files, diags);
            continue;
        }
        if !has_manifest_extension(&path) {
            continue;
        }
        if file_type.is_symlink() {
            // The target decides: a directory is not followed (the walk must end), a file is
            // read, anything else is reported.
            match fs::metadata(&path) {
                Ok(m) if m.is_dir() => continue,
                Ok(m) if m.is_file() => {}
                Ok(m) => {
                    let kind = palisade_fs::special_kind(m.file_type()).unwrap_or("special file");
                    diags.push(warning(&path, format!("symlink to a {kind}; not read")));
                    continue;
                }
                Err(e) => {
                    diags.push(warning(&path, broken_link_message(&e)));
                    continue;
                }
            }
        } else if let Some(kind) = palisade_fs::special_kind(file_type) {
            diags.push(warning(
                &path,
                format!("not a regular file (a {kind}); not read"),
            ));
            continue;
        }
        files.push(FoundFile {
            path,
            special: Special::Refuse,
        });
    }
}

/// Why a symlink could not be followed, in words.
fn broken_link_message(e: &std::io::Error) -> String {
    if palisade_fs::is_symlink_loop(e) {
        "symlink loop; not read".into()
    } else if e.kind() == std::io::ErrorKind::NotFound {
        "dangling symlink (its target does not exist); not read".into()
    } else {
        format!("symlink cannot be followed ({e}); not read")
    }
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn file_error(path: &Path, message: String) -> Diagnostic {
    file_diagnostic(DiagnosticLevel::Error, path, message)
}

fn warning(path: &Path, message: String) -> Diagnostic {
    file_diagnostic(DiagnosticLevel::Warning, path, message)
}

fn file_diagnostic(level: DiagnosticLevel, path: &Path, message: String) -> Diagnostic {
    Diagnostic::input(level, path.display().to_string(), 0, 0, message)
}

/// Reads a found file, refusing files larger than `max` bytes without reading them whole and
/// files that are not regular (unless the user named them), without ever blocking in `open()`.
pub(crate) fn read_found(file: &FoundFile, max: u64) -> Result<Vec<u8>, String> {
    palisade_fs::read_bounded(&file.path, max, file.special).map_err(|e| match e {
        palisade_fs::OpenError::Io(e) => format!("cannot read: {e}"),
        other => other.to_string(),
    })
}
