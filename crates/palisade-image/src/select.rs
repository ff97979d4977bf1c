//! Which files' contents are kept while streaming: only what the inventory parsers, OS
//! detection and secret-file checks read. Everything else is listed (path, type, size) but its
//! bytes are skipped.

/// What to do with a regular file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Keep the raw bytes in memory.
    Keep,
    /// Keep the raw bytes, and also snapshot them per layer (package databases).
    KeepDatabase,
    /// Read the bytes and analyse them on the spot (Java archives); keep only the packages.
    AnalyzeArchive,
    /// If it starts with the ELF magic, read and analyse it (Go build info, cargo-auditable);
    /// keep only the packages.
    ProbeExecutable,
    /// Skip the bytes.
    Skip,
}

/// Largest candidate secret file whose content is kept.
pub const MAX_SECRET_CANDIDATE: u64 = 1 << 20;
/// Largest metadata/manifest file (package.json, METADATA, Cargo.lock, os-release…) kept.
pub const MAX_METADATA_FILE: u64 = 16 << 20;

/// The package databases whose per-layer versions are kept.
pub fn is_package_database(path: &str) -> bool {
    matches!(
        path,
        "var/lib/dpkg/status"
            | "lib/apk/db/installed"
            | "var/lib/rpm/rpmdb.sqlite"
            | "usr/lib/sysimage/rpm/rpmdb.sqlite"
            | "usr/share/rpm/rpmdb.sqlite"
    )
}

/// Paths read for OS detection.
pub const OS_RELEASE_FILES: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    "etc/redhat-release",
    "etc/lsb-release",
    "etc/passwd",
];

/// Decides what to keep of a regular file at normalised `path` with permission `mode` and
/// `size` bytes.
pub fn interest(path: &str, mode: u32, size: u64) -> Interest {
    if is_package_database(path) {
        return Interest::KeepDatabase;
    }
    let name = crate::vpath::file_name(path);
    if size <= MAX_METADATA_FILE && is_metadata_file(path, name) {
        return Interest::Keep;
    }
    if size <= MAX_SECRET_CANDIDATE && is_secret_candidate(path, name) {
        return Interest::Keep;
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".jar") || lower.ends_with(".war") || lower.ends_with(".ear") {
        return Interest::AnalyzeArchive;
    }
    if mode & 0o111 != 0 && size >= 64 {
        return Interest::ProbeExecutable;
    }
    Interest::Skip
}

fn is_metadata_file(path: &str, name: &str) -> bool {
    if OS_RELEASE_FILES.contains(&path) {
        return true;
    }
    if path.starts_with("var/lib/dpkg/status.d/") {
        return true;
    }
    let parent = crate::vpath::parent(path);
    match name {
        "METADATA" => parent.ends_with(".dist-info"),
        "PKG-INFO" => parent.ends_with(".egg-info"),
        "package.json" => is_node_module_dir(parent),
        "package-lock.json" | "Cargo.lock" => true,
        _ => name.ends_with(".egg-info") && parent.contains("-packages"),
    }
}

/// `…/node_modules/<name>` or `…/node_modules/@scope/<name>`.
fn is_node_module_dir(dir: &str) -> bool {
    let parent = crate::vpath::parent(dir);
    let grand = crate::vpath::parent(parent);
    crate::vpath::file_name(parent) == "node_modules"
        || (crate::vpath::file_name(parent).starts_with('@')
            && crate::vpath::file_name(grand) == "node_modules")
}

/// Files that commonly hold credentials or private keys.
pub fn is_secret_candidate(path: &str, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("id_rsa")
        || lower.starts_with("id_dsa")
        || lower.starts_with("id_ecdsa")
        || lower.starts_with("id_ed25519")
    {
        return !lower.ends_with(".pub");
    }
    if lower.ends_with(".pem")
        || lower.ends_with(".key")
        || lower.ends_with(".p12")
        || lower.ends_with(".pfx")
        || lower.ends_with(".ppk")
    {
        return true;
    }
    matches!(
        lower.as_str(),
        ".git-credentials"
            | ".netrc"
            | ".npmrc"
            | ".pypirc"
            | ".pgpass"
            | ".env"
            | "credentials"
            | "credentials.json"
            | "application_default_credentials.json"
            | "config.json"
            | "kubeconfig"
    ) && (lower != "config.json" || path.contains(".docker/"))
        && (lower != "credentials" || path.contains(".aws/") || path.contains(".gcloud"))
        || (lower == "config" && path.contains(".kube/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_only_what_analysers_read() {
        assert_eq!(
            interest("var/lib/dpkg/status", 0o644, 10),
            Interest::KeepDatabase
        );
        assert_eq!(interest("etc/os-release", 0o644, 10), Interest::Keep);
        assert_eq!(
            interest(
                "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                0o644,
                10
            ),
            Interest::Keep
        );
        assert_eq!(
            interest("app/node_modules/@types/node/package.json", 0o644, 10),
            Interest::Keep
        );
        assert_eq!(
            interest("app/node_modules/a/b/package.json", 0o644, 10),
            Interest::Skip
        );
        assert_eq!(interest("root/.ssh/id_rsa", 0o600, 10), Interest::Keep);
        assert_eq!(interest("root/.ssh/id_rsa.pub", 0o644, 10), Interest::Skip);
        assert_eq!(interest("root/.aws/credentials", 0o600, 10), Interest::Keep);
        assert_eq!(interest("etc/config.json", 0o600, 10), Interest::Skip);
        assert_eq!(
            interest("opt/app.jar", 0o644, 10_000),
            Interest::AnalyzeArchive
        );
        assert_eq!(
            interest("usr/bin/app", 0o755, 10_000),
            Interest::ProbeExecutable
        );
        assert_eq!(interest("usr/share/doc/x", 0o644, 10_000), Interest::Skip);
    }
}
