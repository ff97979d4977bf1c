//! dpkg's database: `var/lib/dpkg/status` (installed packages) and distroless images'
//! `var/lib/dpkg/status.d/<name>` files.

use palisade_model::{Ecosystem, Package, purl};

use super::control::{deb822, field};
use super::os::OsInfo;

/// Parses a dpkg status file. With `require_installed`, only paragraphs whose `Status` says
/// `installed` count (status.d files have no Status field).
pub fn parse_status(text: &str, os: Option<&OsInfo>, require_installed: bool) -> Vec<Package> {
    let mut out = Vec::new();
    for p in deb822(text) {
        let (Some(name), Some(version)) = (field(&p, "Package"), field(&p, "Version")) else {
            continue;
        };
        match field(&p, "Status") {
            Some(status) if status.split_whitespace().nth(2) != Some("installed") => continue,
            Some(_) => {}
            None if require_installed => continue,
            None => {}
        }
        let (source_name, source_version) = match field(&p, "Source") {
            Some(src) => match src.split_once(' ') {
                Some((n, v)) => (
                    n.to_string(),
                    Some(
                        v.trim()
                            .trim_start_matches('(')
                            .trim_end_matches(')')
                            .to_string(),
                    ),
                ),
                None => (src.to_string(), None),
            },
            None => (name.to_string(), None),
        };
        let ecosystem = match os.map(|o| o.id.as_str()) {
            Some("ubuntu") => Ecosystem::Ubuntu,
            _ => Ecosystem::Debian,
        };
        let arch = field(&p, "Architecture").unwrap_or("");
        let distro = os.and_then(OsInfo::purl_distro).unwrap_or_default();
        let upstream = match &source_version {
            Some(v) if v != version => format!("{source_name}@{v}"),
            _ if source_name != name => source_name.clone(),
            _ => String::new(),
        };
        // The purl namespace is the ecosystem's vendor (`debian` or `ubuntu`).
        let mut pkg = Package::new(ecosystem.clone(), name, version);
        pkg.purl = purl::build(
            &ecosystem,
            None,
            name,
            version,
            &[("arch", arch), ("distro", &distro), ("upstream", &upstream)],
        );
        pkg.source_name = Some(source_name);
        pkg.source_version = source_version.filter(|v| v != version);
        pkg.distro_release = os.and_then(OsInfo::release);
        out.push(pkg);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\nDescription: GNU C Library\n multi-line\n\nPackage: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl (3.0.11-1~deb12u2)\nVersion: 3.0.11-1~deb12u2\n\nPackage: oldpkg\nStatus: deinstall ok config-files\nVersion: 1.0\n\nPackage: bsdutils\nStatus: install ok installed\nSource: util-linux (2.38.1-5)\nVersion: 1:2.38.1-5+b1\n";

    #[test]
    fn parses_installed_packages_with_sources() {
        let pkgs = parse_status(STATUS, None, true);
        let names: Vec<_> = pkgs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["libc6", "libssl3", "bsdutils"]);
        assert_eq!(pkgs[0].source_name.as_deref(), Some("glibc"));
        assert_eq!(pkgs[1].source_name.as_deref(), Some("openssl"));
        assert_eq!(pkgs[1].source_version, None, "same as binary version");
        assert_eq!(pkgs[2].version, "1:2.38.1-5+b1");
        assert_eq!(pkgs[2].source_version.as_deref(), Some("2.38.1-5"));
        assert_eq!(
            pkgs[0].purl.as_deref(),
            Some("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc")
        );
    }
}
