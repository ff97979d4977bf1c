//! Palisade's offline vulnerability database.
//!
//! One embedded SQLite file (through sqlx, on a small current-thread tokio runtime owned by
//! [`VulnDb`]; the API is blocking) holding normalized advisories from OSV (JSON/YAML, loose
//! or in zips), Alpine secdb and the Debian security tracker lists, with metadata: schema
//! version, creation and import times, sources and counts. Everything works offline; `update`
//! downloads OSV zips over HTTPS.
//!
//! The file is at `--db`, else `PALISADE_DB`, else `$XDG_DATA_HOME/palisade/vuln.db`
//! ([`resolve_db_path`]). Matching loads only the advisories of the packages asked about
//! ([`VulnDb::load_candidates`]) and hands them to the pure matcher in `palisade-vuln`.
//!
//! The blocking methods must not be called from inside another tokio runtime's async context
//! (use `spawn_blocking` there).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_model::Package;
use palisade_vuln::{Advisory, CandidateSet, MatchStats, PackageKey, VulnMatch};
use serde::Serialize;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod import;
mod paths;
mod schema;
mod store;
mod update;

pub use import::ImportReport;
pub use paths::{DB_ENV, DB_FILE_NAME, default_path_from, resolve_db_path};
pub use update::{
    DEFAULT_ECOSYSTEMS, DEFAULT_MIRROR, NoProgress, UpdateOptions, UpdateProgress,
    check_url_allowed, ecosystem_urls,
};

/// Version of the database schema this build reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Errors of the database layer; each names the file, URL or record concerned.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No path was given and neither `PALISADE_DB`, `XDG_DATA_HOME` nor `HOME` is set.
    #[error("no database path: pass --db FILE or set PALISADE_DB (or HOME for the XDG default)")]
    NoDefaultPath,
    /// The database file does not exist (for commands that only read).
    #[error(
        "vulnerability database {0} does not exist; create it with `palisade db import PATH...` or `palisade db update --url URL`"
    )]
    Missing(PathBuf),
    /// The file was written by a newer schema.
    #[error(
        "vulnerability database {path} has schema version {found}, newer than this build's {SCHEMA_VERSION}; upgrade palisade"
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
    },
    /// A SQLite error.
    #[error("vulnerability database {path}: {source}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        source: sqlx::Error,
    },
    /// A migration error.
    #[error("vulnerability database {path}: migration failed: {source}")]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        source: sqlx::migrate::MigrateError,
    },
    /// A file system error.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A stored record that cannot be decoded (corrupt database).
    #[error("vulnerability database {path}: stored record {id} is corrupt: {reason}")]
    CorruptRecord {
        /// The database file.
        path: PathBuf,
        /// Advisory id.
        id: String,
        /// Decoding error.
        reason: String,
    },
    /// A download problem.
    #[error("download {url}: {reason}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A refused URL (plain HTTP to a non-loopback host, unsupported scheme, …).
    #[error("refusing URL {url}: {reason}")]
    UrlRefused {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
}

/// One imported source as recorded in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    /// Path, zip or URL it was imported from.
    pub name: String,
    /// Records read from it in its last import.
    pub records: u64,
    /// When it was last imported (RFC 3339 UTC).
    pub imported_at: String,
}

/// What `palisade db status` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbStatus {
    /// The database file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub file_size: u64,
    /// Schema version.
    pub schema_version: i64,
    /// When the database was created.
    pub created_at: Option<String>,
    /// When data was last imported.
    pub last_import_at: Option<String>,
    /// Total advisories.
    pub advisories: u64,
    /// Advisories per source kind (`osv`, `alpine-secdb`, `debian-tracker`).
    pub by_source_kind: BTreeMap<String, u64>,
    /// Advisories per ecosystem (without release).
    pub by_ecosystem: BTreeMap<String, u64>,
    /// Imported sources.
    pub sources: Vec<SourceInfo>,
}

/// The result of matching packages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchOutcome {
    /// One entry per vulnerability per package.
    pub matches: Vec<VulnMatch>,
    /// Counters (skipped packages and ranges).
    pub stats: MatchStats,
}

/// An open vulnerability database.
pub struct VulnDb {
    rt: tokio::runtime::Runtime,
    pool: SqlitePool,
    path: PathBuf,
}

impl std::fmt::Debug for VulnDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VulnDb").field("path", &self.path).finish()
    }
}

