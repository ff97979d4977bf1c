//! CycloneDX 1.6 JSON.

use std::collections::HashMap;

use palisade_model::{Ecosystem, Package};
use serde_json::{Value, json};

use crate::licenses;
use crate::{SbomInput, content_uuid, packages_key};

/// Property names Palisade adds to components (CycloneDX property taxonomy: a namespaced
/// prefix).
pub const PROP_ECOSYSTEM: &str = "palisade:ecosystem";
/// Source package property.
pub const PROP_SOURCE_NAME: &str = "palisade:source_name";
/// Source version property.
pub const PROP_SOURCE_VERSION: &str = "palisade:source_version";
/// Distribution release property.
pub const PROP_DISTRO_RELEASE: &str = "palisade:distro_release";
/// Layer property.
pub const PROP_LAYER: &str = "palisade:layer";
/// Path property.
pub const PROP_PATH: &str = "palisade:path";

fn licenses_of(p: &Package) -> Option<Value> {
    match p.licenses.as_slice() {
        [] => None,
        [one] if one.contains(' ') && licenses::is_expression(one) => {
            Some(json!([{"expression": one}]))
        }
        many => Some(Value::Array(
            many.iter()
                .map(|l| {
                    if licenses::is_known_id(l) {
                        json!({"license": {"id": l}})
                    } else {
                        json!({"license": {"name": l}})
                    }
                })
                .collect(),
        )),
    }
}

/// Writes a CycloneDX 1.6 BOM.
pub fn write(input: &SbomInput<'_>) -> Value {
    let serial = content_uuid(&[
        input.subject,
        input.subject_version.unwrap_or(""),
        &packages_key(input.packages),
    ]);
    let mut refs: HashMap<String, usize> = HashMap::new();
    let mut components = Vec::new();
    if let Some((id, version)) = input.os {
        components.push(
            json!({"type": "operating-system", "bom-ref": "os", "name": id, "version": version}),
        );
    }
    for p in input.packages {
        let base = p
            .purl
            .clone()
            .unwrap_or_else(|| format!("{}:{}@{}", p.ecosystem, p.name, p.version));
        let n = refs.entry(base.clone()).or_insert(0);
        *n += 1;
        let bom_ref = if *n == 1 { base } else { format!("{base}#{n}") };
        let (group, name) = match (&p.ecosystem, p.name.split_once(':')) {
            (Ecosystem::Maven, Some((g, a))) => (Some(g), a),
            _ => (None, p.name.as_str()),
        };
        let mut c =
            json!({"type": "library", "bom-ref": bom_ref, "name": name, "version": p.version});
        if let Some(g) = group {
            c["group"] = json!(g);
        }
        if let Some(purl) = &p.purl {
            c["purl"] = json!(purl);
        }
        if let Some(l) = licenses_of(p) {
            c["licenses"] = l;
        }
        let mut props = vec![json!({"name": PROP_ECOSYSTEM, "value": p.ecosystem.as_str()})];
        for (k, v) in [
            (PROP_SOURCE_NAME, &p.source_name),
            (PROP_SOURCE_VERSION, &p.source_version),
            (PROP_DISTRO_RELEASE, &p.distro_release),
            (PROP_LAYER, &p.layer),
            (PROP_PATH, &p.path),
        ] {
            if let Some(v) = v {
                props.push(json!({"name": k, "value": v}));
            }
        }
        c["properties"] = Value::Array(props);
        components.push(c);
    }
    let mut subject = json!({"type": "container", "bom-ref": "subject", "name": input.subject});
    if let Some(v) = input.subject_version {
        subject["version"] = json!(v);
    }
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": {
            "timestamp": input.created,
            "tools": {"components": [{"type": "application", "name": input.tool_name, "version": input.tool_version}]},
            "component": subject,
        },
        "components": components,
    })
}
