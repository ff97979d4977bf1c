//! Findings: what analyzers report, as plain values. Sinks turn them into output formats.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::meta::ObjectRef;

/// Severity of a finding, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Severity {
    /// Informational: worth knowing, not a weakness by itself.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// Lower-case name (`high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown severity name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {0:?} (expected info, low, medium, high or critical)")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" | "informational" | "none" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" | "moderate" => Ok(Severity::Medium),
            "high" | "important" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(UnknownSeverity(s.to_string())),
        }
    }
}

/// One finding about one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable check ID (e.g. `PAL-001`). Shared by every finding of the check.
    pub check_id: Arc<str>,
    /// Severity.
    pub severity: Severity,
    /// Short title of the check (shared).
    pub title: Arc<str>,
    /// What was found on this object, in one sentence. Never contains secret values.
    pub message: String,
    /// How to fix it (shared).
    pub remediation: Arc<str>,
    /// The object (shared by the findings about it).
    pub object: Arc<ObjectRef>,
    /// The container concerned, when the finding is about one container (shared: one check's
    /// findings on containers of one name share it).
    pub container: Option<Arc<str>>,
    /// The field path concerned (e.g. `spec.template.spec.containers[0].securityContext`);
    /// shared: a check's findings repeat few distinct paths, so each is held once.
    pub path: Option<Arc<str>>,
}

impl Finding {
    /// A key that identifies the same finding across runs (used by baselines): check, object
    /// kind/namespace/name, container and path, but not file or line.
    pub fn fingerprint(&self) -> String {
        self.fingerprint_display().to_string()
    }

    /// [`Finding::fingerprint`] as a value that writes itself, for sinks that stream it out
    /// without building the string.
    pub fn fingerprint_display(&self) -> impl fmt::Display + '_ {
        Fingerprint(self)
    }

    /// Orders two findings as their [`Finding::fingerprint`]s order as texts, without
    /// building them.
    pub fn cmp_fingerprint(&self, other: &Finding) -> std::cmp::Ordering {
        self.fingerprint_bytes().cmp(other.fingerprint_bytes())
    }

    /// What separates the parts of a [`Finding::fingerprint`].
    pub const FINGERPRINT_SEPARATOR: &'static str = "|";

    /// What [`Finding::fingerprint`] joins with [`Finding::FINGERPRINT_SEPARATOR`]: check,
    /// object kind, namespace and name, container, path.
    pub fn fingerprint_parts(&self) -> [&str; 6] {
        [
            &self.check_id,
            &self.object.kind,
            self.object.namespace.as_deref().unwrap_or(""),
            &self.object.name,
            self.container.as_deref().unwrap_or(""),
            self.path.as_deref().unwrap_or(""),
        ]
    }

    /// The bytes of [`Finding::fingerprint`], one at a time.
    fn fingerprint_bytes(&self) -> impl Iterator<Item = u8> + '_ {
        let parts = self.fingerprint_parts();
        parts.into_iter().enumerate().flat_map(|(i, part)| {
            let separator = if i > 0 {
                Self::FINGERPRINT_SEPARATOR
            } else {
                ""
            };
            separator.bytes().chain(part.bytes())
        })
    }
}

/// Writes a finding's fingerprint.
struct Fingerprint<'a>(&'a Finding);

impl fmt::Display for Fingerprint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.0.fingerprint_parts().into_iter().enumerate() {
            if i > 0 {
                f.write_str(Finding::FINGERPRINT_SEPARATOR)?;
            }
            f.write_str(part)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(check: &str, namespace: Option<&str>, container: Option<&str>) -> Finding {
        Finding {
            check_id: check.into(),
            severity: Severity::High,
            title: "t".into(),
            message: "m".into(),
            remediation: "r".into(),
            object: Arc::new(ObjectRef {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: namespace.map(String::from),
                name: "p".into(),
                source: crate::meta::SourceLocation::new("f.yaml", 1),
            }),
            container: container.map(Arc::from),
            path: None,
        }
    }

    #[test]
    fn fingerprints_compare_as_their_texts() {
        // `PAL-10|…` sorts before `PAL-1|…` as text ('0' < '|'), unlike the check ids alone.
        let cases = [
            finding("PAL-1", Some("a"), None),
            finding("PAL-10", Some("a"), None),
            finding("PAL-1", None, None),
            finding("PAL-1", Some("a"), Some("c")),
            finding("PAL-1", Some("a|b"), None),
            finding("PAL-1", Some("ab"), Some("")),
        ];
        for a in &cases {
            for b in &cases {
                assert_eq!(
                    a.cmp_fingerprint(b),
                    a.fingerprint().cmp(&b.fingerprint()),
                    "{} against {}",
                    a.fingerprint(),
                    b.fingerprint()
                );
            }
        }
    }

    #[test]
    fn severity_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Info < Severity::Low);
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!("urgent".parse::<Severity>().is_err());
    }
}
