//! Reads CycloneDX (1.x JSON) and SPDX (2.x JSON) documents back into packages. Packages are
//! identified by their purl; CycloneDX `palisade:` properties and SPDX comments restore what
//! purls do not carry (layer, path).

use palisade_model::{Ecosystem, Package};
use serde_json::Value;

use crate::SbomError;
use crate::cyclonedx::{
    PROP_DISTRO_RELEASE, PROP_LAYER, PROP_PATH, PROP_SOURCE_NAME, PROP_SOURCE_VERSION,
};
use palisade_model::purl::package_from_purl;

/// The format of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    /// CycloneDX JSON.
    CycloneDx,
    /// SPDX JSON.
    Spdx,
}

/// What a document holds.
#[derive(Debug, Clone)]
pub struct Sbom {
    /// Its format.
    pub format: SbomFormat,
    /// Its packages (the described subject and operating-system entries excluded).
    pub packages: Vec<Package>,
}

const MAX_DEPTH: usize = 32;

/// Reads an SBOM; `what` names it in errors.
pub fn read(bytes: &[u8], what: &str) -> Result<Sbom, SbomError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|source| SbomError::Json {
        what: what.to_string(),
        source,
    })?;
    if v.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        let mut packages = Vec::new();
        if let Some(cs) = v.get("components") {
            let cs = cs.as_array().ok_or_else(|| SbomError::Format {
                what: format!("{what}: components"),
                message: "not an array".into(),
            })?;
            cyclonedx_components(cs, 0, &mut packages);
        }
        return Ok(Sbom {
            format: SbomFormat::CycloneDx,
            packages,
        });
    }
    if v.get("spdxVersion")
        .and_then(Value::as_str)
        .is_some_and(|s| s.starts_with("SPDX-2"))
    {
        let mut packages = Vec::new();
        for p in v
            .get("packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let purpose = p
                .get("primaryPackagePurpose")
                .and_then(Value::as_str)
                .unwrap_or("");
            if matches!(purpose, "CONTAINER" | "OPERATING-SYSTEM") {
                continue;
            }
            let purl = p
                .get("externalRefs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|r| r.get("referenceType").and_then(Value::as_str) == Some("purl"))
                .and_then(|r| r.get("referenceLocator").and_then(Value::as_str));
            let name = p.get("name").and_then(Value::as_str).unwrap_or("");
            let version = p.get("versionInfo").and_then(Value::as_str).unwrap_or("");
            let mut pkg = match purl.and_then(package_from_purl) {
                Some(pkg) => pkg,
                None => Package::new(Ecosystem::Other("unknown".into()), name, version),
            };
            if let Some(l) = p
                .get("licenseDeclared")
                .and_then(Value::as_str)
                .filter(|l| *l != "NOASSERTION" && *l != "NONE")
            {
                pkg.licenses = vec![l.to_string()];
            }
            if let Some(comment) = p.get("comment").and_then(Value::as_str) {
                for part in comment.split("; ") {
                    if let Some(path) = part.strip_prefix("path: ") {
                        pkg.path = Some(path.to_string());
                    } else if let Some(layer) = part.strip_prefix("layer: ") {
                        pkg.layer = Some(layer.to_string());
                    }
                }
            }
            packages.push(pkg);
        }
        return Ok(Sbom {
            format: SbomFormat::Spdx,
            packages,
        });
    }
    Err(SbomError::Format {
        what: what.to_string(),
        message: "neither a CycloneDX (bomFormat) nor an SPDX 2.x (spdxVersion) JSON document"
            .into(),
    })
}

fn cyclonedx_components(cs: &[Value], depth: usize, out: &mut Vec<Package>) {
    if depth > MAX_DEPTH {
        return;
    }
    for c in cs {
        let ty = c.get("type").and_then(Value::as_str).unwrap_or("library");
        if !matches!(ty, "operating-system" | "container" | "file") {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            let version = c.get("version").and_then(Value::as_str).unwrap_or("");
            let mut pkg = match c
                .get("purl")
                .and_then(Value::as_str)
                .and_then(package_from_purl)
            {
                Some(p) => p,
                None => Package::new(Ecosystem::Other("unknown".into()), name, version),
            };
            let licenses: Vec<String> = c
                .get("licenses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|l| {
                    l.get("expression")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or_else(|| {
                            let lic = l.get("license")?;
                            lic.get("id")
                                .or(lic.get("name"))
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        })
                })
                .collect();
            if !licenses.is_empty() {
                pkg.licenses = licenses;
            }
            for prop in c
                .get("properties")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(k), Some(v)) = (
                    prop.get("name").and_then(Value::as_str),
                    prop.get("value").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let v = Some(v.to_string());
                match k {
                    PROP_SOURCE_NAME => pkg.source_name = v,
                    PROP_SOURCE_VERSION => pkg.source_version = v,
                    PROP_DISTRO_RELEASE => pkg.distro_release = v,
                    PROP_LAYER => pkg.layer = v,
                    PROP_PATH => pkg.path = v,
                    _ => {}
                }
            }
            out.push(pkg);
        }
        if let Some(nested) = c.get("components").and_then(Value::as_array) {
            cyclonedx_components(nested, depth + 1, out);
        }
    }
}
