//! Manifest ingestion: files, directories and stdin into Palisade's [`Inventory`].
//!
//! Ingestion never fails as a whole. It returns the inventory of everything that could be read
//! plus a list of [`Diagnostic`]s, each naming the file, line and column of a document that could
//! not be read and why — as a compiler front end returns a tree plus errors.
//!
//! Supported inputs: `.yaml`, `.yml` and `.json` files, directories (recursively, in sorted
//! order, hidden entries skipped, symlinked directories not followed), and bytes from stdin;
//! multi-document YAML streams (Helm and `kubectl kustomize` output included); `kind: List`
//! (as `kubectl get -o yaml` exports). Unknown kinds and CRDs are kept as
//! [`palisade_model::OtherObject`]s.
//!
//! Hostile input is bounded: file size, YAML nesting depth, node and alias counts are capped per
//! document, and a panic in a parser is caught and reported as a diagnostic for that document.

mod convert;
mod discover;
mod documents;
pub mod json;
mod live;
mod parse;
mod redact;
mod render;
mod yaml;
mod yaml_fast;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use palisade_model::diagnostic::{Diagnostic, DiagnosticLevel};
use palisade_model::{Inventory, SourceLocation};

pub use discover::{Discovered, FoundFile, RenderDir, WalkOptions, discover_files};
pub use live::{ingest_live, ingest_live_with};
pub use redact::scrub_secret;

/// Limits that keep memory bounded on untrusted input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Deepest YAML/JSON nesting accepted in one document.
    pub max_depth: usize,
    /// Most YAML nodes in one document (after alias expansion).
    pub max_nodes: usize,
    /// Most alias references in one document.
    pub max_aliases: usize,
    /// Keep each typed object's raw JSON form (`Resource::raw`), which custom CEL checks read.
    /// Without it, typed objects carry `Value::Null` and scans of large inputs need far less
    /// memory; objects of other kinds always keep theirs (their analyses read raw fields).
    pub keep_raw: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            max_depth: 64,
            max_nodes: 250_000,
            max_aliases: 1_000,
            keep_raw: true,
        }
    }
}

/// The result of ingestion: the inventory plus what could not be read.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Everything that was read, finalized (implicit namespaces added).
    pub inventory: Inventory,
    /// Problems, in input order.
    pub diagnostics: Vec<Diagnostic>,
    /// Number of files read.
    pub files: usize,
    /// Number of documents parsed.
    pub documents: usize,
}

impl Ingested {
    /// True when some input could not be read.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.level == DiagnosticLevel::Error)
    }
}

/// One input to read.
#[derive(Debug, Clone)]
pub enum Input {
    /// A file or directory.
    Path(PathBuf),
    /// Bytes already read (stdin), with the name to show in diagnostics.
    Bytes {
        /// Display name (`-` for stdin).
        name: String,
        /// Content.
        data: Vec<u8>,
    },
}

/// Reads every input into one inventory. Directories are walked recursively; files are parsed
/// in parallel; results keep the input order.
pub fn ingest(inputs: &[Input], limits: &Limits) -> Ingested {
    ingest_walking(inputs, limits, &WalkOptions::default())
}

/// [`ingest`], walking directories with `walk` (exclusions, Helm values). Helm charts and
/// Kustomize roots found are rendered with `helm template` and `kubectl kustomize` when those
/// are installed, and reported otherwise.
pub fn ingest_walking(inputs: &[Input], limits: &Limits, walk: &WalkOptions) -> Ingested {
    let mut out = Ingested::default();
    let mut jobs: Vec<Job> = Vec::new();
    for input in inputs {
        match input {
            Input::Path(p) => {
                let found = discover_files(p, walk);
                out.diagnostics.extend(found.diagnostics);
                jobs.extend(found.files.into_iter().map(Job::File));
                jobs.extend(found.renders.into_iter().map(Job::Render));
            }
            Input::Bytes { name, data } => jobs.push(Job::Bytes(name, data)),
        }
    }
    use rayon::prelude::*;
    let results: Vec<FileResult> = jobs.par_iter().map(|j| j.run(limits, walk)).collect();
    let mut parts = Vec::with_capacity(results.len());
    for r in results {
        out.files += 1;
        out.documents += r.documents;
        parts.push(r.inventory);
        out.diagnostics.extend(r.diagnostics);
    }
    out.inventory.extend_all(parts);
    out.inventory.finalize();
    out
}

/// Convenience: reads paths (files or directories).
pub fn ingest_paths<P: AsRef<Path>>(paths: &[P], limits: &Limits) -> Ingested {
    let inputs: Vec<Input> = paths
        .iter()
        .map(|p| Input::Path(p.as_ref().to_path_buf()))
        .collect();
    ingest(&inputs, limits)
}

/// Reads one in-memory manifest stream (YAML or JSON) named `name`.
pub fn ingest_str(name: &str, text: &str) -> Ingested {
    ingest(
        &[Input::Bytes {
            name: name.to_string(),
            data: text.as_bytes().to_vec(),
        }],
        &Limits::default(),
    )
}

