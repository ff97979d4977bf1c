//! Importing files, directories and zip archives into the database.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use palisade_fs::{OpenError, Special};
use palisade_vuln::{Advisory, SourceKind, detect_format, parse_file};
use serde::Serialize;

use crate::{DbError, VulnDb, store};

/// Advisories written per batch (all batches of an import share one transaction).
const BATCH: usize = 2000;
/// Largest single data file read (loose or inside a zip), in bytes.
pub(crate) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Directory depth followed at most.
const MAX_DEPTH: usize = 32;
/// Per-file errors kept in a report (the count covers all of them).
const MAX_ERRORS_KEPT: usize = 100;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Data files parsed (loose or inside zips).
    pub files: u64,
    /// Files skipped as not vulnerability data.
    pub skipped_files: u64,
    /// Advisories written.
    pub records: u64,
    /// Advisories parsed per source kind.
    pub by_source_kind: BTreeMap<String, u64>,
    /// Number of files that could not be parsed.
    pub error_count: u64,
    /// The first of those errors, each naming its file.
    pub errors: Vec<String>,
}

impl ImportReport {
    /// Adds another report's counts; errors are kept up to the report's limit.
    pub(crate) fn add(&mut self, other: ImportReport) {
        self.files += other.files;
        self.skipped_files += other.skipped_files;
        self.records += other.records;
        for (k, v) in other.by_source_kind {
            *self.by_source_kind.entry(k).or_default() += v;
        }
        self.error_count += other.error_count;
        for e in other.errors {
            if self.errors.len() < MAX_ERRORS_KEPT {
                self.errors.push(e);
            }
        }
    }
}

/// One import: everything it writes goes into one transaction, committed by [`Importer::commit`]
/// only after the last record and the source's row are written. A killed or failed import
/// changes nothing (SQLite rolls back an uncommitted transaction when the file is next opened),
/// so `db status` always describes what is stored.
struct Importer<'a> {
    db: &'a VulnDb,
    /// The open transaction; taken by [`Importer::commit`], rolled back on drop otherwise.
    tx: Option<sqlx::Transaction<'static, sqlx::Sqlite>>,
    /// Whole records (OSV), written in batches.
    pending: Vec<(Advisory, String)>,
    /// Records merged by id (secdb, tracker lists), merged in memory and written at the end.
    merging: HashMap<(SourceKind, String), (Advisory, String)>,
    /// Keys already in the database.
    stored: HashSet<(String, String)>,
    report: ImportReport,
}

impl Drop for Importer<'_> {
    /// An import that ends without [`Importer::commit`] (an error) leaves nothing behind.
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = self.db.block_on(tx.rollback());
        }
    }
}

impl<'a> Importer<'a> {
    fn new(db: &'a VulnDb) -> Result<Self, DbError> {
        let mut tx = db
            .block_on(db.pool().begin())
            .map_err(|e| store::sql_err(db.path())(e))?;
        let stored = db.block_on(store::stored_keys(&mut tx, db.path()))?;
        Ok(Importer {
            db,
            tx: Some(tx),
            pending: Vec::new(),
            merging: HashMap::new(),
            stored,
            report: ImportReport::default(),
        })
    }

    fn error(&mut self, message: String) {
        self.report.error_count += 1;
        if self.report.errors.len() < MAX_ERRORS_KEPT {
            self.report.errors.push(message);
        }
    }

