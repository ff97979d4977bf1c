//! Turning command-line paths into ingestion inputs (`-` is stdin).

use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::Context;
use palisade_ingest::{DiagnosticLevel, Ingested, Input, Limits, WalkOptions};

/// How directories are walked, for every command that reads paths (global flags).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WalkArgs {
    /// Leave out paths matching GLOB when walking a directory (.gitignore syntax, relative
    /// to the directory: `vendor/`, `*.generated.yaml`, `test/**`); repeatable. .gitignore and
    /// .palisadeignore files are honoured too.
    #[arg(long, global = true, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Values file for `helm template` when a directory holds a Helm chart; repeatable.
    #[arg(long, global = true, value_name = "FILE")]
    helm_values: Vec<PathBuf>,
}

/// The walk options and whether notes are listed, set once by `main`.
struct Settings {
    walk: WalkOptions,
    notes: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Records the global walking flags and whether info-level notes (inputs skipped as not
/// Kubernetes manifests) are listed one by one (`-v`) or only counted.
pub fn init(args: WalkArgs, notes: bool) {
    let _ = SETTINGS.set(Settings {
        walk: WalkOptions {
            exclude: args.exclude,
            helm_values: args.helm_values,
        },
        notes,
    });
}

fn settings() -> &'static Settings {
    SETTINGS.get_or_init(|| Settings {
        walk: WalkOptions::default(),
        notes: false,
    })
}

/// Whether info-level diagnostics are listed (`-v`).
pub fn notes_listed() -> bool {
    settings().notes
}

/// Prints ingestion diagnostics to stderr: problems always, notes with `-v` (otherwise one
/// line counts them).
pub fn print_diagnostics(diagnostics: &[palisade_ingest::Diagnostic]) {
    let mut notes = 0;
    for d in diagnostics {
        if d.level == DiagnosticLevel::Info && !notes_listed() {
            notes += 1;
        } else {
            eprintln_safe!("{d}");
        }
    }
    if notes > 0 {
        eprintln_safe!(
            "palisade: {notes} input(s) skipped as not Kubernetes manifests (-v lists them)"
        );
    }
}

use crate::cluster_args::ClusterArgs;

/// Reads the given paths (`-` = stdin) into an inventory with diagnostics, within `limits`
/// (e.g. `keep_raw: false` when no custom check reads raw objects).
pub fn ingest_with(paths: &[String], limits: Limits) -> anyhow::Result<Ingested> {
    let mut inputs = Vec::new();
    for p in paths {
        if p == "-" {
            let mut data = Vec::new();
            std::io::stdin()
                .take(limits.max_file_bytes + 1)
                .read_to_end(&mut data)
                .context("reading stdin")?;
            inputs.push(Input::Bytes {
                name: "-".into(),
                data,
            });
        } else {
            inputs.push(Input::Path(p.into()));
        }
    }
    Ok(palisade_ingest::ingest_walking(
        &inputs,
        &limits,
        &settings().walk,
    ))
}

/// Reads the paths, or the live cluster with `--cluster`, into an inventory with diagnostics.
pub fn read_inputs(
    paths: &[String],
    cluster: &ClusterArgs,
    limits: Limits,
) -> anyhow::Result<Ingested> {
    if cluster.cluster {
        cluster.read(limits)
    } else {
        ingest_with(paths, limits)
    }
}

/// Reads the inputs (`-` = stdin, or the live cluster) into an inventory for the commands that
/// read typed fields only (rbac, risk, inventory, netpol: raw objects are not kept), printing
/// ingestion problems to stderr. Returns whether some input could not be read (the command then
/// exits with status 3 after printing its results, see [`crate::exit::finish`]).
pub fn load_inventory(
    paths: &[String],
    cluster: &ClusterArgs,
) -> anyhow::Result<(palisade_model::Inventory, bool)> {
    let ingested = read_inputs(
        paths,
        cluster,
        Limits {
            keep_raw: false,
            ..Limits::default()
        },
    )?;
    print_diagnostics(&ingested.diagnostics);
    let errors = ingested.has_errors();
    Ok((ingested.inventory, errors))
}
