//! Package URLs (purl-spec) for every ecosystem the inventory produces.

use packageurl::PackageUrl;

/// Builds a purl string; `None` only when a component is rejected by the purl grammar.
pub fn build(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> Option<String> {
    let mut purl = PackageUrl::new(ty, name).ok()?;
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        purl.with_namespace(ns).ok()?;
    }
    if !version.is_empty() {
        purl.with_version(version).ok()?;
    }
    for (k, v) in qualifiers {
        if !v.is_empty() {
            purl.add_qualifier(*k, *v).ok()?;
        }
    }
    Some(purl.to_string())
}

/// `pkg:pypi/<name>@<version>` with the name normalised as PEP 503 says (lowercase, runs of
/// `-`, `_`, `.` become `-`).
pub fn pypi(name: &str, version: &str) -> Option<String> {
    build("pypi", None, &pep503_normalize(name), version, &[])
}

/// PEP 503 name normalisation.
pub fn pep503_normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_sep = false;
    for c in name.chars() {
        if c == '-' || c == '_' || c == '.' {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}

/// `pkg:npm/[%40scope/]name@version`.
pub fn npm(name: &str, version: &str) -> Option<String> {
    match name.split_once('/') {
        Some((scope, n)) if scope.starts_with('@') => build("npm", Some(scope), n, version, &[]),
        _ => build("npm", None, name, version, &[]),
    }
}

/// `pkg:cargo/name@version`.
pub fn cargo(name: &str, version: &str) -> Option<String> {
    build("cargo", None, name, version, &[])
}

/// `pkg:golang/<module path>@version` (namespace = all but the last path element).
pub fn golang(module: &str, version: &str) -> Option<String> {
    match module.rsplit_once('/') {
        Some((ns, n)) => build("golang", Some(ns), n, version, &[]),
        None => build("golang", None, module, version, &[]),
    }
}

/// `pkg:maven/group/artifact@version`.
pub fn maven(group: &str, artifact: &str, version: &str) -> Option<String> {
    build("maven", Some(group), artifact, version, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_follow_the_spec_examples() {
        assert_eq!(
            npm("@angular/animation", "12.3.1").as_deref(),
            Some("pkg:npm/%40angular/animation@12.3.1")
        );
        assert_eq!(
            pypi("Django_Rest.framework", "3.0").as_deref(),
            Some("pkg:pypi/django-rest-framework@3.0")
        );
        assert_eq!(
            golang("github.com/gorilla/context", "v1.1.2").as_deref(),
            Some("pkg:golang/github.com/gorilla/context@v1.1.2")
        );
        assert_eq!(
            build(
                "deb",
                Some("debian"),
                "curl",
                "7.50.3-1",
                &[("arch", "i386"), ("distro", "jessie")]
            )
            .as_deref(),
            Some("pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie")
        );
        assert_eq!(
            maven("org.apache.xmlgraphics", "batik-anim", "1.9.1").as_deref(),
            Some("pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1")
        );
    }
}
