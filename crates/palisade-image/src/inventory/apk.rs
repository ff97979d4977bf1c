//! Alpine's apk database `lib/apk/db/installed`.

use palisade_model::{Ecosystem, Package, purl};

use super::control::{apk_field, apk_records};
use super::os::OsInfo;

/// Parses the apk installed database.
pub fn parse_installed(text: &str, os: Option<&OsInfo>) -> Vec<Package> {
    let mut out = Vec::new();
    for r in apk_records(text) {
        let (Some(name), Some(version)) = (apk_field(&r, "P"), apk_field(&r, "V")) else {
            continue;
        };
        let origin = apk_field(&r, "o").unwrap_or(name);
        let arch = apk_field(&r, "A").unwrap_or("");
        let distro = os.and_then(OsInfo::purl_distro).unwrap_or_default();
        let upstream = if origin != name { origin } else { "" };
        let mut pkg = Package::new(Ecosystem::Alpine, name, version);
        pkg.purl = purl::build(
            &Ecosystem::Alpine,
            None,
            name,
            version,
            &[("arch", arch), ("distro", &distro), ("upstream", upstream)],
        );
        pkg.source_name = Some(origin.to_string());
        pkg.distro_release = os.and_then(OsInfo::release);
        if let Some(l) = apk_field(&r, "L").filter(|l| !l.is_empty()) {
            pkg.licenses.push(l.to_string());
        }
        out.push(pkg);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records_with_origin_and_licence() {
        let db = "C:Q1abc=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\nS:1\nL:Apache-2.0\no:openssl\nm:Maintainer <m@x>\n\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nL:MIT\no:musl\n";
        let pkgs = parse_installed(db, None);
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[0].name, "libcrypto3");
        assert_eq!(pkgs[0].source_name.as_deref(), Some("openssl"));
        assert_eq!(pkgs[0].licenses, ["Apache-2.0"]);
        assert_eq!(
            pkgs[0].purl.as_deref(),
            Some("pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&upstream=openssl")
        );
        assert_eq!(pkgs[1].version, "1.2.4_git20230717-r4");
    }
}
