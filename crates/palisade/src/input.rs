//! Turning command-line paths into ingestion inputs (`-` is stdin).

use std::io::Read;

use anyhow::Context;
use palisade_ingest::{Ingested, Input, Limits};

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
    Ok(palisade_ingest::ingest(&inputs, &limits))
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
    for d in &ingested.diagnostics {
        eprintln_safe!("{d}");
    }
    let errors = ingested.has_errors();
    Ok((ingested.inventory, errors))
}
