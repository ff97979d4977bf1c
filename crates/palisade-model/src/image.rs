//! Container image references, parsed and normalized as the Docker/OCI distribution reference
//! grammar defines them: `[registry/]repository[:tag][@algorithm:hex]`.
//!
//! The first path component is a registry when it contains `.` or `:` or is `localhost`;
//! otherwise the registry is Docker Hub (`docker.io`), where one-component names live under
//! `library/`. A reference with neither tag nor digest means tag `latest`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The default registry for references without one.
pub const DOCKER_HUB: &str = "docker.io";

/// A parsed, normalized image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ImageRef {
    /// Registry host (and port), e.g. `docker.io`, `ghcr.io`, `localhost:5000`.
    pub registry: String,
    /// Repository path, e.g. `library/nginx`.
    pub repository: String,
    /// Tag as written, if any.
    pub tag: Option<String>,
    /// Digest as written (`sha256:…`), if any.
    pub digest: Option<String>,
}

/// Why an image reference could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference {reference:?}: {reason}")]
pub struct ImageRefError {
    /// The reference as written.
    pub reference: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl ImageRef {
    /// Parses and normalizes a reference (`nginx` → `docker.io/library/nginx`, tag `latest`
    /// implied but not stored: see [`ImageRef::effective_tag`]).
    pub fn parse(reference: &str) -> Result<ImageRef, ImageRefError> {
        let err = |reason| ImageRefError {
            reference: reference.to_string(),
            reason,
        };
        let s = reference.trim();
        if s.is_empty() {
            return Err(err("empty"));
        }
        if s.len() > 4096 {
            return Err(err("longer than 4096 characters"));
        }
        let (name_tag, digest) = match s.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (s, None),
        };
        if let Some(d) = digest {
            validate_digest(d).map_err(err)?;
        }
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_tag[..last_slash + i],
                Some(&name_tag[last_slash + i + 1..]),
            ),
            None => (name_tag, None),
        };
        if let Some(t) = tag {
            validate_tag(t).map_err(err)?;
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), rest.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        if registry.is_empty() {
            return Err(err("empty registry"));
        }
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
            _ => registry,
        };
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        validate_repository(&repository).map_err(err)?;
        Ok(ImageRef {
            registry,
            repository,
            tag: tag.map(str::to_string),
            digest: digest.map(str::to_string),
        })
    }

    /// The tag that is pulled: the written tag, or `latest` when neither tag nor digest is given.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }

    /// `registry/repository` without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Whether the reference pins content by digest.
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some()
    }
}

impl fmt::Display for ImageRef {
    /// The fully qualified form, e.g. `docker.io/library/nginx:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = self.effective_tag() {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn validate_digest(d: &str) -> Result<(), &'static str> {
    let (alg, hex) = d.split_once(':').ok_or("digest lacks an algorithm")?;
    if alg.is_empty()
        || !alg
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
    {
        return Err("invalid digest algorithm");
    }
    if hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("invalid digest hex");
    }
    if alg == "sha256" && hex.len() != 64 {
        return Err("sha256 digest must have 64 hex digits");
    }
    Ok(())
}

fn validate_tag(t: &str) -> Result<(), &'static str> {
    let mut chars = t.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if !first_ok || t.len() > 128 || !chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err("invalid tag");
    }
    Ok(())
}

fn validate_repository(r: &str) -> Result<(), &'static str> {
    if r.is_empty() {
        return Err("empty repository");
    }
    for component in r.split('/') {
        let ok = !component.is_empty()
            && component
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && component
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && component
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(
                "repository path components must be lowercase alphanumerics separated by '.', '_' or '-'",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_defaults() {
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/nginx");
        assert_eq!(r.tag, None);
        assert_eq!(r.effective_tag(), Some("latest"));
        assert_eq!(r.to_string(), "docker.io/library/nginx:latest");
        let r = ImageRef::parse("bitnami/redis:7.2").unwrap();
        assert_eq!(r.to_string(), "docker.io/bitnami/redis:7.2");
        let r = ImageRef::parse("index.docker.io/library/alpine:3.19").unwrap();
        assert_eq!(r.registry, "docker.io");
    }

    #[test]
    fn registries_with_ports_and_localhost() {
        let r = ImageRef::parse("localhost:5000/team/app:v1").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        let r = ImageRef::parse("localhost/app").unwrap();
        assert_eq!(r.registry, "localhost");
        let r = ImageRef::parse("registry.k8s.io/pause:3.9").unwrap();
        assert_eq!(r.registry, "registry.k8s.io");
        assert_eq!(r.repository, "pause");
    }

    #[test]
    fn digests() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("ghcr.io/org/app@{d}")).unwrap();
        assert!(r.is_pinned());
        assert_eq!(r.effective_tag(), None);
        let r = ImageRef::parse(&format!("ghcr.io/org/app:1.0@{d}")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.to_string(), format!("ghcr.io/org/app:1.0@{d}"));
        assert!(ImageRef::parse("app@sha256:abc").is_err());
    }

    #[test]
    fn invalid_references() {
        for bad in [
            "",
            "UPPER/case",
            "app:",
            "app:-x",
            "/app",
            "a//b",
            "app@nodigest",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