impl VulnDb {
    /// Opens the database at `path`, creating the file (and its directory) when missing.
    pub fn open_or_create(path: &Path) -> Result<VulnDb, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        Self::open_inner(path, true)
    }

    /// Opens an existing database (matching and status never create one).
    pub fn open_existing(path: &Path) -> Result<VulnDb, DbError> {
        if !path.is_file() {
            return Err(DbError::Missing(path.to_path_buf()));
        }
        Self::open_inner(path, false)
    }

    fn open_inner(path: &Path, create: bool) -> Result<VulnDb, DbError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| DbError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            // A single self-contained file: no WAL side files.
            .journal_mode(SqliteJournalMode::Delete)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(false);
        let sql_err = |source| DbError::Sql {
            path: path.to_path_buf(),
            source,
        };
        let pool = rt
            .block_on(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options),
            )
            .map_err(sql_err)?;
        let db = VulnDb {
            rt,
            pool,
            path: path.to_path_buf(),
        };
        db.rt.block_on(schema::prepare(&db.pool, &db.path))?;
        Ok(db)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Imports files, directories (recursively) and zip archives of OSV JSON/YAML records,
    /// Alpine secdb YAML files and Debian tracker lists. Files that fail to parse are listed
    /// in the report's errors; everything else is imported.
    pub fn import_paths(&self, paths: &[PathBuf]) -> Result<ImportReport, DbError> {
        import::import_paths(self, paths)
    }

    /// Imports one in-memory file or zip archive, recorded under the source name `origin`.
    pub fn import_bytes(
        &self,
        origin: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<ImportReport, DbError> {
        import::import_bytes(self, origin, file_name, bytes)
    }

    /// Downloads each URL (OSV zip, or a single record/list file) and imports it.
    pub fn update(
        &self,
        urls: &[String],
        options: &UpdateOptions,
    ) -> Result<ImportReport, DbError> {
        update::update(self, urls, options, &NoProgress)
    }

    /// [`VulnDb::update`], telling `progress` how each download advances.
    pub fn update_with_progress(
        &self,
        urls: &[String],
        options: &UpdateOptions,
        progress: &dyn UpdateProgress,
    ) -> Result<ImportReport, DbError> {
        update::update(self, urls, options, progress)
    }

    /// Metadata and counts.
    pub fn status(&self) -> Result<DbStatus, DbError> {
        self.block_on(store::status(&self.pool, &self.path))
    }

    /// Loads every advisory that affects one of the packages (by ecosystem and matching name).
    pub fn load_candidates(&self, packages: &[Package]) -> Result<CandidateSet, DbError> {
        let mut keys: Vec<PackageKey> = packages
            .iter()
            .filter_map(palisade_vuln::matching::package_key)
            .collect();
        keys.sort_by(|a, b| (a.ecosystem.as_str(), &a.name).cmp(&(b.ecosystem.as_str(), &b.name)));
        keys.dedup();
        let advisories: Vec<Advisory> =
            self.block_on(store::advisories_for(&self.pool, &self.path, &keys))?;
        let mut set = CandidateSet::new();
        for a in advisories {
            set.insert(a);
        }
        Ok(set)
    }

    /// Matches packages against the database.
    pub fn match_packages(&self, packages: &[Package]) -> Result<MatchOutcome, DbError> {
        let set = self.load_candidates(packages)?;
        let (matches, stats) = palisade_vuln::match_packages(&set, packages);
        Ok(MatchOutcome { matches, stats })
    }
}

/// Matches packages against the database: one [`VulnMatch`] per vulnerability per package
/// (id, aliases, package, installed and fixed version, severity, CVSS score, notorious flag).
pub fn match_packages(db: &VulnDb, packages: &[Package]) -> Result<Vec<VulnMatch>, DbError> {
    Ok(db.match_packages(packages)?.matches)
}

/// The vulnerability facts of an image for scan/admission policy: its packages (an image
/// scan's `packages`, Go toolchains included as `stdlib`) matched against the database and
/// reduced by [`palisade_vuln::image_facts`]. `extra_notorious` names CVEs (or other ids) that
/// count as notorious besides the built-in list.
pub fn vulnerability_facts(
    db: &VulnDb,
    packages: &[Package],
    extra_notorious: &[String],
) -> Result<palisade_model::VulnerabilityFacts, DbError> {
    let outcome = db.match_packages(packages)?;
    Ok(palisade_vuln::image_facts(
        &outcome.matches,
        extra_notorious,
    ))
}
