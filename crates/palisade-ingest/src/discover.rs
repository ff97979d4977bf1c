//! Finding manifest files under the paths given on the command line, and reading them with a
//! size bound.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;
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

/// How directories are walked (the command line's `--exclude` and `--helm-values`).
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Paths to leave out, in `.gitignore` syntax, matched below each walked directory
    /// (`vendor/`, `*.tmp`, `charts/**/tests`).
    pub exclude: Vec<String>,
    /// Values files passed to `helm template` for every chart found.
    pub helm_values: Vec<PathBuf>,
}

/// A directory whose manifests come out of a tool rather than out of its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderDir {
    /// A Helm chart (holds `Chart.yaml`): `helm template`.
    Helm(PathBuf),
    /// A Kustomize root (holds `kustomization.yaml`): `kubectl kustomize`.
    Kustomize(PathBuf),
}

/// What a path stands for: files to read, directories to render, and what was skipped.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Manifest files, in sorted order.
    pub files: Vec<FoundFile>,
    /// Helm charts and Kustomize roots (overlays' bases, which their overlays render, are not
    /// listed on their own).
    pub renders: Vec<RenderDir>,
    /// Problems, and notes about what was skipped.
    pub diagnostics: Vec<Diagnostic>,
}

/// Lists what a path stands for: the file itself, or below a directory every `.yaml`/`.yml`/
/// `.json` file in sorted order, honouring `.gitignore` and `.palisadeignore` files and
/// `options.exclude`. Hidden entries (starting with `.`) are skipped and symlinked directories
/// are not followed, so the walk always ends; a symlinked file is read only when its target is
/// inside the walked directory. A directory holding `Chart.yaml` or `kustomization.yaml` is not
/// walked: it is listed to be rendered. Files other tools own (Helm values, skaffold, compose
/// and CI configurations) are skipped with a note. Entries with a manifest extension that cannot
/// be read as files — FIFOs, sockets, devices, dangling symlinks, symlink loops — are reported
/// as warnings, never opened and never skipped silently.
pub fn discover_files(path: &Path, options: &WalkOptions) -> Discovered {
    let mut found = Discovered::default();
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            match render_dir(path) {
                Some(render) => found.renders.push(render),
                None => walk(path, options, &mut found),
            }
            // A directory named on purpose that holds no manifest is most likely the wrong
            // one; "no findings" alone would read as a pass.
            if found.files.is_empty() && found.renders.is_empty() && found.diagnostics.is_empty() {
                found.diagnostics.push(warning(
                    path,
                    "no .yaml, .yml or .json file in this directory (hidden entries are skipped)"
                        .into(),
                ));
            }
        }
        Ok(_) => found.files.push(FoundFile {
            path: path.to_path_buf(),
            special: Special::Allow,
        }),
        Err(e) => found
            .diagnostics
            .push(file_error(path, format!("cannot read: {e}"))),
    }
    found
}

/// What the walk's entry filter learned (it runs inside the `ignore` walker, hence shared).
#[derive(Default)]
struct Pruned {
    renders: Vec<RenderDir>,
    diagnostics: Vec<Diagnostic>,
}

