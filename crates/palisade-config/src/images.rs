//! The `images:` section: where images may come from, how they must be referenced, whose
//! signatures they need and which vulnerabilities block them.
//!
//! ```yaml
//! images:
//!   allowed_registries: ["registry.example.com/*", "ghcr.io/acme/*"]  # globs over registry/repository
//!   require_digest: true            # every image pinned by @sha256:…
//!   forbidden_tags: [latest, main]  # mutable tags refused
//!   signatures:                     # cosign signatures required per image glob
//!     - images: "registry.example.com/payments/*"
//!       keys: [keys/payments.pub]   # PEM files (relative to the config file) or inline PEM
//!     - images: "ghcr.io/acme/*"      # keyless (Sigstore): a Fulcio certificate of this identity
//!       keyless: {identity_regexp: "https://github.com/acme/.*", issuer: "https://token.actions.githubusercontent.com"}
//!   trusted_root: sigstore/trusted_root.json  # for keyless entries; default: the built-in public-good root
//!   vulnerabilities:
//!     block_fixable: [critical, high]  # fixable vulnerabilities at these severities fail
//!     notorious: true                  # the notorious-CVE list always fails
//! ```

use palisade_model::Severity;
use serde::Deserialize;

/// The check that reports images not pinned by digest (`require_digest` raises it to high).
pub const DIGEST_CHECK_ID: &str = "PAL-036";
/// Its name.
pub const DIGEST_CHECK_NAME: &str = "image-not-pinned";

/// Image policy shared by `palisade scan`, `palisade image verify` and the admission webhook.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ImagesSection {
    /// Globs over `registry/repository` (Docker Hub names normalized, e.g.
    /// `docker.io/library/nginx`); empty = any registry.
    pub allowed_registries: Vec<String>,
    /// Whether every image must be pinned by digest.
    pub require_digest: bool,
    /// Tags that are never acceptable.
    pub forbidden_tags: Vec<String>,
    /// Signature requirements.
    pub signatures: Vec<SignatureRequirement>,
    /// Sigstore trusted root (`trusted_root.json`, relative to the configuration file) for
    /// `keyless` requirements; the built-in public-good root when absent.
    pub trusted_root: Option<String>,
    /// Vulnerability policy.
    pub vulnerabilities: VulnerabilityPolicy,
}

impl Default for ImagesSection {
    fn default() -> Self {
        ImagesSection {
            allowed_registries: Vec::new(),
            require_digest: false,
            forbidden_tags: vec!["latest".into()],
            signatures: Vec::new(),
            trusted_root: None,
            vulnerabilities: VulnerabilityPolicy::default(),
        }
    }
}

/// Images matching `images` must carry a cosign signature made with one of `keys`, or a
/// keyless Sigstore signature by the `keyless` identity.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SignatureRequirement {
    /// Glob over `registry/repository`.
    pub images: String,
    /// Public keys: a path to a PEM file (relative to the configuration file) or PEM text.
    #[serde(default)]
    pub keys: Vec<String>,
    /// A keyless (Fulcio certificate) signer.
    #[serde(default)]
    pub keyless: Option<KeylessRequirement>,
}

/// Who must have signed keylessly: the certificate identity (SAN URI or email; exact, or a
/// regular expression over the whole value) and the OIDC issuer.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeylessRequirement {
    /// The exact identity.
    #[serde(default)]
    pub identity: Option<String>,
    /// A regular expression the identity must match (whole value).
    #[serde(default)]
    pub identity_regexp: Option<String>,
    /// The exact OIDC issuer.
    pub issuer: String,
}

/// Which vulnerabilities block an image.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VulnerabilityPolicy {
    /// Fixable vulnerabilities at these severities fail.
    pub block_fixable: Vec<Severity>,
    /// Whether vulnerabilities on the notorious list always fail.
    pub notorious: bool,
}

impl Default for VulnerabilityPolicy {
    fn default() -> Self {
        VulnerabilityPolicy {
            block_fixable: vec![Severity::Critical, Severity::High],
            notorious: true,
        }
    }
}

