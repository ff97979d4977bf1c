//! Java archives (jar/war/ear): `META-INF/maven/<group>/<artifact>/pom.properties` (one per
//! bundled artifact, so shaded jars list all of theirs), falling back to
//! `META-INF/MANIFEST.MF`; nested archives (`BOOT-INF/lib/*.jar`, `WEB-INF/lib/*.jar`) are
//! opened to a bounded depth and size.

use std::io::{Cursor, Read};

use palisade_model::{Ecosystem, Package, purl};

use crate::Limits;

const MAX_METADATA_ENTRY: u64 = 1 << 20;

/// Packages of a Java archive. `path` names the archive in the image; nested archives get
/// `outer!inner` paths.
pub fn packages(path: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<Package>, String> {
    let mut out = Vec::new();
    let mut budget = limits.max_kept_file_size;
    walk(path, bytes, 0, limits, &mut budget, &mut out)?;
    Ok(out)
}

fn walk(
    path: &str,
    bytes: &[u8],
    depth: usize,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Vec<Package>,
) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("{path}: not a readable zip archive: {e}"))?;
    let mut poms = Vec::new();
    let mut manifest = None;
    let mut nested: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..zip.len() {
        let Ok(mut entry) = zip.by_index(i) else {
            continue;
        };
        let Ok(name) = entry.name().map(|n| n.to_string()) else {
            continue;
        };
        let is_pom = name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties");
        let is_manifest = name == "META-INF/MANIFEST.MF";
        let lower = name.to_ascii_lowercase();
        let is_nested = lower.ends_with(".jar") || lower.ends_with(".war");
        if is_pom || is_manifest {
            let mut text = String::new();
            entry
                .by_ref()
                .take(MAX_METADATA_ENTRY)
                .read_to_string(&mut text)
                .map_err(|e| format!("{path}!{name}: {e}"))?;
            if is_pom {
                poms.push(text);
            } else {
                manifest = Some(text);
            }
        } else if is_nested && depth < limits.max_jar_depth {
            let size = entry.size();
            if size > *budget {
                continue;
            }
            let mut inner: Vec<u8> = Vec::new();
            entry
                .by_ref()
                .take(size)
                .read_to_end(&mut inner)
                .map_err(|e| format!("{path}!{name}: {e}"))?;
            *budget = budget.saturating_sub(inner.len() as u64);
            nested.push((name, inner));
        }
    }
    let before = out.len();
    for text in &poms {
        let props = properties(text);
        let get = |k: &str| {
            props
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        if let (Some(g), Some(a), Some(v)) = (get("groupId"), get("artifactId"), get("version")) {
            out.push(maven(g, a, v, path, &[]));
        }
    }
    if out.len() == before
        && let Some(m) = &manifest
        && let Some(p) = from_manifest(m, path)
    {
        out.push(p);
    }
    for (name, inner) in nested {
        let inner_path = format!("{path}!{name}");
        // A corrupt nested archive does not hide the outer archive's packages.
        let _ = walk(&inner_path, &inner, depth + 1, limits, budget, out);
    }
    Ok(())
}

fn maven(group: &str, artifact: &str, version: &str, path: &str, licenses: &[String]) -> Package {
    let mut p = Package::new(Ecosystem::Maven, format!("{group}:{artifact}"), version);
    p.purl = purl::build(&Ecosystem::Maven, None, &p.name, version, &[]);
    p.path = Some(path.to_string());
    p.licenses = licenses.to_vec();
    p
}

/// `key=value` lines of a Java properties file (`#`/`!` comments).
fn properties(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .filter_map(|l| l.split_once(['=', ':']))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Main-section attributes of a manifest (72-byte lines continued with a leading space).
fn manifest_attributes(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some((_, v)) = out.last_mut() {
                v.push_str(cont);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

fn from_manifest(text: &str, path: &str) -> Option<Package> {
    let attrs = manifest_attributes(text);
    let get = |k: &str| {
        attrs
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let version = get("Implementation-Version").or(get("Bundle-Version"))?;
    let file_stem = crate::vpath::file_name(path.rsplit('!').next().unwrap_or(path))
        .trim_end_matches(".jar")
        .trim_end_matches(".war")
        .trim_end_matches(".ear");
    let artifact_from_file = file_stem
        .strip_suffix(&format!("-{version}"))
        .unwrap_or(file_stem);
    let symbolic = get("Bundle-SymbolicName").map(|s| s.split(';').next().unwrap_or(s).trim());
    let group = get("Implementation-Vendor-Id")
        .map(str::to_string)
        .or_else(|| symbolic.and_then(|s| s.rsplit_once('.').map(|(g, _)| g.to_string())));
    let artifact = get("Implementation-Title")
        .filter(|t| !t.contains(' '))
        .unwrap_or(artifact_from_file);
    let licenses: Vec<String> = get("Bundle-License")
        .map(|l| vec![l.to_string()])
        .unwrap_or_default();
    match group {
        Some(g) => Some(maven(&g, artifact, version, path, &licenses)),
        None => {
            let mut p = Package::new(Ecosystem::Maven, artifact, version);
            p.path = Some(path.to_string());
            p.licenses = licenses;
            p.purl = purl::build(&Ecosystem::Maven, None, artifact, version, &[]);
            Some(p)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_continuation_lines_join() {
        let attrs = manifest_attributes(
            "Manifest-Version: 1.0\r\nBundle-SymbolicName: org.apache.commons.commons-l\r\n ang3\r\n\r\nName: x\r\n",
        );
        assert_eq!(attrs[1].1, "org.apache.commons.commons-lang3");
        assert_eq!(attrs.len(), 2, "only the main section");
    }
}