fn walk(root: &Path, options: &WalkOptions, found: &mut Discovered) {
    let mut overrides = OverrideBuilder::new(root);
    for glob in &options.exclude {
        if let Err(e) = overrides.add(&format!("!{glob}")) {
            found
                .diagnostics
                .push(file_error(root, format!("--exclude {glob:?}: {e}")));
        }
    }
    let overrides = overrides.build().unwrap_or_else(|e| {
        found
            .diagnostics
            .push(file_error(root, format!("--exclude: {e}")));
        ignore::overrides::Override::empty()
    });
    let pruned = Arc::new(Mutex::new(Pruned::default()));
    let filter_state = Arc::clone(&pruned);
    let walker = WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(true)
        .git_ignore(true)
        .require_git(false)
        .parents(false)
        .add_custom_ignore_filename(PALISADE_IGNORE)
        .overrides(overrides)
        .follow_links(false)
        .max_depth(Some(MAX_DIR_DEPTH + 1))
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if !is_dir || entry.depth() == 0 {
                return true;
            }
            let mut pruned = filter_state.lock().unwrap_or_else(|e| e.into_inner());
            if entry.depth() > MAX_DIR_DEPTH {
                pruned.diagnostics.push(file_error(
                    entry.path(),
                    "directory nesting too deep; not walked further".into(),
                ));
                return false;
            }
            match render_dir(entry.path()) {
                Some(render) => {
                    pruned.renders.push(render);
                    false
                }
                None => true,
            }
        })
        .build();
    let canonical_root = fs::canonicalize(root).ok();
    for entry in walker {
        match entry {
            Ok(entry) => visit(&entry, canonical_root.as_deref(), found),
            Err(e) => found.diagnostics.push(walk_error(root, &e)),
        }
    }
    let pruned = std::mem::take(&mut *pruned.lock().unwrap_or_else(|e| e.into_inner()));
    found.diagnostics.extend(pruned.diagnostics);
    found.renders.extend(drop_bases(pruned.renders));
}

/// The ignore file of Palisade's own, beside `.gitignore` and with its syntax.
const PALISADE_IGNORE: &str = ".palisadeignore";

/// One walked entry: a manifest file is listed, anything else with a manifest extension that
/// cannot be read as a regular file inside the tree is reported, and so is every symlink that
/// leads nowhere (dangling, a loop) or to a directory (not followed), whatever its name.
fn visit(entry: &ignore::DirEntry, root: Option<&Path>, found: &mut Discovered) {
    let path = entry.path();
    let Some(file_type) = entry.file_type() else {
        return; // stdin: not walked
    };
    if file_type.is_dir() {
        return;
    }
    // A link's target decides, whatever the link's name (a link may stand for a directory of
    // manifests): a directory is not followed (the walk must end) and one that cannot be
    // followed is reported; what it leads to is checked below like any file.
    let target = if file_type.is_symlink() {
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                found.diagnostics.push(linked_directory(path));
                return;
            }
            Ok(m) => Some(m),
            Err(e) => {
                found
                    .diagnostics
                    .push(warning(path, broken_link_message(&e)));
                return;
            }
        }
    } else {
        None
    };
    if !has_manifest_extension(path) {
        return;
    }
    if let Some(owner) = other_tool_file(path) {
        found.diagnostics.push(note(
            path,
            format!("{owner}, not a Kubernetes manifest; skipped"),
        ));
        return;
    }
    match target {
        // A linked file is read only inside the tree.
        Some(m) if m.is_file() => {
            let inside = match (root, fs::canonicalize(path)) {
                (Some(root), Ok(target)) => target.starts_with(root),
                _ => false,
            };
            if !inside {
                found.diagnostics.push(warning(
                    path,
                    "symlink to a file outside the scanned directory; not read".into(),
                ));
                return;
            }
        }
        Some(m) => {
            let kind = palisade_fs::special_kind(m.file_type()).unwrap_or("special file");
            found
                .diagnostics
                .push(warning(path, format!("symlink to a {kind}; not read")));
            return;
        }
        None => {
            if let Some(kind) = palisade_fs::special_kind(file_type) {
                found.diagnostics.push(warning(
                    path,
                    format!("not a regular file (a {kind}); not read"),
                ));
                return;
            }
        }
    }
    found.files.push(FoundFile {
        path: path.to_path_buf(),
        special: Special::Refuse,
    });
}

/// A walk error as a diagnostic on the path it names (or the walked root).
fn walk_error(root: &Path, e: &ignore::Error) -> Diagnostic {
    let mut path = root.to_path_buf();
    let mut inner = e;
    loop {
        match inner {
            ignore::Error::WithPath { path: p, err } => {
                path = p.clone();
                inner = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                inner = err
            }
            ignore::Error::Loop { child, .. } => {
                return warning(child, "symlink loop; not read".into());
            }
            _ => break,
        }
    }
    match inner {
        ignore::Error::Io(io) => file_error(&path, format!("cannot list directory: {io}")),
        other => warning(&path, format!("{other}")),
    }
}

