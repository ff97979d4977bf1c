//! Rust `Cargo.lock` files: every `[[package]]` that comes from a registry or git source.

use palisade_model::{Ecosystem, Package, purl};
use serde::Deserialize;

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockPackage>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
}

/// Parses a Cargo.lock; workspace members (no `source`) are not dependencies and are skipped.
pub fn parse(text: &str) -> Result<Vec<Package>, String> {
    let lock: Lock = toml::from_str(text).map_err(|e| format!("invalid Cargo.lock: {e}"))?;
    Ok(lock
        .package
        .into_iter()
        .filter(|p| p.source.is_some())
        .map(|p| {
            let mut pkg = Package::new(Ecosystem::CratesIo, &p.name, &p.version);
            pkg.purl = purl::build(&Ecosystem::CratesIo, None, &p.name, &p.version, &[]);
            pkg
        })
        .collect())
}
