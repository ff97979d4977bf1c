//! Python distributions: `*.dist-info/METADATA` and `*.egg-info/PKG-INFO` (or an `.egg-info`
//! file), the core-metadata format (RFC 822 style headers; the body is the description).

use palisade_model::{Ecosystem, Package, purl};

/// Parses core metadata into a package (`None` without Name or Version).
pub fn parse_metadata(text: &str) -> Option<Package> {
    let mut name = None;
    let mut version = None;
    let mut license = None;
    let mut expression = None;
    let mut classifiers = Vec::new();
    let mut last_key = String::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if last_key.eq_ignore_ascii_case("License") {
                // Multi-line licence texts are not identifiers; drop them.
                license = None;
            }
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim().to_string();
        last_key = k.to_string();
        match k.to_ascii_lowercase().as_str() {
            "name" => name = Some(v),
            "version" => version = Some(v),
            "license" => license = Some(v),
            "license-expression" => expression = Some(v),
            "classifier" => {
                if let Some(rest) = v.strip_prefix("License :: ")
                    && let Some(last) = rest.rsplit(" :: ").next()
                    && last != "OSI Approved"
                {
                    classifiers.push(last.to_string());
                }
            }
            _ => {}
        }
    }
    let (name, version) = (name?, version?);
    if name.is_empty() || version.is_empty() {
        return None;
    }
    let mut pkg = Package::new(Ecosystem::PyPI, &name, &version);
    pkg.purl = purl::build(&Ecosystem::PyPI, None, &name, &version, &[]);
    if let Some(e) = expression.filter(|e| !e.is_empty()) {
        pkg.licenses.push(e);
    } else if let Some(l) =
        license.filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case("UNKNOWN") && l.len() <= 100)
    {
        pkg.licenses.push(l);
    } else {
        pkg.licenses = classifiers;
    }
    Some(pkg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_core_metadata() {
        let text = "Metadata-Version: 2.1\nName: Requests_OAuthlib\nVersion: 1.3.1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: BSD License\n\nLicense: not a header\n";
        let p = parse_metadata(text).unwrap();
        assert_eq!(p.name, "Requests_OAuthlib");
        assert_eq!(p.purl.as_deref(), Some("pkg:pypi/requests-oauthlib@1.3.1"));
        assert_eq!(p.licenses, ["BSD License"]);
    }
}