/// Whether `dir` is rendered by a tool rather than read file by file.
fn render_dir(dir: &Path) -> Option<RenderDir> {
    if dir.join("Chart.yaml").is_file() {
        return Some(RenderDir::Helm(dir.to_path_buf()));
    }
    KUSTOMIZATION_FILES
        .iter()
        .any(|f| dir.join(f).is_file())
        .then(|| RenderDir::Kustomize(dir.to_path_buf()))
}

/// The names `kubectl kustomize` looks for in a directory.
pub(crate) const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Kustomize roots that another found root refers to (as a resource, base or component) are
/// rendered as part of it, not on their own: an overlay's base is scanned once, as the overlay.
fn drop_bases(renders: Vec<RenderDir>) -> Vec<RenderDir> {
    let referenced: Vec<PathBuf> = renders
        .iter()
        .filter_map(|r| match r {
            RenderDir::Kustomize(dir) => Some(dir),
            RenderDir::Helm(_) => None,
        })
        .flat_map(|dir| kustomize_references(dir))
        .collect();
    renders
        .into_iter()
        .filter(|r| match r {
            RenderDir::Kustomize(dir) => fs::canonicalize(dir)
                .map(|c| !referenced.contains(&c))
                .unwrap_or(true),
            RenderDir::Helm(_) => true,
        })
        .collect()
}

/// The local directories a kustomization refers to, canonicalized.
fn kustomize_references(dir: &Path) -> Vec<PathBuf> {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Kustomization {
        resources: Vec<String>,
        bases: Vec<String>,
        components: Vec<String>,
    }
    let Some(text) = KUSTOMIZATION_FILES
        .iter()
        .find_map(|f| palisade_fs::read_bounded(&dir.join(f), 1 << 20, Special::Refuse).ok())
    else {
        return Vec::new();
    };
    let Ok(k) = serde_saphyr::from_slice::<Kustomization>(&text) else {
        return Vec::new();
    };
    k.resources
        .iter()
        .chain(&k.bases)
        .chain(&k.components)
        .filter_map(|r| fs::canonicalize(dir.join(r)).ok())
        .filter(|p| p.is_dir())
        .collect()
}

/// Files other tools own that share the manifests' extensions, with the tool's name. Only
/// files found by walking are skipped this way; a file named on the command line is read.
fn other_tool_file(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
    let owner = match stem {
        "chart" | "chart.lock" => "Helm chart metadata",
        "values.schema" => "Helm values schema",
        s if s == "values" || s.starts_with("values-") || s.starts_with("values.") => "Helm values",
        "skaffold" => "skaffold configuration",
        "kustomization" => "Kustomize configuration (its directory is rendered)",
        s if s.starts_with("docker-compose") || s == "compose" || s.starts_with("compose.") => {
            "Compose file"
        }
        "cloudbuild" => "Cloud Build configuration",
        "azure-pipelines" | "bitbucket-pipelines" | "appveyor" | "codecov" | "buildspec" => {
            "CI configuration"
        }
        "mkdocs" | "package" | "package-lock" | "tsconfig" | "renovate" | "devfile" => {
            "tool configuration"
        }
        _ => return None,
    };
    Some(owner)
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

/// A symlink to a directory: not followed (a link back up the tree would make the walk
/// endless), said as a note so the skipped directory is visible.
fn linked_directory(path: &Path) -> Diagnostic {
    note(
        path,
        "symlink to a directory; not followed (name the directory itself to scan it)".into(),
    )
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn note(path: &Path, message: String) -> Diagnostic {
    file_diagnostic(DiagnosticLevel::Info, path, message)
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
