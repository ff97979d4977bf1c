//! Identity policy for keyless signatures: the certificate's identity (a SAN URI or email),
//! exact or by regular expression, and its OIDC issuer.

use regex::Regex;

use crate::sigstore::cert::Leaf;

/// An exact string or a regular expression (anchored: it must match the whole value).
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Equal to.
    Exact(String),
    /// Matches.
    Regex(Regex),
}

impl Matcher {
    /// A matcher for the regular expression `re`, anchored at both ends.
    pub fn regex(re: &str) -> Result<Matcher, String> {
        Regex::new(&format!("^(?:{re})$"))
            .map(Matcher::Regex)
            .map_err(|e| format!("invalid regular expression {re:?}: {e}"))
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(s) => s == value,
            Matcher::Regex(r) => r.is_match(value),
        }
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Matcher::Exact(s) => write!(f, "{s:?}"),
            Matcher::Regex(r) => write!(f, "/{}/", r.as_str()),
        }
    }
}

/// Who must have signed: identity and OIDC issuer.
#[derive(Debug, Clone)]
pub struct IdentityPolicy {
    /// The certificate identity.
    pub identity: Matcher,
    /// The OIDC issuer.
    pub issuer: Matcher,
}

impl IdentityPolicy {
    /// Checks the leaf's identity and issuer.
    pub fn check(&self, leaf: &Leaf) -> Result<(), String> {
        if !leaf.identities().any(|id| self.identity.matches(id)) {
            let found: Vec<&str> = leaf.identities().collect();
            return Err(format!(
                "certificate identity {} does not match {}",
                if found.is_empty() {
                    "(none)".to_string()
                } else {
                    found.join(", ")
                },
                self.identity
            ));
        }
        match &leaf.issuer {
            Some(iss) if self.issuer.matches(iss) => Ok(()),
            Some(iss) => Err(format!(
                "certificate OIDC issuer {iss:?} does not match {}",
                self.issuer
            )),
            None => Err("certificate has no OIDC issuer extension".into()),
        }
    }
}