    fn flush(&mut self) -> Result<(), DbError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        let tx = self
            .tx
            .as_mut()
            .expect("the transaction is open until commit");
        let written = self.db.block_on(store::write_batch(
            tx,
            self.db.path(),
            batch,
            &mut self.stored,
        ))?;
        self.report.records += written;
        Ok(())
    }

    /// Writes everything still held, the merged records included.
    fn finish(&mut self) -> Result<(), DbError> {
        let mut merged: Vec<(Advisory, String)> =
            std::mem::take(&mut self.merging).into_values().collect();
        merged.sort_by(|a, b| (a.0.source, &a.0.id).cmp(&(b.0.source, &b.0.id)));
        self.pending.extend(merged);
        while !self.pending.is_empty() {
            let rest = if self.pending.len() > BATCH {
                self.pending.split_off(BATCH)
            } else {
                Vec::new()
            };
            self.flush()?;
            self.pending = rest;
        }
        Ok(())
    }

    /// Advisories parsed so far (merged records counted once per file they came from).
    fn parsed(&self) -> u64 {
        self.report.by_source_kind.values().sum()
    }

    /// Writes what is still held, records each source with the number of advisories parsed
    /// from it, and commits the whole import.
    fn commit(mut self, sources: &[(String, u64)]) -> Result<ImportReport, DbError> {
        self.finish()?;
        let db = self.db;
        let mut tx = self
            .tx
            .take()
            .expect("the transaction is open until commit");
        for (name, parsed) in sources {
            db.block_on(store::record_source(&mut tx, db.path(), name, *parsed))?;
        }
        db.block_on(tx.commit())
            .map_err(|e| store::sql_err(db.path())(e))?;
        Ok(std::mem::take(&mut self.report))
    }

    /// Parses one data file's bytes (not a zip).
    fn data_file(&mut self, name: &str, bytes: &[u8], origin: &str) -> Result<(), DbError> {
        let Some(format) = detect_format(name, bytes) else {
            self.report.skipped_files += 1;
            return Ok(());
        };
        match parse_file(format, bytes, origin) {
            Ok(advisories) => {
                self.report.files += 1;
                for a in advisories {
                    *self
                        .report
                        .by_source_kind
                        .entry(a.source.as_str().to_string())
                        .or_default() += 1;
                    self.pending.push((a, origin.to_string()));
                }
                if self.pending.len() >= BATCH {
                    self.flush()?;
                }
            }
            Err(e) => self.error(e.to_string()),
        }
        Ok(())
    }

    /// Imports the data files of a zip archive. An archive that cannot be opened is a failed
    /// file of the report (like a data file that does not parse), not the end of the import.
    /// What is inflated in total is bounded by [`inflation_budget`]: entries that overlap in
    /// the archive (a zip bomb) would otherwise inflate gigabytes from a few kilobytes.
    fn zip<R: Read + Seek>(&mut self, mut reader: R, origin: &str) -> Result<(), DbError> {
        let archive_bytes = match reader.seek(std::io::SeekFrom::End(0)) {
            Ok(n) => n,
            Err(e) => {
                self.error(format!("{origin}: {e}"));
                return Ok(());
            }
        };
        let mut archive = match zip::ZipArchive::new(reader) {
            Ok(a) => a,
            Err(e) => {
                self.error(format!("{origin}: invalid zip archive: {e}"));
                return Ok(());
            }
        };
        let budget = inflation_budget(archive_bytes);
        let mut inflated = 0u64;
        let entries = archive.len();
        for i in 0..entries {
            let mut entry = match archive.by_index(i) {
                Ok(e) => e,
                Err(e) => {
                    self.error(format!("{origin}: entry {i}: {e}"));
                    continue;
                }
            };
            if entry.is_dir() {
                continue;
            }
            let name = match entry.name() {
                Ok(n) => n.to_string(),
                Err(e) => {
                    self.error(format!("{origin}: entry {i}: {e}"));
                    continue;
                }
            };
            let entry_origin = format!("{origin}!{name}");
            if !is_candidate_name(&name) {
                self.report.skipped_files += 1;
                continue;
            }
            if entry.size() > MAX_FILE_BYTES {
                self.error(format!(
                    "{entry_origin}: {} bytes, more than the {MAX_FILE_BYTES} byte limit",
                    entry.size()
                ));
                continue;
            }
            let mut bytes = Vec::with_capacity(entry.size().min(MAX_FILE_BYTES) as usize);
            // The declared size may lie: never read more than the limit, nor past the budget.
            let allowed = (MAX_FILE_BYTES + 1).min(budget - inflated + 1);
            let read = (&mut entry).take(allowed).read_to_end(&mut bytes);
            // Charged whether or not the read succeeded: a wrong checksum (or a member longer
            // than it says) is only found once all of its bytes have been inflated.
            inflated += bytes.len() as u64;
            if inflated > budget {
                self.error(format!(
                    "{origin}: inflates to more than {budget} bytes ({archive_bytes} byte archive); \
                     the rest of the archive ({} of {} entries) is not read",
                    entries - i,
                    entries
                ));
                return Ok(());
            }
            if let Err(e) = read {
                self.error(format!("{entry_origin}: {e}"));
                continue;
            }
            if bytes.len() as u64 > MAX_FILE_BYTES {
                self.error(format!(
                    "{entry_origin}: larger than the {MAX_FILE_BYTES} byte limit"
                ));
                continue;
            }
            let base = name.rsplit('/').next().unwrap_or(&name).to_string();
            self.data_file(&base, &bytes, &entry_origin)?;
        }
        Ok(())
    }

    fn path(&mut self, path: &Path, depth: usize) -> Result<(), DbError> {
        let io = |source| DbError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_dir() {
            if depth >= MAX_DEPTH {
                self.error(format!(
                    "{}: directory nesting deeper than {MAX_DEPTH}",
                    path.display()
                ));
                return Ok(());
            }
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            entries.sort();
            for entry in entries {
                self.path(&entry, depth + 1)?;
            }
            return Ok(());
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let origin = path.display().to_string();
        // A file found in a directory is read only when it is a regular file (a FIFO would
        // block the import forever, a device never end); a path the user named may be a pipe.
        let special = if depth == 0 {
            Special::Allow
        } else {
            Special::Refuse
        };
        if special == Special::Refuse
            && let Some(kind) = palisade_fs::special_kind(meta.file_type())
        {
            self.error(format!("{origin}: not a regular file (a {kind}); not read"));
            return Ok(());
        }
        let unreadable = |this: &mut Self, e: OpenError| match e {
            OpenError::Io(source) => Err(DbError::Io {
                path: path.to_path_buf(),
                source,
            }),
            other => {
                this.error(format!("{origin}: {other}"));
                Ok(())
            }
        };
        if name.to_ascii_lowercase().ends_with(".zip") {
            return match palisade_fs::open(path, special) {
                Ok(file) => self.zip(std::io::BufReader::new(file), &origin),
                Err(e) => unreadable(self, e),
            };
        }
        // Only a regular file is sniffed: the head read from a pipe would be gone.
        let is_data =
            is_candidate_name(&name) || (meta.is_file() && starts_like_tracker_list(path));
        if !is_data {
            self.report.skipped_files += 1;
            return Ok(());
        }
        if meta.len() > MAX_FILE_BYTES {
            self.error(format!(
                "{origin}: {} bytes, more than the {MAX_FILE_BYTES} byte limit",
                meta.len()
            ));
            return Ok(());
        }
        match palisade_fs::read_bounded(path, MAX_FILE_BYTES, special) {
            Ok(bytes) => self.data_file(&name, &bytes, &origin),
            Err(OpenError::TooLarge(max)) => {
                self.error(format!("{origin}: more than the {max} byte limit"));
                Ok(())
            }
            Err(e) => unreadable(self, e),
        }
    }
}

