//! `palisade db import|status|update`: the offline vulnerability database.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::ValueEnum;
use palisade_vulndb::{DbStatus, ImportReport, UpdateOptions, VulnDb, resolve_db_path};

use crate::exit;

/// Output format of `db status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable text.
    #[value(alias = "text", alias = "txt")]
    Table,
    /// JSON.
    Json,
}

/// `palisade db …`
#[derive(clap::Args, Debug)]
#[command(
    after_help = "The database file is --db FILE, else $PALISADE_DB, else $XDG_DATA_HOME/palisade/vuln.db (~/.local/share/palisade/vuln.db); every command that matches vulnerabilities uses the same default.\n\nExamples:\n  palisade db import ../shared/vulndata\n  palisade db import PyPI-all.zip advisories/\n  palisade db update                                   # osv.dev, default ecosystems\n  palisade db update --ecosystem PyPI --ecosystem npm\n  palisade db update --mirror https://osv.internal.example --ca-cert mirror-ca.pem\n  palisade db update --url https://mirror.example/osv/PyPI/all.zip\n  palisade db status --format json"
)]
pub struct Args {
    /// Database file.
    #[arg(long, global = true, value_name = "FILE", env = "PALISADE_DB")]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub command: DbCommand,
}

/// Database subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum DbCommand {
    /// Import OSV records (.json/.yaml files, directories, .zip archives such as osv.dev's
    /// all.zip), Alpine secdb YAML files and Debian tracker DSA/DLA lists.
    Import {
        /// Files, directories (recursive) or zip archives.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Show the database's metadata: schema, times, sources and counts.
    Status {
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write to FILE instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Download OSV zips (or single data files) over HTTPS and import them. Without --url:
    /// osv.dev's all.zip of every default ecosystem (or those given with --ecosystem).
    Update {
        /// URL to download (repeatable). Plain http is accepted only for loopback hosts; a URL
        /// with credentials is refused (they would be stored as the source name and shown).
        #[arg(long = "url", value_name = "URL", conflicts_with_all = ["mirror", "ecosystems"])]
        urls: Vec<String>,
        /// Base URL laid out as osv.dev's bucket (MIRROR/ECOSYSTEM/all.zip) [default:
        /// https://osv-vulnerabilities.storage.googleapis.com].
        #[arg(long, value_name = "URL", env = "PALISADE_DB_MIRROR")]
        mirror: Option<String>,
        /// Ecosystem to fetch (OSV name, repeatable) [default: Alpine, Debian, Ubuntu, PyPI,
        /// npm, Go, crates.io, Maven, RubyGems, NuGet, Packagist].
        #[arg(long = "ecosystem", value_name = "NAME")]
        ecosystems: Vec<String>,
        /// PEM file of CA certificates to trust (private mirrors), besides the system roots.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        /// Largest download accepted, in MiB.
        #[arg(long, value_name = "MIB", default_value_t = 4096)]
        max_mib: u64,
    },
}

fn summary(report: &ImportReport, db: &VulnDb, seconds: f64) -> String {
    let kinds: Vec<String> = report
        .by_source_kind
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    format!(
        "imported {} advisories ({}) from {} files into {} in {seconds:.1} s; {} files skipped, {} failed",
        report.records,
        if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.join(", ")
        },
        report.files,
        db.path().display(),
        report.skipped_files,
        report.error_count
    )
}

