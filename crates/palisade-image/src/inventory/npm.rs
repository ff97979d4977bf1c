//! npm packages: installed `node_modules/<name>/package.json` files and `package-lock.json`
//! (lockfile versions 1, 2 and 3).

use palisade_model::{Ecosystem, Package, purl};
use serde_json::Value;

fn licenses_of(v: &Value) -> Vec<String> {
    match v.get("license") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Object(o)) => o
            .get("type")
            .and_then(Value::as_str)
            .map(|s| vec![s.to_string()])
            .unwrap_or_default(),
        _ => match v.get("licenses") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|l| l.get("type").and_then(Value::as_str).or(l.as_str()))
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        },
    }
}

fn package(name: &str, version: &str, licenses: Vec<String>) -> Package {
    let mut p = Package::new(Ecosystem::Npm, name, version);
    p.purl = purl::build(&Ecosystem::Npm, None, name, version, &[]);
    p.licenses = licenses;
    p
}

/// Parses an installed package's `package.json`.
pub fn parse_package_json(bytes: &[u8]) -> Result<Option<Package>, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
    let (Some(name), Some(version)) = (
        v.get("name").and_then(Value::as_str),
        v.get("version").and_then(Value::as_str),
    ) else {
        return Ok(None);
    };
    Ok(Some(package(name, version, licenses_of(&v))))
}

/// One package listed by a lockfile, with its install location relative to the lockfile's
/// directory (`node_modules/a/node_modules/b`) when the lockfile says.
pub struct LockedPackage {
    /// The package.
    pub package: Package,
    /// Install location relative to the lockfile directory.
    pub location: Option<String>,
}

/// Parses a `package-lock.json`.
pub fn parse_lockfile(bytes: &[u8]) -> Result<Vec<LockedPackage>, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut out = Vec::new();
    if let Some(Value::Object(packages)) = v.get("packages") {
        for (location, entry) in packages {
            if location.is_empty() || entry.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let Some(idx) = location.rfind("node_modules/") else {
                continue;
            };
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&location[idx + "node_modules/".len()..]);
            let Some(version) = entry.get("version").and_then(Value::as_str) else {
                continue;
            };
            out.push(LockedPackage {
                package: package(name, version, licenses_of(entry)),
                location: Some(location.clone()),
            });
        }
        return Ok(out);
    }
    if let Some(Value::Object(deps)) = v.get("dependencies") {
        let mut stack: Vec<(&serde_json::Map<String, Value>, usize)> = vec![(deps, 0)];
        while let Some((deps, depth)) = stack.pop() {
            if depth > 64 {
                return Err("dependencies nested more than 64 levels".into());
            }
            for (name, entry) in deps {
                if let Some(version) = entry.get("version").and_then(Value::as_str) {
                    out.push(LockedPackage {
                        package: package(name, version, Vec::new()),
                        location: None,
                    });
                }
                if let Some(Value::Object(nested)) = entry.get("dependencies") {
                    stack.push((nested, depth + 1));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockfile_v3_packages() {
        let lock =
            br#"{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app","version":"1.0.0"},
          "node_modules/@babel/core":{"version":"7.23.0","license":"MIT"},
          "node_modules/a/node_modules/b":{"version":"2.0.0"},
          "node_modules/linked":{"resolved":"../x","link":true}}}"#;
        let pkgs = parse_lockfile(lock).unwrap();
        let names: Vec<_> = pkgs
            .iter()
            .map(|p| (p.package.name.as_str(), p.package.version.as_str()))
            .collect();
        assert_eq!(names, [("@babel/core", "7.23.0"), ("b", "2.0.0")]);
        assert_eq!(
            pkgs[0].package.purl.as_deref(),
            Some("pkg:npm/%40babel/core@7.23.0")
        );
    }

    #[test]
    fn lockfile_v1_dependencies_recurse() {
        let lock = br#"{"lockfileVersion":1,"dependencies":{"a":{"version":"1.0.0","dependencies":{"b":{"version":"2.0.0"}}}}}"#;
        assert_eq!(parse_lockfile(lock).unwrap().len(), 2);
    }
}
