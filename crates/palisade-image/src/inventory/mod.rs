//! Package inventory of an unpacked image: OS detection, distro package databases and
//! language packages, each attributed to the file and layer it came from.

pub mod apk;
pub mod binary;
pub mod cargo_lock;
pub mod control;
pub mod dpkg;
pub mod java;
pub mod npm;
pub mod os;
pub mod python;
pub mod rpm;
pub mod sqlite;

use std::collections::{BTreeSet, HashMap, HashSet};

use palisade_model::Package;
use serde::Serialize;

use crate::fs::{Content, FileNote, ImageFs};
use crate::{Limits, vpath};
pub use os::OsInfo;

/// The packages found in one image (with its OS); not the cluster inventory
/// (`palisade_model::Inventory`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PackageInventory {
    /// The detected OS.
    pub os: Option<OsInfo>,
    /// Packages, sorted by ecosystem, name, version and path.
    pub packages: Vec<Package>,
    /// Files that could not be parsed (the rest of the inventory is still complete).
    pub diagnostics: Vec<FileNote>,
}

const RPM_DATABASES: &[&str] = &[
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "usr/share/rpm/rpmdb.sqlite",
];

/// Analyses a file while it streams by (executables and Java archives), so only the packages
/// need to be kept. An error message means the file was unreadable.
pub(crate) fn analyze_streamed_file(
    path: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<Package>, String> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".jar") || lower.ends_with(".war") || lower.ends_with(".ear") {
        java::packages(path, bytes, limits)
    } else {
        binary::packages(bytes)
    }
}

/// Builds the inventory of a filesystem view.
pub fn inventory(fs: &ImageFs) -> PackageInventory {
    let os = os::detect(fs);
    let mut packages = Vec::new();
    let mut diagnostics: Vec<FileNote> = fs.diagnostics().to_vec();
    let mut diag = |path: &str, message: String| {
        diagnostics.push(FileNote {
            path: path.to_string(),
            message,
        })
    };
    let layer_of = |layer: usize| fs.layer_digest(layer).map(str::to_string);

    // Distro package databases, with per-layer attribution from their snapshots.
    let db_parsers: Vec<(&str, DbKind)> = std::iter::once(("var/lib/dpkg/status", DbKind::Dpkg))
        .chain(std::iter::once(("lib/apk/db/installed", DbKind::Apk)))
        .chain(RPM_DATABASES.iter().map(|p| (*p, DbKind::Rpm)))
        .collect();
    for (path, kind) in db_parsers {
        let Some(node) = fs.node(path) else { continue };
        let Some(bytes) = node.bytes() else { continue };
        match parse_db(kind, bytes, os.as_ref()) {
            Ok(found) => {
                let first_layers = first_layers(fs, path, kind, os.as_ref());
                for mut p in found {
                    let layer = first_layers
                        .get(&(p.name.clone(), p.version.clone()))
                        .copied()
                        .unwrap_or(node.layer);
                    p.layer = layer_of(layer);
                    p.path = Some(format!("/{path}"));
                    packages.push(p);
                }
            }
            Err(e) => diag(path, e),
        }
    }

    for (path, node) in fs.nodes() {
        match &node.content {
            Some(Content::Packages(found)) => {
                for p in found.iter() {
                    let mut p = p.clone();
                    p.path = Some(format!("/{}", p.path.as_deref().unwrap_or(path)));
                    p.layer = layer_of(node.layer);
                    packages.push(p);
                }
            }
            Some(Content::Bytes(bytes)) => {
                let found = match language_file(fs, path, bytes) {
                    Ok(found) => found,
                    Err(e) => {
                        diag(path, e);
                        continue;
                    }
                };
                for mut p in found {
                    p.path = Some(format!("/{path}"));
                    p.layer = layer_of(node.layer);
                    packages.push(p);
                }
            }
            None => {}
        }
    }
    packages.sort_by(|a, b| {
        (&a.ecosystem, &a.name, &a.version, &a.path).cmp(&(
            &b.ecosystem,
            &b.name,
            &b.version,
            &b.path,
        ))
    });
    packages.dedup_by(|a, b| {
        a.ecosystem == b.ecosystem && a.name == b.name && a.version == b.version && a.path == b.path
    });
    PackageInventory {
        os,
        packages,
        diagnostics,
    }
}

#[derive(Clone, Copy)]
enum DbKind {
    Dpkg,
    Apk,
    Rpm,
}

fn parse_db(kind: DbKind, bytes: &[u8], os: Option<&OsInfo>) -> Result<Vec<Package>, String> {
    match kind {
        DbKind::Dpkg => Ok(dpkg::parse_status(
            &String::from_utf8_lossy(bytes),
            os,
            true,
        )),
        DbKind::Apk => Ok(apk::parse_installed(&String::from_utf8_lossy(bytes), os)),
        DbKind::Rpm => rpm::parse_sqlite_db(bytes, os),
    }
}

/// For each (name, version) in a database, the first layer whose copy of the database lists it.
fn first_layers(
    fs: &ImageFs,
    path: &str,
    kind: DbKind,
    os: Option<&OsInfo>,
) -> HashMap<(String, String), usize> {
    let mut out = HashMap::new();
    for snap in fs.snapshots().iter().filter(|s| s.path == path) {
        if let Ok(found) = parse_db(kind, &snap.content, os) {
            for p in found {
                out.entry((p.name, p.version)).or_insert(snap.layer);
            }
        }
    }
    out
}

/// Language package files kept by path.
fn language_file(fs: &ImageFs, path: &str, bytes: &[u8]) -> Result<Vec<Package>, String> {
    let name = vpath::file_name(path);
    let parent = vpath::parent(path);
    if path.starts_with("var/lib/dpkg/status.d/") {
        let os = os::detect(fs);
        return Ok(dpkg::parse_status(
            &String::from_utf8_lossy(bytes),
            os.as_ref(),
            false,
        ));
    }
    match name {
        "METADATA" if parent.ends_with(".dist-info") => {
            Ok(python::parse_metadata(&String::from_utf8_lossy(bytes))
                .into_iter()
                .collect())
        }
        "PKG-INFO" if parent.ends_with(".egg-info") => {
            Ok(python::parse_metadata(&String::from_utf8_lossy(bytes))
                .into_iter()
                .collect())
        }
        n if n.ends_with(".egg-info") => {
            Ok(python::parse_metadata(&String::from_utf8_lossy(bytes))
                .into_iter()
                .collect())
        }
        "package.json" => Ok(npm::parse_package_json(bytes)?.into_iter().collect()),
        "package-lock.json" => {
            let locked = npm::parse_lockfile(bytes)?;
            // Packages that are installed next to the lockfile are already listed from their
            // own package.json.
            let installed: HashSet<String> = locked
                .iter()
                .filter_map(|l| l.location.as_ref())
                .filter(|loc| {
                    fs.node(&vpath::join(parent, &format!("{loc}/package.json")))
                        .is_some()
                })
                .cloned()
                .collect();
            Ok(locked
                .into_iter()
                .filter(|l| {
                    l.location
                        .as_ref()
                        .is_none_or(|loc| !installed.contains(loc))
                })
                .map(|l| l.package)
                .collect())
        }
        "Cargo.lock" => cargo_lock::parse(&String::from_utf8_lossy(bytes)),
        _ => Ok(Vec::new()),
    }
}

/// Distinct ecosystems present, for summaries.
pub fn ecosystems(packages: &[Package]) -> BTreeSet<String> {
    packages.iter().map(|p| p.ecosystem.to_string()).collect()
}