fn finish(report: &ImportReport) -> ExitCode {
    for e in &report.errors {
        eprintln_safe!("palisade: warning: {e}");
    }
    if report.error_count > report.errors.len() as u64 {
        eprintln_safe!(
            "palisade: warning: … and {} more files failed",
            report.error_count - report.errors.len() as u64
        );
    }
    if report.error_count > 0 {
        exit::code(exit::INPUT_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}

fn render_status(s: &DbStatus) -> String {
    let mut out = String::new();
    let mib = s.file_size as f64 / (1024.0 * 1024.0);
    out.push_str(&format!(
        "Database:     {} ({mib:.1} MiB, schema {})\n",
        s.path.display(),
        s.schema_version
    ));
    out.push_str(&format!(
        "Created:      {}\n",
        s.created_at.as_deref().unwrap_or("-")
    ));
    out.push_str(&format!(
        "Last import:  {}\n",
        s.last_import_at.as_deref().unwrap_or("never")
    ));
    out.push_str(&format!("Advisories:   {}\n", s.advisories));
    let join = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&format!("By source:    {}\n", join(&s.by_source_kind)));
    out.push_str(&format!("By ecosystem: {}\n", join(&s.by_ecosystem)));
    out.push_str("Sources:\n");
    if s.sources.is_empty() {
        out.push_str("  (none)\n");
    }
    for src in &s.sources {
        out.push_str(&format!(
            "  {}  {} records, imported {}\n",
            src.name, src.records, src.imported_at
        ));
    }
    out
}

/// Runs `palisade db …`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let path = resolve_db_path(args.db.as_deref())?;
    match args.command {
        DbCommand::Import { paths } => {
            let start = Instant::now();
            let db = VulnDb::open_or_create(&path)?;
            let report = db.import_paths(&paths)?;
            let text = summary(&report, &db, start.elapsed().as_secs_f64()) + "\n";
            crate::output::emit_text(&text, None)?;
            Ok(finish(&report))
        }
        DbCommand::Status { format, output } => {
            let db = VulnDb::open_existing(&path)?;
            let status = db.status()?;
            match format {
                Format::Table => {
                    crate::output::emit_text(&render_status(&status), output.as_ref())?
                }
                Format::Json => crate::output::emit(
                    &(serde_json::to_string_pretty(&status)? + "\n"),
                    output.as_ref(),
                )?,
            }
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Update {
            urls,
            mirror,
            ecosystems,
            ca_cert,
            max_mib,
        } => {
            let urls = if urls.is_empty() {
                let chosen: Vec<&str> = if ecosystems.is_empty() {
                    palisade_vulndb::DEFAULT_ECOSYSTEMS.to_vec()
                } else {
                    ecosystems.iter().map(String::as_str).collect()
                };
                palisade_vulndb::ecosystem_urls(
                    mirror.as_deref().unwrap_or(palisade_vulndb::DEFAULT_MIRROR),
                    &chosen,
                )
            } else {
                urls
            };
            for url in &urls {
                palisade_vulndb::check_url_allowed(url)?;
            }
            let start = Instant::now();
            let db = VulnDb::open_or_create(&path)?;
            let options = UpdateOptions {
                ca_cert,
                max_bytes: max_mib.saturating_mul(1024 * 1024),
            };
            let report = db.update_with_progress(&urls, &options, &*download_progress())?;
            let text = summary(&report, &db, start.elapsed().as_secs_f64()) + "\n";
            crate::output::emit_text(&text, None)?;
            Ok(finish(&report))
        }
    }
}

/// A byte progress bar per download, on a terminal only (stderr), with the `image` feature's
/// indicatif; otherwise nothing.
fn download_progress() -> Box<dyn palisade_vulndb::UpdateProgress> {
    #[cfg(feature = "image")]
    {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            return Box::new(DownloadBar(indicatif::ProgressBar::hidden()));
        }
    }
    Box::new(palisade_vulndb::NoProgress)
}

#[cfg(feature = "image")]
struct DownloadBar(indicatif::ProgressBar);

#[cfg(feature = "image")]
impl palisade_vulndb::UpdateProgress for DownloadBar {
    fn download_started(&self, url: &str, length: Option<u64>) {
        let bar = &self.0;
        let template = match length {
            Some(_) => "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
            None => "{msg} {spinner} {bytes} {bytes_per_sec}",
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_message(format!("downloading {url}"));
        bar.reset();
        bar.set_length(length.unwrap_or(0));
        // Drawn from here on (the bar was created hidden, so no empty bar flashes first).
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }
    fn downloaded(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn importing(&self, url: &str) {
        self.0.finish_and_clear();
        eprintln_safe!("importing {url} …");
    }
}
