//! Package URLs to packages: the ecosystem, the ecosystem's own spelling of the name, the
//! distribution release and the source package, as the purl-spec types define them.

use std::str::FromStr;

use packageurl::PackageUrl;
use palisade_model::{Ecosystem, Package};

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
    let name = p.name().to_string();
    let joined = |sep: &str| {
        if ns.is_empty() {
            name.clone()
        } else {
            format!("{ns}{sep}{name}")
        }
    };
    let (ecosystem, name) = match p.ty() {
        "deb" => (
            if ns == "ubuntu" {
                Ecosystem::Ubuntu
            } else {
                Ecosystem::Debian
            },
            name.clone(),
        ),
        "apk" => (Ecosystem::Alpine, name.clone()),
        "rpm" => (Ecosystem::Rpm, name.clone()),
        "pypi" => (Ecosystem::PyPI, name.clone()),
        "npm" => (Ecosystem::Npm, joined("/")),
        "cargo" => (Ecosystem::CratesIo, name.clone()),
        "golang" => (Ecosystem::Go, joined("/")),
        "maven" => (Ecosystem::Maven, joined(":")),
        other => (Ecosystem::Other(other.to_string()), joined("/")),
    };
    let version = match (&ecosystem, q("epoch")) {
        (Ecosystem::Rpm, Some(e)) if e != "0" => format!("{e}:{version}"),
        _ => version,
    };
    let mut pkg = Package::new(ecosystem.clone(), name, version);
    pkg.purl = Some(purl.to_string());
    if let Some(distro) = q("distro") {
        let release = distro
            .split_once('-')
            .map_or(distro.as_str(), |(_, r)| r)
            .to_string();
        pkg.distro_release = Some(match ecosystem {
            Ecosystem::Alpine => release.split('.').take(2).collect::<Vec<_>>().join("."),
            _ => release,
        });
    }
    if let Some(up) = q("upstream") {
        match ecosystem {
            Ecosystem::Rpm => {
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
            _ => match up.split_once('@') {
                Some((n, v)) => {
                    pkg.source_name = Some(n.to_string());
                    pkg.source_version = Some(v.to_string());
                }
                None => pkg.source_name = Some(up),
            },
        }
    } else if matches!(
        ecosystem,
        Ecosystem::Debian | Ecosystem::Ubuntu | Ecosystem::Alpine
    ) {
        pkg.source_name = Some(pkg.name.clone());
    }
    Some(pkg)
}

fn split_source_rpm(s: &str) -> Option<(String, String)> {
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
        assert!(package_from_purl("not a purl").is_none());
    }
}