/// Most bytes one zip archive may inflate to, in total: 100 times its own size (OSV's
/// archives of JSON records inflate about 10 to 20 times), at least 256 MiB, at most 64 GiB.
fn inflation_budget(archive_bytes: u64) -> u64 {
    archive_bytes.saturating_mul(100).clamp(256 << 20, 64 << 30)
}

/// Names that may hold OSV records or secdb files.
fn is_candidate_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".json")
        || lower.ends_with(".yaml")
        || lower.ends_with(".yml")
        || lower.ends_with("-list")
}

/// Whether a file without a data extension starts like a Debian tracker list.
fn starts_like_tracker_list(path: &Path) -> bool {
    let mut head = [0u8; 256];
    let Ok(mut f) = palisade_fs::open(path, Special::Refuse) else {
        return false;
    };
    let n = f.read(&mut head).unwrap_or(0);
    palisade_vuln::debian::looks_like_tracker_list(&head[..n])
}

/// Imports paths, all in one transaction; each top-level path is recorded as a source.
pub(crate) fn import_paths(db: &VulnDb, paths: &[PathBuf]) -> Result<ImportReport, DbError> {
    let mut importer = Importer::new(db)?;
    let mut sources = Vec::new();
    for path in paths {
        let before = importer.parsed();
        importer.path(path, 0)?;
        let parsed = importer.parsed() - before;
        let name = std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.clone())
            .display()
            .to_string();
        sources.push((name, parsed));
    }
    importer.commit(&sources)
}

/// Imports an in-memory file or zip archive recorded as source `origin`, in one transaction.
pub(crate) fn import_bytes(
    db: &VulnDb,
    origin: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<ImportReport, DbError> {
    let mut importer = Importer::new(db)?;
    if bytes.starts_with(b"PK\x03\x04") || file_name.to_ascii_lowercase().ends_with(".zip") {
        importer.zip(std::io::Cursor::new(bytes), origin)?;
    } else {
        importer.data_file(file_name, bytes, origin)?;
    }
    let parsed = importer.parsed();
    importer.commit(&[(origin.to_string(), parsed)])
}

/// Imports a zip archive from a file on disk, recorded as source `origin`, in one transaction.
pub(crate) fn import_zip_file(
    db: &VulnDb,
    origin: &str,
    file: std::fs::File,
) -> Result<ImportReport, DbError> {
    let mut importer = Importer::new(db)?;
    importer.zip(std::io::BufReader::new(file), origin)?;
    let parsed = importer.parsed();
    importer.commit(&[(origin.to_string(), parsed)])
}
