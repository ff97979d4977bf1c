//! Turning command-line paths into ingestion inputs (`-` is stdin).

use std::io::Read;

use anyhow::Context;
use palisade_ingest::{Ingested, Input, Limits};

/// Reads the given paths (`-` = stdin) into an inventory with diagnostics.
pub fn ingest(paths: &[String]) -> anyhow::Result<Ingested> {
    ingest_with(paths, Limits::default())
}

/// [`ingest`] with explicit limits (e.g. `keep_raw: false` when no custom check reads raw
/// objects).
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
