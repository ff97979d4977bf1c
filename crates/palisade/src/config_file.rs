//! Reading the policy configuration (palisade.yaml): named on the command line (or
//! `PALISADE_CONFIG`), else found in the working directory; one reader for every command that
//! takes `--config`, with one wording for its errors.

use std::path::{Path, PathBuf};

use anyhow::Context;
use palisade_checks::Catalog;
use palisade_config::Config;

/// The names looked for in the working directory when no configuration is named, in order.
pub const DISCOVERED: [&str; 2] = ["palisade.yaml", ".palisade.yaml"];

/// The configuration file to use: `explicit` when given, else the first of [`DISCOVERED`] in
/// the working directory (logged at info level, `-v`), else none.
pub fn discover(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    let found = DISCOVERED.iter().map(PathBuf::from).find(|p| p.is_file())?;
    tracing::info!(config = %found.display(), "using the configuration found in the working directory");
    Some(found)
}

/// The configuration at `path`, checked against `catalog`; the default configuration without a
/// path. Errors name the file: `reading config FILE: …` or `config FILE: …`.
pub fn load_config(path: Option<&Path>, catalog: &Catalog) -> anyhow::Result<Config> {
    match path {
        Some(path) => load_config_text(path, catalog).map(|(_, config)| config),
        None => Ok(Config::default()),
    }
}

/// The configuration at `path` with its text (for commands that pass the file on, like
/// `admission manifests`).
pub fn load_config_text(path: &Path, catalog: &Catalog) -> anyhow::Result<(String, Config)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config {}", path.display()))?;
    let config =
        Config::from_yaml(&text, catalog).with_context(|| format!("config {}", path.display()))?;
    Ok((text, config))
}