/// Converts one already-parsed object (for example the `object` of an AdmissionReview) into an
/// inventory, without re-reading text. `name` is the source shown in findings and diagnostics;
/// field errors name the field path (there is no line to point at). Secrets are scrubbed as
/// for files; a `kind: List` is not expanded.
pub fn ingest_value(name: &str, value: serde_json::Value) -> Ingested {
    let file: Arc<str> = Arc::from(name);
    let doc = documents::Document {
        text: "",
        first_line: 1,
        json: true,
    };
    let item = parse::Item {
        value,
        line: 1,
        list_index: None,
    };
    let mut result = FileResult::default();
    let source = SourceLocation::new(file.clone(), 1);
    result.add(&file, &doc, item, &Limits::default(), source);
    let mut out = Ingested {
        inventory: result.inventory,
        diagnostics: result.diagnostics,
        files: 1,
        documents: 1,
    };
    out.inventory.finalize();
    out
}

enum Job<'a> {
    File(FoundFile),
    Bytes(&'a str, &'a [u8]),
    Render(RenderDir),
}

/// What one file (or one chunk of live objects) produced.
#[derive(Default)]
struct FileResult {
    inventory: Inventory,
    diagnostics: Vec<Diagnostic>,
    documents: usize,
}

impl FileResult {
    /// Converts one parsed object read from `source` into this result.
    fn add(
        &mut self,
        file: &Arc<str>,
        doc: &documents::Document<'_>,
        item: parse::Item,
        limits: &Limits,
        source: SourceLocation,
    ) {
        let (inv, diags) = (&mut self.inventory, &mut self.diagnostics);
        convert::add_object(inv, diags, file, doc, item, limits, source);
    }
}

impl Job<'_> {
    fn run(&self, limits: &Limits, walk: &WalkOptions) -> FileResult {
        match self {
            Job::Render(dir) => {
                let path = match dir {
                    RenderDir::Helm(p) | RenderDir::Kustomize(p) => p,
                };
                let problem = |level, message| FileResult {
                    diagnostics: vec![Diagnostic::input(
                        level,
                        path.display().to_string(),
                        0,
                        0,
                        message,
                    )],
                    ..Default::default()
                };
                match render::render(dir, walk, limits.max_file_bytes) {
                    render::Rendered::Manifests { name, data } => {
                        parse_file(Arc::from(name), &data, limits)
                    }
                    render::Rendered::Unavailable(m) => problem(DiagnosticLevel::Warning, m),
                    render::Rendered::Failed(m) => problem(DiagnosticLevel::Error, m),
                }
            }
            Job::File(file) => {
                let name: Arc<str> = Arc::from(file.path.display().to_string());
                match discover::read_found(file, limits.max_file_bytes) {
                    Ok(data) => parse_file(name, &data, limits),
                    Err(message) => FileResult {
                        diagnostics: vec![Diagnostic::input(
                            DiagnosticLevel::Error,
                            name,
                            0,
                            0,
                            message,
                        )],
                        ..Default::default()
                    },
                }
            }
            Job::Bytes(name, data) => {
                let name: Arc<str> = Arc::from(*name);
                if data.len() as u64 > limits.max_file_bytes {
                    return FileResult {
                        diagnostics: vec![Diagnostic::input(
                            DiagnosticLevel::Error,
                            name,
                            0,
                            0,
                            format!(
                                "input is larger than the limit of {} bytes",
                                limits.max_file_bytes
                            ),
                        )],
                        ..Default::default()
                    };
                }
                parse_file(name, data, limits)
            }
        }
    }
}

fn parse_file(file: Arc<str>, data: &[u8], limits: &Limits) -> FileResult {
    let mut result = FileResult::default();
    let text = match documents::decode_text(data) {
        Ok(t) => t,
        Err((line, message)) => {
            result.diagnostics.push(Diagnostic::input(
                DiagnosticLevel::Error,
                file,
                line,
                0,
                message,
            ));
            return result;
        }
    };
    for doc in documents::split(text) {
        if doc.is_blank() {
            continue;
        }
        result.documents += 1;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parse::parse_document(&doc, limits)
        }));
        let parsed = match outcome {
            Ok(p) => p,
            Err(_) => Err(parse::ParseError {
                line: doc.first_line,
                column: 0,
                message: "internal parser failure on this document (reported, not fatal)".into(),
            }),
        };
        // `helm template` output names each document's template: findings point there.
        let doc_file = render::helm_source(doc.text).map(Arc::<str>::from);
        match parsed {
            Ok(values) => {
                for mut item in values {
                    if doc_file.is_some() {
                        // Lines of the rendered stream are not lines of the template.
                        item.line = 0;
                    }
                    let file = doc_file.as_ref().unwrap_or(&file);
                    let source = SourceLocation::new(file.clone(), item.line);
                    result.add(file, &doc, item, limits, source);
                }
            }
            Err(e) => result.diagnostics.push(Diagnostic::input(
                DiagnosticLevel::Error,
                file.clone(),
                e.line,
                e.column,
                e.message,
            )),
        }
    }
    result
}

/// Fuzzing support, not part of the API: whether the fast YAML path either declines `text`
/// (one document) or reads it exactly as the general parser does.
#[doc(hidden)]
pub fn fast_yaml_agrees(text: &str) -> bool {
    let defaults = Limits::default();
    let limits = yaml::YamlLimits {
        max_depth: defaults.max_depth,
        max_nodes: defaults.max_nodes,
        max_aliases: defaults.max_aliases,
    };
    match yaml_fast::parse(text, limits) {
        None => true,
        Some(fast) => yaml::parse_general(text, limits).is_ok_and(|general| general == fast),
    }
}
