//! Finding manifest files under the paths given on the command line, and reading them with a
//! size bound.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{Diagnostic, DiagnosticLevel};

/// File extensions read when walking a directory. Files named explicitly are read whatever
/// their extension.
const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Deepest directory nesting walked (guards against pathological trees).
const MAX_DIR_DEPTH: usize = 64;

/// Lists the manifest files a path stands for: the file itself, or every `.yaml`/`.yml`/`.json`
/// file below a directory in sorted order. Hidden entries (starting with `.`) are skipped and
/// symlinked directories are not followed, so the walk always ends.
pub fn discover_files(path: &Path) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            walk(path, 0, &mut files, &mut diags);
            // A directory named on purpose that holds no manifest is most likely the wrong
            // one; "no findings" alone would read as a pass.
            if files.is_empty() && diags.is_empty() {
                diags.push(Diagnostic {
                    level: DiagnosticLevel::Warning,
                    ..file_error(
                        path,
                        "no .yaml, .yml or .json file in this directory (hidden entries are skipped)"
                            .into(),
                    )
                });
            }
        }
        Ok(_) => files.push(path.to_path_buf()),
        Err(e) => diags.push(file_error(path, format!("cannot read: {e}"))),
    }
    (files, diags)
}

fn walk(dir: &Path, depth: usize, files: &mut Vec<PathBuf>, diags: &mut Vec<Diagnostic>) {
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
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            walk(&path, depth + 1, files, diags);
        } else if has_manifest_extension(&path) {
            // Regular files and symlinks to files; a symlink to a directory is not followed.
            if file_type.is_symlink() && fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(true) {
                continue;
            }
            files.push(path);
        }
    }
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn file_error(path: &Path, message: String) -> Diagnostic {
    Diagnostic::input(
        DiagnosticLevel::Error,
        path.display().to_string(),
        0,
        0,
        message,
    )
}

/// Reads a file, refusing files larger than `max` bytes without reading them whole.
pub(crate) fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let file = fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    // Sized from the metadata so the buffer is not regrown (and copied) while reading; the
    // `take` below still bounds what is read if the file grows meanwhile.
    let expected = file.metadata().map_or(0, |m| m.len()).min(max + 1);
    let mut data = Vec::with_capacity(usize::try_from(expected).unwrap_or(0) + 1);
    file.take(max + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot read: {e}"))?;
    if data.len() as u64 > max {
        return Err(format!(
            "file is larger than the limit of {max} bytes; not read"
        ));
    }
    Ok(data)
}
