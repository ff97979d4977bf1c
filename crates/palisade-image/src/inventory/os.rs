//! Operating-system detection from `/etc/os-release` (and `/usr/lib/os-release`), with the
//! older `alpine-release`, `debian_version` and `redhat-release` files as fallbacks.

use serde::Serialize;

use crate::fs::ImageFs;

/// The detected operating system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OsInfo {
    /// `ID` of os-release (`debian`, `ubuntu`, `alpine`, `rhel`, `fedora`, …).
    pub id: String,
    /// `VERSION_ID` (`12`, `3.19.1`, `22.04`) when known.
    pub version_id: Option<String>,
    /// `VERSION_CODENAME` (`bookworm`) when known.
    pub codename: Option<String>,
    /// `PRETTY_NAME` or a composed name.
    pub pretty_name: String,
    /// `ID_LIKE` entries.
    pub id_like: Vec<String>,
    /// The file the facts came from.
    pub source_file: String,
}

impl OsInfo {
    /// The release used to key distribution advisories: Debian `12`, Ubuntu `22.04`, Alpine
    /// `3.19` (major.minor), others their `VERSION_ID`.
    pub fn release(&self) -> Option<String> {
        let v = self.version_id.as_deref()?;
        if self.id == "alpine" {
            let mut parts = v.split('.');
            return match (parts.next(), parts.next()) {
                (Some(a), Some(b)) => Some(format!("{a}.{b}")),
                _ => Some(v.to_string()),
            };
        }
        Some(v.to_string())
    }

    /// The purl `distro` qualifier (`debian-12`, `alpine-3.19.1`).
    pub fn purl_distro(&self) -> Option<String> {
        self.version_id
            .as_ref()
            .map(|v| format!("{}-{v}", self.id))
            .or_else(|| self.codename.as_ref().map(|c| format!("{}-{c}", self.id)))
    }

    /// Whether the OS is Debian-like (dpkg).
    pub fn is_debian_family(&self) -> bool {
        self.id == "debian" || self.id == "ubuntu" || self.id_like.iter().any(|l| l == "debian")
    }
}

/// Parses os-release `KEY=value` lines (shell-style quoting, `#` comments).
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let unquoted = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            v[1..v.len() - 1]
                .replace("\\\"", "\"")
                .replace("\\\\", "\\")
        } else {
            v.to_string()
        };
        out.push((k.trim().to_string(), unquoted));
    }
    out
}

/// Detects the OS of an image.
pub fn detect(fs: &ImageFs) -> Option<OsInfo> {
    for file in ["etc/os-release", "usr/lib/os-release"] {
        if let Some(bytes) = fs.read(file) {
            let fields = parse_os_release(&String::from_utf8_lossy(bytes));
            let get = |k: &str| {
                fields
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
                    .filter(|v| !v.is_empty())
            };
            let Some(id) = get("ID") else { continue };
            let id = id.to_ascii_lowercase();
            let mut version_id = get("VERSION_ID");
            // Debian testing/sid have no VERSION_ID; debian_version holds e.g. "trixie/sid".
            if version_id.is_none() && id == "debian" {
                version_id = debian_version(fs)
                    .filter(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
                    .map(|v| major(&v));
            }
            let pretty_name = get("PRETTY_NAME").unwrap_or_else(|| {
                format!(
                    "{} {}",
                    get("NAME").unwrap_or_else(|| id.clone()),
                    version_id.clone().unwrap_or_default()
                )
                .trim()
                .to_string()
            });
            return Some(OsInfo {
                id,
                version_id,
                codename: get("VERSION_CODENAME"),
                pretty_name,
                id_like: get("ID_LIKE")
                    .map(|s| s.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default(),
                source_file: file.to_string(),
            });
        }
    }
    if let Some(bytes) = fs.read("etc/alpine-release") {
        let v = String::from_utf8_lossy(bytes).trim().to_string();
        return Some(OsInfo {
            id: "alpine".into(),
            pretty_name: format!("Alpine Linux v{v}"),
            version_id: Some(v),
            codename: None,
            id_like: Vec::new(),
            source_file: "etc/alpine-release".into(),
        });
    }
    if let Some(v) = debian_version(fs) {
        let numeric = v.chars().next().is_some_and(|c| c.is_ascii_digit());
        return Some(OsInfo {
            id: "debian".into(),
            pretty_name: format!("Debian GNU/Linux {v}"),
            version_id: numeric.then(|| major(&v)),
            codename: (!numeric).then(|| v.split('/').next().unwrap_or(&v).to_string()),
            id_like: Vec::new(),
            source_file: "etc/debian_version".into(),
        });
    }
    if let Some(bytes) = fs.read("etc/redhat-release") {
        let text = String::from_utf8_lossy(bytes).trim().to_string();
        return Some(redhat_release(&text));
    }
    None
}

fn debian_version(fs: &ImageFs) -> Option<String> {
    fs.read("etc/debian_version")
        .map(|b| String::from_utf8_lossy(b).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn major(v: &str) -> String {
    v.split('.').next().unwrap_or(v).to_string()
}

/// Parses a `redhat-release` line such as `Red Hat Enterprise Linux release 8.9 (Ootpa)` or
/// `CentOS Linux release 7.9.2009 (Core)`.
fn redhat_release(text: &str) -> OsInfo {
    let lower = text.to_ascii_lowercase();
    let id = if lower.starts_with("centos") {
        "centos"
    } else if lower.starts_with("fedora") {
        "fedora"
    } else if lower.starts_with("rocky") {
        "rocky"
    } else if lower.starts_with("almalinux") {
        "almalinux"
    } else {
        "rhel"
    };
    let version_id = text
        .split(" release ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string);
    OsInfo {
        id: id.to_string(),
        version_id,
        codename: None,
        pretty_name: text.to_string(),
        id_like: Vec::new(),
        source_file: "etc/redhat-release".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_os_release() {
        let f = parse_os_release(
            "# c\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
        );
        assert_eq!(f[0], ("ID".into(), "alpine".into()));
        assert_eq!(f[2].1, "Alpine Linux v3.19");
    }

    #[test]
    fn redhat_release_lines() {
        let os = redhat_release("CentOS Linux release 7.9.2009 (Core)");
        assert_eq!(os.id, "centos");
        assert_eq!(os.version_id.as_deref(), Some("7.9.2009"));
    }

    #[test]
    fn alpine_release_is_major_minor() {
        let os = OsInfo {
            id: "alpine".into(),
            version_id: Some("3.19.1".into()),
            codename: None,
            pretty_name: String::new(),
            id_like: vec![],
            source_file: String::new(),
        };
        assert_eq!(os.release().as_deref(), Some("3.19"));
        assert_eq!(os.purl_distro().as_deref(), Some("alpine-3.19.1"));
    }
}
