//! Package URLs (purl-spec) in both directions: built for the packages an image inventory finds,
//! parsed back into packages for SBOMs. The ecosystem ↔ purl type and namespace mapping comes
//! from the ecosystem table ([`crate::ECOSYSTEMS`]); the qualifier rules of the distribution types
//! (`deb`, `apk`, `rpm`: `distro`, `upstream`, `epoch`) are here.

use std::str::FromStr;

use packageurl::PackageUrl;

use crate::ecosystem::{ECOSYSTEMS, Ecosystem, NameRule, PurlNamespace, pep503_normalize};
use crate::package::Package;

/// The purl of package `name`@`version` of `ecosystem` (`None` only when a component is
/// rejected by the purl grammar, or for [`Ecosystem::Other`]). The name is as the ecosystem
/// spells it (`group:artifact`, `@scope/name`, a Go module path); `vendor` names the
/// distribution for distribution types (`debian`, `redhat`, …; defaults to the table's).
/// Qualifiers with empty values are left out.
pub fn build(
    ecosystem: &Ecosystem,
    vendor: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> Option<String> {
    let info = ecosystem.info()?;
    let normalized;
    let name = if info.names == NameRule::Pep503 {
        normalized = pep503_normalize(name);
        normalized.as_str()
    } else {
        name
    };
    let (namespace, name) = match info.purl_namespace {
        PurlNamespace::None => (None, name),
        PurlNamespace::Vendor(default) => (vendor.or(default), name),
        PurlNamespace::NpmScope => match name.split_once('/') {
            Some((scope, n)) if scope.starts_with('@') => (Some(scope), n),
            _ => (None, name),
        },
        PurlNamespace::LastSlash => match name.rsplit_once('/') {
            Some((ns, n)) => (Some(ns), n),
            None => (None, name),
        },
        PurlNamespace::MavenGroup => match name.split_once(':') {
            Some((group, artifact)) => (Some(group), artifact),
            None => (None, name),
        },
    };
    let mut purl = PackageUrl::new(info.purl_type, name).ok()?;
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

/// The ecosystem of purl type `ty` with namespace `ns`, and how the namespace joins the name.
fn ecosystem_of(ty: &str, ns: &str) -> (Ecosystem, PurlNamespace) {
    let mut rows = ECOSYSTEMS.iter().filter(|(_, i)| i.purl_type == ty);
    let first = rows.clone().next();
    rows.find(|(_, i)| matches!(i.purl_namespace, PurlNamespace::Vendor(Some(v)) if v == ns))
        .or(first)
        .map_or_else(
            || (Ecosystem::Other(ty.to_string()), PurlNamespace::LastSlash),
            |(e, i)| (e.clone(), i.purl_namespace),
        )
}

/// Builds a package from a purl (`None` when the purl does not parse or has no version).
pub fn package_from_purl(purl: &str) -> Option<Package> {
    let p = PackageUrl::from_str(purl).ok()?;
    let version = p.version()?.to_string();
    let ns = p.namespace().unwrap_or("");
    let q = |k: &str| {
        p.qualifiers()
            .iter()
            .find(|(key, _)| key.as_ref() == k)
            .map(|(_, v)| v.to_string())
    };
    let (ecosystem, namespace) = ecosystem_of(p.ty(), ns);
    let joined = |sep: &str| {
        if ns.is_empty() {
            p.name().to_string()
        } else {
            format!("{ns}{sep}{}", p.name())
        }
    };
    let name = match namespace {
        PurlNamespace::None | PurlNamespace::Vendor(_) => p.name().to_string(),
        PurlNamespace::NpmScope | PurlNamespace::LastSlash => joined("/"),
        PurlNamespace::MavenGroup => joined(":"),
    };
    let version = match (p.ty(), q("epoch")) {
        ("rpm", Some(e)) if e != "0" => format!("{e}:{version}"),
        _ => version,
    };
    let mut pkg = Package::new(ecosystem, name, version);
    pkg.purl = Some(purl.to_string());
    if let Some(distro) = q("distro") {
        let release = distro
            .split_once('-')
            .map_or(distro.as_str(), |(_, r)| r)
            .to_string();
        pkg.distro_release = Some(match p.ty() {
            // apk distro qualifiers carry the point release (`alpine-3.19.1`); Alpine releases
            // are major.minor.
            "apk" => release.split('.').take(2).collect::<Vec<_>>().join("."),
            _ => release,
        });
    }
    if let Some(up) = q("upstream") {
        match p.ty() {
            // rpm: the source RPM file name (`openssl-3.0.7-25.el9.src.rpm`).
            "rpm" => {
                if let Some((n, v)) = split_source_rpm(&up) {
                    let own = pkg
                        .version
                        .rsplit(':')
                        .next()
                        .unwrap_or(&pkg.version)
                        .to_string();
                    pkg.source_version = (v != own).then_some(v);
                    pkg.source_name = Some(n);
                }
            }
            // deb, apk: `name` or `name@version`.
            _ => match up.split_once('@') {
                Some((n, v)) => {
                    pkg.source_name = Some(n.to_string());
                    pkg.source_version = Some(v.to_string());
                }
                None => pkg.source_name = Some(up),
            },
        }
    } else if matches!(p.ty(), "deb" | "apk") {
        pkg.source_name = Some(pkg.name.clone());
    }
    Some(pkg)
}

/// `openssl-3.0.7-25.el9.src.rpm` → (`openssl`, `3.0.7-25.el9`).
pub fn split_source_rpm(s: &str) -> Option<(String, String)> {
    let base = s.strip_suffix(".rpm")?;
    let base = base.rsplit_once('.').map_or(base, |(b, _)| b);
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    Some((name.to_string(), format!("{version}-{release}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_follow_the_spec_examples() {
        assert_eq!(
            build(&Ecosystem::Npm, None, "@angular/animation", "12.3.1", &[]).as_deref(),
            Some("pkg:npm/%40angular/animation@12.3.1")
        );
        assert_eq!(
            build(&Ecosystem::PyPI, None, "Django_Rest.framework", "3.0", &[]).as_deref(),
            Some("pkg:pypi/django-rest-framework@3.0")
        );
        assert_eq!(
            build(
                &Ecosystem::Go,
                None,
                "github.com/gorilla/context",
                "v1.1.2",
                &[]
            )
            .as_deref(),
            Some("pkg:golang/github.com/gorilla/context@v1.1.2")
        );
        assert_eq!(
            build(
                &Ecosystem::Debian,
                None,
                "curl",
                "7.50.3-1",
                &[("arch", "i386"), ("distro", "jessie")]
            )
            .as_deref(),
            Some("pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie")
        );
        assert_eq!(
            build(
                &Ecosystem::Maven,
                None,
                "org.apache.xmlgraphics:batik-anim",
                "1.9.1",
                &[]
            )
            .as_deref(),
            Some("pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1")
        );
        assert_eq!(
            build(&Ecosystem::Maven, None, "batik-anim", "1.9.1", &[]).as_deref(),
            Some("pkg:maven/batik-anim@1.9.1")
        );
        assert_eq!(
            build(
                &Ecosystem::Rpm,
                Some("redhat"),
                "openssl",
                "3.0.7-25.el9",
                &[]
            )
            .as_deref(),
            Some("pkg:rpm/redhat/openssl@3.0.7-25.el9")
        );
        assert_eq!(
            build(&Ecosystem::CratesIo, None, "serde", "1.0.0", &[]).as_deref(),
            Some("pkg:cargo/serde@1.0.0")
        );
    }

    #[test]
    fn built_purls_parse_back_to_the_same_package() {
        for (e, vendor, name) in [
            (Ecosystem::Ubuntu, None, "libc6"),
            (Ecosystem::Npm, None, "@babel/core"),
            (Ecosystem::Maven, None, "org.yaml:snakeyaml"),
            (Ecosystem::Go, None, "golang.org/x/net"),
            (Ecosystem::CratesIo, None, "serde"),
            (Ecosystem::Rpm, Some("rocky"), "bash"),
        ] {
            let purl = build(&e, vendor, name, "1.0", &[]).unwrap();
            let p = package_from_purl(&purl).unwrap();
            assert_eq!((&p.ecosystem, p.name.as_str()), (&e, name), "{purl}");
        }
    }

    #[test]
    fn source_rpm_names_split() {
        assert_eq!(
            split_source_rpm("openssl-3.0.7-25.el9_3.src.rpm"),
            Some(("openssl".into(), "3.0.7-25.el9_3".into()))
        );
        assert_eq!(
            split_source_rpm("python3-pip-21.2.3-7.el9.src.rpm"),
            Some(("python3-pip".into(), "21.2.3-7.el9".into()))
        );
    }

    #[test]
    fn purl_types_map_to_ecosystems() {
        let p = package_from_purl(
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl",
        )
        .unwrap();
        assert_eq!(
            (
                p.ecosystem,
                p.name.as_str(),
                p.distro_release.as_deref(),
                p.source_name.as_deref()
            ),
            (Ecosystem::Debian, "libssl3", Some("12"), Some("openssl"))
        );
        let p = package_from_purl("pkg:npm/%40babel/core@7.23.0").unwrap();
        assert_eq!(p.name, "@babel/core");
        let p = package_from_purl("pkg:maven/org.yaml/snakeyaml@1.33").unwrap();
        assert_eq!(p.name, "org.yaml:snakeyaml");
        let p = package_from_purl("pkg:golang/golang.org/x/net@v0.17.0").unwrap();
        assert_eq!(p.name, "golang.org/x/net");
        let p = package_from_purl("pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.19.1").unwrap();
        assert_eq!(p.distro_release.as_deref(), Some("3.19"));
        let p = package_from_purl(
            "pkg:rpm/redhat/openssl@3.0.7-25.el9?epoch=1&upstream=openssl-3.0.7-25.el9.src.rpm",
        )
        .unwrap();
        assert_eq!(
            (
                p.version.as_str(),
                p.source_name.as_deref(),
                p.source_version.as_deref()
            ),
            ("1:3.0.7-25.el9", Some("openssl"), None)
        );
        let p = package_from_purl("pkg:composer/laravel/framework@10.0.0").unwrap();
        assert_eq!(
            (p.ecosystem, p.name.as_str()),
            (Ecosystem::Other("composer".into()), "laravel/framework")
        );
        assert!(package_from_purl("not a purl").is_none());
    }
}
