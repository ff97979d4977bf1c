//! `palisade version`: what this binary is — version, commit, build date, features — and the
//! state of the vulnerability database it would use.

use std::process::ExitCode;

use palisade_model::time::{Clock, SystemClock, Timestamp};
use serde::Serialize;

/// Output format of `palisade version`: the table-or-JSON choice of the other reports.
use crate::render::table::TableOrJson as Format;

/// `palisade version`
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  palisade version\n  palisade version --format json | jq -r .commit\n\nVersion ordering of an ecosystem (formerly `version cmp`) is `palisade vercmp`."
)]
pub struct Args {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Vulnerability database to describe (default: as every command finds it).
    #[cfg(feature = "vuln")]
    #[arg(long, value_name = "FILE", env = "PALISADE_DB")]
    pub db: Option<std::path::PathBuf>,
}

/// What `palisade version` reports.
#[derive(Debug, Serialize)]
struct About {
    version: &'static str,
    commit: &'static str,
    build_date: String,
    target: String,
    features: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vulnerability_db: Option<DbState>,
}

/// The vulnerability database's state.
#[derive(Debug, Serialize)]
struct DbState {
    path: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_import: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    age_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    advisories: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The cargo features this binary was built with.
fn features() -> Vec<&'static str> {
    let all = [
        ("visibility", cfg!(feature = "visibility")),
        ("netpol", cfg!(feature = "netpol")),
        ("image", cfg!(feature = "image")),
        ("vuln", cfg!(feature = "vuln")),
        ("trust", cfg!(feature = "trust")),
        ("registry-facts", cfg!(feature = "registry-facts")),
        ("admission", cfg!(feature = "admission")),
        ("agent", cfg!(feature = "agent")),
    ];
    all.into_iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| n)
        .collect()
}

/// The build date recorded by build.rs (`@EPOCH` from SOURCE_DATE_EPOCH, or the commit date).
fn build_date() -> String {
    let raw = env!("PALISADE_BUILD_DATE");
    let parsed = match raw.strip_prefix('@') {
        Some(epoch) => epoch.parse().ok().map(Timestamp::from_unix_secs),
        None => Timestamp::parse_rfc3339(raw).ok(),
    };
    parsed.map_or_else(|| raw.to_string(), Timestamp::rfc3339)
}

#[cfg(feature = "vuln")]
fn db_state(explicit: Option<&std::path::Path>) -> Option<DbState> {
    let path = match palisade_vulndb::resolve_db_path(explicit) {
        Ok(p) => p,
        Err(e) => {
            return Some(DbState {
                path: String::new(),
                status: "error",
                last_import: None,
                age_days: None,
                advisories: None,
                error: Some(e.to_string()),
            });
        }
    };
    let mut state = DbState {
        path: path.display().to_string(),
        status: "missing",
        last_import: None,
        age_days: None,
        advisories: None,
        error: None,
    };
    if !path.exists() {
        return Some(state);
    }
    match palisade_vulndb::VulnDb::open_existing(&path).and_then(|db| db.status()) {
        Ok(s) => {
            state.status = "ok";
            state.age_days = s
                .last_import_at
                .as_deref()
                .and_then(|t| Timestamp::parse_rfc3339(t).ok())
                .map(|t| (SystemClock.now().unix_secs() - t.unix_secs()) / 86_400);
            state.last_import = s.last_import_at;
            state.advisories = Some(s.advisories);
        }
        Err(e) => {
            state.status = "error";
            state.error = Some(e.to_string());
        }
    }
    Some(state)
}

fn render(a: &About) -> String {
    let mut out = format!(
        "palisade {}\ncommit:      {}\nbuild date:  {}\ntarget:      {}\nfeatures:    {}\n",
        a.version,
        a.commit,
        a.build_date,
        a.target,
        a.features.join(", ")
    );
    if let Some(db) = &a.vulnerability_db {
        let detail = match (db.status, &db.last_import, db.age_days, &db.error) {
            ("ok", Some(when), Some(age), _) => format!(
                "{} advisories, last import {when} ({age} days ago)",
                db.advisories.unwrap_or(0)
            ),
            ("ok", _, _, _) => "no import yet (palisade db import|update)".into(),
            ("missing", ..) => "not found (palisade db import|update creates it)".into(),
            (_, _, _, Some(e)) => format!("unreadable: {e}"),
            _ => db.status.to_string(),
        };
        out.push_str(&format!("vuln db:     {} — {detail}\n", db.path));
    }
    out
}

/// Runs `palisade version`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    #[cfg(feature = "vuln")]
    let vulnerability_db = db_state(args.db.as_deref());
    #[cfg(not(feature = "vuln"))]
    let vulnerability_db = None;
    let about = About {
        version: env!("CARGO_PKG_VERSION"),
        commit: env!("PALISADE_COMMIT"),
        build_date: build_date(),
        target: format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        features: features(),
        vulnerability_db,
    };
    match args.format {
        Format::Table => crate::output::emit_text(&render(&about), args.output.as_ref())?,
        Format::Json => crate::output::emit(
            &(serde_json::to_string_pretty(&about)? + "\n"),
            args.output.as_ref(),
        )?,
    }
    Ok(ExitCode::SUCCESS)
}