impl ImagesSection {
    /// Checks globs and keys for obvious mistakes; the message names the entry.
    pub fn validate(&self) -> Result<(), String> {
        for (i, g) in self.allowed_registries.iter().enumerate() {
            if g.trim().is_empty() {
                return Err(format!("images.allowed_registries[{i}]: empty pattern"));
            }
        }
        for (i, s) in self.signatures.iter().enumerate() {
            if s.images.trim().is_empty() {
                return Err(format!("images.signatures[{i}].images: empty pattern"));
            }
            if s.keys.is_empty() && s.keyless.is_none() {
                return Err(format!(
                    "images.signatures[{i}].keys: at least one key is required (or keyless)"
                ));
            }
            if let Some(k) = &s.keyless {
                if k.identity.is_some() == k.identity_regexp.is_some() {
                    return Err(format!(
                        "images.signatures[{i}].keyless: give exactly one of identity and identity_regexp"
                    ));
                }
                if k.issuer.trim().is_empty() {
                    return Err(format!("images.signatures[{i}].keyless.issuer: empty"));
                }
            }
        }
        Ok(())
    }

    /// The signature requirement that applies to `name` (`registry/repository`): the first
    /// entry whose glob matches.
    pub fn signature_requirement(&self, name: &str) -> Option<&SignatureRequirement> {
        self.signatures
            .iter()
            .find(|s| palisade_checks::glob_match(&s.images, name))
    }
}

#[cfg(test)]
mod tests {
    use palisade_checks::Catalog;
    use palisade_model::Severity;

    use crate::Config;

    fn config(yaml: &str) -> Result<Config, String> {
        Config::from_yaml(yaml, &Catalog::builtin()).map_err(|e| e.to_string())
    }

    #[test]
    fn the_images_section_feeds_the_engine() {
        let c = config(
            "images:\n  allowed_registries: [\"registry.example.com/*\"]\n  require_digest: true\n  forbidden_tags: [latest, main]\n  signatures:\n    - images: \"registry.example.com/pay/*\"\n      keys: [keys/pay.pub]\n  vulnerabilities:\n    block_fixable: [critical]\n    notorious: false\n",
        )
        .unwrap();
        let o = c.engine_options(None);
        assert_eq!(o.images.allowed_registries, ["registry.example.com/*"]);
        assert_eq!(o.images.forbidden_tags, ["latest", "main"]);
        assert_eq!(o.images.block_fixable, [Severity::Critical]);
        assert!(!o.images.notorious);
        assert_eq!(o.severity_overrides.get("PAL-036"), Some(&Severity::High));
        let req = c
            .images
            .signature_requirement("registry.example.com/pay/api")
            .unwrap();
        assert_eq!(req.keys, ["keys/pay.pub"]);
        assert!(
            c.images
                .signature_requirement("registry.example.com/shop/api")
                .is_none()
        );
    }

    #[test]
    fn an_explicit_severity_wins_over_require_digest() {
        let c = config(
            "checks:\n  severity: {image-not-pinned: medium}\nimages:\n  require_digest: true\n",
        )
        .unwrap();
        let o = c.engine_options(None);
        assert_eq!(
            o.severity_overrides.get("image-not-pinned"),
            Some(&Severity::Medium)
        );
        assert!(!o.severity_overrides.contains_key("PAL-036"));
        // Defaults: latest forbidden, critical and high fixable vulnerabilities block.
        let d = config("").unwrap().engine_options(None);
        assert_eq!(d.images.forbidden_tags, ["latest"]);
        assert_eq!(d.images.block_fixable, [Severity::Critical, Severity::High]);
        assert!(d.severity_overrides.is_empty());
    }

    #[test]
    fn mistakes_in_the_images_section_are_named() {
        let e =
            config("images:\n  signatures:\n    - images: \"r/*\"\n      keys: []\n").unwrap_err();
        assert!(e.contains("images.signatures[0].keys"), "{e}");
        let ok = config(
            "images:\n  signatures:\n    - images: \"r/*\"\n      keyless:\n        identity_regexp: \"https://github.com/org/.*\"\n        issuer: https://token.actions.githubusercontent.com\n",
        )
        .unwrap();
        let req = ok.images.signature_requirement("r/app").unwrap();
        assert!(req.keys.is_empty());
        assert_eq!(
            req.keyless.as_ref().unwrap().identity_regexp.as_deref(),
            Some("https://github.com/org/.*")
        );
        let both = config(
            "images:\n  signatures:\n    - images: \"r/*\"\n      keyless: {identity: a, identity_regexp: b, issuer: c}\n",
        )
        .unwrap_err();
        assert!(
            both.contains("exactly one of identity and identity_regexp"),
            "{both}"
        );
        let e = config("images:\n  allowed_registries: [\" \"]\n").unwrap_err();
        assert!(e.contains("images.allowed_registries[0]"), "{e}");
        let e = config("images:\n  allowed_registry: [x]\n").unwrap_err();
        assert!(e.contains("allowed_registry"), "{e}");
    }
}
