//! Distribution releases: OSV ecosystem suffixes (`Debian:11`, `Alpine:v3.11`,
//! `Ubuntu:22.04:LTS`) and package `distro_release` values normalized to one comparable form.

use palisade_model::Ecosystem;

/// Debian release codename → OSV release number.
pub fn debian_codename_number(codename: &str) -> Option<&'static str> {
    Some(match codename.trim().to_ascii_lowercase().as_str() {
        "woody" => "3.0",
        "sarge" => "3.1",
        "etch" => "4",
        "lenny" => "5",
        "squeeze" => "6",
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

/// Normalizes a release of `ecosystem` so that an OSV suffix and a package's `distro_release`
/// compare equal: Debian `bullseye`/`11`/`11.7` → `11`; Alpine `v3.11`/`3.11.6` → `3.11`;
/// Ubuntu `22.04`/`22.04.3`/`22.04:LTS` → `22.04`. Other ecosystems keep the value trimmed.
pub fn normalize_release(ecosystem: &Ecosystem, release: &str) -> String {
    let r = release.trim();
    match ecosystem {
        Ecosystem::Debian => {
            if let Some(n) = debian_codename_number(r) {
                return n.to_string();
            }
            let mut parts = r.split('.');
            let major = parts.next().unwrap_or(r);
            match major.parse::<u32>() {
                // Debian 3.0 and 3.1 are distinct releases; from 4 on the major is the release.
                Ok(m) if m < 4 => {
                    let minor = parts.next().unwrap_or("0");
                    format!("{m}.{minor}")
                }
                Ok(m) => m.to_string(),
                Err(_) => r.to_ascii_lowercase(),
            }
        }
        Ecosystem::Alpine => {
            let r = r.strip_prefix('v').unwrap_or(r);
            let parts: Vec<&str> = r.split('.').collect();
            if parts.len() >= 2 {
                format!("{}.{}", parts[0], parts[1])
            } else {
                r.to_string()
            }
        }
        Ecosystem::Ubuntu => {
            let first = r
                .split(':')
                .find(|p| p.chars().next().is_some_and(|c| c.is_ascii_digit()))
                .unwrap_or(r);
            let parts: Vec<&str> = first.split('.').collect();
            if parts.len() >= 2 {
                format!("{}.{}", parts[0], parts[1])
            } else {
                first.to_string()
            }
        }
        _ => r.to_string(),
    }
}

/// Splits an OSV ecosystem string into the ecosystem and its normalized release, if any.
pub fn split_ecosystem(osv: &str) -> (Ecosystem, Option<String>) {
    let ecosystem = Ecosystem::parse(osv);
    let release = match osv.split_once(':') {
        // Maven and Packagist put a repository URL after the colon, not a release.
        Some((_, rest)) if !rest.trim().is_empty() && ecosystem.is_distro() => {
            Some(normalize_release(&ecosystem, rest))
        }
        _ => None,
    };
    (ecosystem, release)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_normalize_to_the_same_key() {
        assert_eq!(normalize_release(&Ecosystem::Debian, "bullseye"), "11");
        assert_eq!(normalize_release(&Ecosystem::Debian, "11.7"), "11");
        assert_eq!(normalize_release(&Ecosystem::Debian, "12"), "12");
        assert_eq!(normalize_release(&Ecosystem::Debian, "sarge"), "3.1");
        assert_eq!(normalize_release(&Ecosystem::Alpine, "v3.11"), "3.11");
        assert_eq!(normalize_release(&Ecosystem::Alpine, "3.11.6"), "3.11");
        assert_eq!(normalize_release(&Ecosystem::Ubuntu, "22.04:LTS"), "22.04");
        assert_eq!(
            normalize_release(&Ecosystem::Ubuntu, "Pro:18.04:LTS"),
            "18.04"
        );
        assert_eq!(normalize_release(&Ecosystem::Ubuntu, "22.04.3"), "22.04");
    }

    #[test]
    fn osv_ecosystem_strings() {
        assert_eq!(
            split_ecosystem("Debian:11"),
            (Ecosystem::Debian, Some("11".into()))
        );
        assert_eq!(
            split_ecosystem("Alpine:v3.18"),
            (Ecosystem::Alpine, Some("3.18".into()))
        );
        assert_eq!(split_ecosystem("crates.io"), (Ecosystem::CratesIo, None));
        assert_eq!(
            split_ecosystem("Maven:https://maven.google.com"),
            (Ecosystem::Maven, None)
        );
    }
}
