//! SPDX 2.3 JSON.

use std::collections::BTreeMap;

use palisade_model::Package;
use serde_json::{Value, json};

use crate::licenses;
use crate::{SbomInput, content_uuid, packages_key};

fn declared(p: &Package, extracted: &mut BTreeMap<String, String>) -> String {
    let parts: Vec<String> = p
        .licenses
        .iter()
        .map(|l| {
            if licenses::is_expression(l) {
                if l.contains(' ') {
                    format!("({l})")
                } else {
                    l.clone()
                }
            } else {
                let r = licenses::license_ref(l);
                extracted.insert(r.clone(), l.clone());
                r
            }
        })
        .collect();
    if parts.is_empty() {
        "NOASSERTION".into()
    } else if parts.len() == 1 {
        parts[0]
            .trim_start_matches('(')
            .trim_end_matches(')')
            .to_string()
    } else {
        parts.join(" AND ")
    }
}

/// Writes an SPDX 2.3 document.
pub fn write(input: &SbomInput<'_>) -> Value {
    let uuid = content_uuid(&[
        input.subject,
        input.subject_version.unwrap_or(""),
        &packages_key(input.packages),
    ]);
    let mut extracted = BTreeMap::new();
    let mut packages = vec![{
        let mut image = json!({
            "SPDXID": "SPDXRef-Subject",
            "name": input.subject,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": "CONTAINER",
        });
        if let Some(v) = input.subject_version {
            image["versionInfo"] = json!(v);
        }
        image
    }];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Subject",
    })];
    if let Some((id, version)) = input.os {
        packages.push(json!({
            "SPDXID": "SPDXRef-OperatingSystem",
            "name": id,
            "versionInfo": version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": "OPERATING-SYSTEM",
        }));
        relationships.push(json!({"spdxElementId": "SPDXRef-Subject", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-OperatingSystem"}));
    }
    for (i, p) in input.packages.iter().enumerate() {
        let id = format!("SPDXRef-Package-{}", i + 1);
        let mut pkg = json!({
            "SPDXID": id,
            "name": p.name,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": declared(p, &mut extracted),
            "copyrightText": "NOASSERTION",
            "primaryPackagePurpose": "LIBRARY",
        });
        if let Some(purl) = &p.purl {
            pkg["externalRefs"] = json!([{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}]);
        }
        if let Some(src) = &p.source_name {
            let v = p.source_version.as_deref().unwrap_or(&p.version);
            pkg["sourceInfo"] = json!(format!("built from source package {src} {v}"));
        }
        let mut comment = Vec::new();
        if let Some(path) = &p.path {
            comment.push(format!("path: {path}"));
        }
        if let Some(layer) = &p.layer {
            comment.push(format!("layer: {layer}"));
        }
        if !comment.is_empty() {
            pkg["comment"] = json!(comment.join("; "));
        }
        packages.push(pkg);
        relationships.push(json!({"spdxElementId": "SPDXRef-Subject", "relationshipType": "CONTAINS", "relatedSpdxElement": id}));
    }
    let slug: String = input
        .subject
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": input.subject,
        "documentNamespace": format!("https://spdx.palisade.invalid/{slug}-{uuid}"),
        "creationInfo": {
            "created": input.created,
            "creators": [format!("Tool: {}-{}", input.tool_name, input.tool_version)],
        },
        "packages": packages,
        "relationships": relationships,
    });
    if !extracted.is_empty() {
        doc["hasExtractedLicensingInfos"] = Value::Array(
            extracted
                .into_iter()
                .map(|(id, text)| json!({"licenseId": id, "extractedText": text, "name": text}))
                .collect(),
        );
    }
    doc
}
