//! Alpine secdb files (`secfixes`: fixed version → list of CVEs, keyed by origin package).
//!
//! Each CVE becomes an advisory with id = the CVE (further ids on the same line become
//! aliases, e.g. `CVE-2016-10013 XSA-204`), affecting the origin package in ecosystem
//! `Alpine:v3.x` with the range `introduced: 0, fixed: <version>`. A fixed version of `0`
//! means the branch was never affected, so it produces no range.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::ParseError;
use crate::record::{Advisory, AffectedPackage, RangeEvent, RangeKind, SourceKind, VersionRange};

/// Largest secdb file accepted, in bytes.
pub const MAX_SECDB_BYTES: usize = 64 * 1024 * 1024;

#[derive(Deserialize)]
struct Secdb {
    distroversion: String,
    #[serde(default)]
    packages: Option<Vec<PackageEntry>>,
}

#[derive(Deserialize)]
struct PackageEntry {
    pkg: Pkg,
}

#[derive(Deserialize)]
struct Pkg {
    name: String,
    #[serde(default)]
    secfixes: Option<BTreeMap<String, Option<Vec<String>>>>,
}

/// Whether YAML bytes look like an Alpine secdb file (top-level `distroversion` and `packages`).
pub fn looks_like_secdb(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    text.lines().any(|l| l.starts_with("distroversion:"))
        && String::from_utf8_lossy(bytes).contains("\npackages:")
}

/// Parses a secdb YAML file into advisories (one per CVE, merged across packages).
pub fn parse_secdb(bytes: &[u8], origin: &str) -> Result<Vec<Advisory>, ParseError> {
    if bytes.len() > MAX_SECDB_BYTES {
        return Err(ParseError::new(origin, "secdb file is larger than 64 MiB"));
    }
    let db: Secdb = serde_saphyr::from_slice(bytes)
        .map_err(|e| ParseError::new(origin, format!("invalid Alpine secdb YAML: {e}")))?;
    let branch = db.distroversion.trim();
    if !branch.starts_with('v') || branch.len() < 2 {
        return Err(ParseError::new(
            origin,
            format!("distroversion {branch:?} is not an Alpine branch like v3.11"),
        ));
    }
    let ecosystem = format!("Alpine:{branch}");
    let mut by_id: BTreeMap<String, Advisory> = BTreeMap::new();
    for entry in db.packages.unwrap_or_default() {
        let name = entry.pkg.name.trim().to_string();
        for (fixed, ids) in entry.pkg.secfixes.unwrap_or_default() {
            let fixed = fixed.trim().to_string();
            if fixed == "0" || fixed.is_empty() {
                continue;
            }
            for line in ids.unwrap_or_default() {
                let mut tokens = line.split_whitespace();
                let Some(id) = tokens.next() else {
                    continue;
                };
                let advisory = Advisory {
                    id: id.to_string(),
                    aliases: tokens.map(String::from).collect(),
                    summary: None,
                    modified: None,
                    withdrawn: None,
                    severity: Vec::new(),
                    rating: None,
                    affected: vec![AffectedPackage {
                        ecosystem: ecosystem.clone(),
                        name: name.clone(),
                        ranges: vec![VersionRange {
                            kind: RangeKind::Ecosystem,
                            events: vec![
                                RangeEvent::Introduced("0".into()),
                                RangeEvent::Fixed(fixed.clone()),
                            ],
                        }],
                        versions: Vec::new(),
                        severity: Vec::new(),
                    }],
                    source: SourceKind::AlpineSecdb,
                };
                match by_id.get_mut(id) {
                    Some(existing) => existing.merge_from(advisory),
                    None => {
                        by_id.insert(id.to_string(), advisory);
                    }
                }
            }
        }
    }
    Ok(by_id.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "---\ndistroversion: v3.99\nreponame: main\npackages:\n  - pkg:\n      name: demo\n      secfixes:\n        1.2.3-r0:\n          - CVE-2020-0001\n          - CVE-2020-0002 XSA-1\n        0:\n          - CVE-2019-9999\n  - pkg:\n      name: other\n      secfixes:\n        2.0-r1:\n          - CVE-2020-0001\n";

    #[test]
    fn secfixes_become_fixed_ranges() {
        assert!(looks_like_secdb(SAMPLE.as_bytes()));
        let advisories = parse_secdb(SAMPLE.as_bytes(), "sample.yaml").unwrap();
        let ids: Vec<&str> = advisories.iter().map(|a| a.id.as_str()).collect();
        // CVE-2019-9999 only has fixed version 0 (never affected): no advisory.
        assert_eq!(ids, ["CVE-2020-0001", "CVE-2020-0002"]);
        let first = &advisories[0];
        assert_eq!(first.affected.len(), 2, "merged across packages");
        assert_eq!(first.affected[0].ecosystem, "Alpine:v3.99");
        assert_eq!(
            first.affected[0].ranges[0].events,
            [
                RangeEvent::Introduced("0".into()),
                RangeEvent::Fixed("1.2.3-r0".into())
            ]
        );
        assert_eq!(advisories[1].aliases, ["XSA-1"]);
    }

    #[test]
    fn bad_branch_is_an_error() {
        let err = parse_secdb(b"distroversion: edge\npackages: []\n", "x.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.yaml") && err.contains("edge"), "{err}");
    }
}
