//! The `admission:` section: how the validating webhook turns findings into decisions.
//!
//! ```yaml
//! admission:
//!   modes:                            # per check ID or name: enforce | warn | audit
//!     PAL-035: warn
//!   severity_modes:                   # default mode per severity (these are the defaults)
//!     critical: enforce
//!     high: enforce
//!     medium: warn
//!     low: warn
//!     info: audit
//!   exempt_namespaces: [kube-system]  # globs
//!   exempt_labels:                    # a Kubernetes label selector over the object's labels
//!     matchLabels: {palisade.dev/exempt: "true"}
//!   break_glass_annotation: palisade.dev/break-glass
//!   allow_break_glass: true           # false: the annotation has no effect
//!   break_glass_groups: []            # if set, only requests from these groups may break glass
//! ```
//!
//! `severity_modes` entries override the defaults one severity at a time: a file that sets only
//! `critical: enforce` keeps `high: enforce`, `medium: warn`, … for the others.

use std::collections::BTreeMap;

use palisade_model::{LabelSelector, Severity};
use serde::{Deserialize, Serialize};

/// What the webhook does with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Deny the request, listing each violation and its remediation.
    Enforce,
    /// Allow, with an AdmissionReview warning.
    Warn,
    /// Allow and log.
    Audit,
}

impl Mode {
    /// Lower-case name (`enforce`, `warn`, `audit`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::Audit => "audit",
        }
    }
}

/// Admission policy.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdmissionSection {
    /// Mode per check ID or name (overrides `severity_modes`).
    pub modes: BTreeMap<String, Mode>,
    /// Mode per severity; severities not listed keep their default
    /// ([`AdmissionSection::default_severity_mode`]).
    pub severity_modes: BTreeMap<Severity, Mode>,
    /// Namespaces (globs) whose objects are admitted without evaluation.
    pub exempt_namespaces: Vec<String>,
    /// Objects whose labels this selector matches are admitted without evaluation. `None`: no
    /// label exemption (an empty selector would match every object, so it is refused).
    pub exempt_labels: Option<LabelSelector>,
    /// Annotation that admits a violating object but records the event.
    pub break_glass_annotation: String,
    /// Whether the break-glass annotation is honoured at all.
    pub allow_break_glass: bool,
    /// If non-empty, only requests whose user belongs to one of these groups may break glass;
    /// others are evaluated as if the annotation were absent (and told so in a warning).
    pub break_glass_groups: Vec<String>,
}

impl Default for AdmissionSection {
    fn default() -> Self {
        AdmissionSection {
            modes: BTreeMap::new(),
            severity_modes: Severity::ALL
                .iter()
                .map(|s| (*s, AdmissionSection::default_severity_mode(*s)))
                .collect(),
            exempt_namespaces: Vec::new(),
            exempt_labels: None,
            break_glass_annotation: "palisade.dev/break-glass".into(),
            allow_break_glass: true,
            break_glass_groups: Vec::new(),
        }
    }
}

impl AdmissionSection {
    /// The built-in mode of a severity: critical and high are enforced, medium and low warned,
    /// info audited.
    pub fn default_severity_mode(severity: Severity) -> Mode {
        match severity {
            Severity::Critical | Severity::High => Mode::Enforce,
            Severity::Medium | Severity::Low => Mode::Warn,
            Severity::Info => Mode::Audit,
        }
    }

    /// The mode for a finding of check `id` (also known as `name`) at `severity`: a per-check
    /// mode wins, then the configured severity mode, then the built-in one.
    pub fn mode_for(&self, id: &str, name: &str, severity: Severity) -> Mode {
        self.modes
            .get(id)
            .or_else(|| self.modes.get(name))
            .or_else(|| self.severity_modes.get(&severity))
            .copied()
            .unwrap_or_else(|| AdmissionSection::default_severity_mode(severity))
    }

    /// Validates check references with `known` (true for a known check ID or name) and the
    /// exemptions; messages name the field.
    pub fn validate(&self, known: &dyn Fn(&str) -> bool) -> Result<(), String> {
        for id in self.modes.keys() {
            if id == "*" || !known(id) {
                return Err(format!("admission.modes: unknown check {id:?}"));
            }
        }
        if self.break_glass_annotation.trim().is_empty() {
            return Err("admission.break_glass_annotation: must not be empty".into());
        }
        if !is_qualified_name(&self.break_glass_annotation) {
            return Err(format!(
                "admission.break_glass_annotation: {:?} is not a valid annotation key \
                 ([prefix/]name, name at most 63 characters of [A-Za-z0-9._-])",
                self.break_glass_annotation
            ));
        }
        for (i, ns) in self.exempt_namespaces.iter().enumerate() {
            if ns.trim().is_empty() {
                return Err(format!(
                    "admission.exempt_namespaces[{i}]: must not be empty"
                ));
            }
            // The same glob dialect as exception scopes; their validation reports a bad pattern.
            let probe = palisade_checks::Exception {
                checks: vec!["*".into()],
                namespace: Some(ns.clone()),
                name: None,
                kind: None,
                image: None,
                reason: "glob check".into(),
                expires: None,
            };
            probe
                .validate()
                .map_err(|e| format!("admission.exempt_namespaces[{i}]: {e}"))?;
        }
        if let Some(selector) = &self.exempt_labels {
            if selector.is_empty() {
                return Err(
                    "admission.exempt_labels: an empty selector would exempt every \
                            object; give matchLabels or matchExpressions, or remove the field"
                        .into(),
                );
            }
            selector
                .validate()
                .map_err(|e| format!("admission.exempt_labels: {e}"))?;
        }
        for (i, g) in self.break_glass_groups.iter().enumerate() {
            if g.trim().is_empty() {
                return Err(format!(
                    "admission.break_glass_groups[{i}]: must not be empty"
                ));
            }
        }
        Ok(())
    }
}

/// Whether `key` is a Kubernetes qualified name (`[prefix/]name`), as annotation keys must be.
fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric();
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            })
    });
    name_ok && prefix_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<AdmissionSection, String> {
        let section: AdmissionSection = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
        section.validate(&|id| id.starts_with("PAL-") || id == "privileged-container")?;
        Ok(section)
    }

    #[test]
    fn defaults_enforce_high_and_critical_and_warn_the_rest() {
        let s = AdmissionSection::default();
        assert_eq!(
            s.mode_for("PAL-001", "x", Severity::Critical),
            Mode::Enforce
        );
        assert_eq!(s.mode_for("PAL-001", "x", Severity::High), Mode::Enforce);
        assert_eq!(s.mode_for("PAL-001", "x", Severity::Medium), Mode::Warn);
        assert_eq!(s.mode_for("PAL-001", "x", Severity::Low), Mode::Warn);
        assert_eq!(s.mode_for("PAL-001", "x", Severity::Info), Mode::Audit);
        assert!(s.allow_break_glass);
        assert!(s.exempt_labels.is_none());
        assert_eq!(s.validate(&|_| true), Ok(()));
    }

    #[test]
    fn per_check_mode_by_id_or_name_beats_severity() {
        let s = parse("modes: {privileged-container: audit, PAL-035: enforce}").unwrap();
        assert_eq!(
            s.mode_for("PAL-001", "privileged-container", Severity::Critical),
            Mode::Audit
        );
        assert_eq!(
            s.mode_for("PAL-035", "image-latest-tag", Severity::Medium),
            Mode::Enforce
        );
    }

    #[test]
    fn partial_severity_modes_keep_the_other_defaults() {
        let s = parse("severity_modes: {medium: enforce}").unwrap();
        assert_eq!(s.mode_for("X", "x", Severity::Medium), Mode::Enforce);
        assert_eq!(s.mode_for("X", "x", Severity::High), Mode::Enforce);
        assert_eq!(s.mode_for("X", "x", Severity::Low), Mode::Warn);
        assert_eq!(s.mode_for("X", "x", Severity::Info), Mode::Audit);
    }

    #[test]
    fn exempt_labels_is_a_label_selector() {
        let s = parse(
            "exempt_labels:\n  matchExpressions:\n  - {key: tier, operator: In, values: [system]}\n",
        )
        .unwrap();
        let sel = s.exempt_labels.unwrap();
        let labels = palisade_model::Labels::from([("tier".to_string(), "system".to_string())]);
        assert_eq!(sel.matches(&labels), Ok(true));
        assert_eq!(sel.matches(&palisade_model::Labels::new()), Ok(false));
    }

    #[test]
    fn invalid_entries_are_named() {
        let e = parse("modes: {PAL-999x: warn, nope: warn}").unwrap_err();
        assert!(e.contains("admission.modes") && e.contains("nope"), "{e}");
        let e = parse("modes: {PAL-001: block}").unwrap_err();
        assert!(e.contains("block"), "{e}");
        let e = parse("exempt_labels: {}").unwrap_err();
        assert!(e.contains("admission.exempt_labels"), "{e}");
        let e =
            parse("exempt_labels:\n  matchExpressions: [{key: a, operator: Near}]").unwrap_err();
        assert!(
            e.contains("admission.exempt_labels") && e.contains("Near"),
            "{e}"
        );
        let e = parse("exempt_namespaces: ['team-[']").unwrap_err();
        assert!(e.contains("admission.exempt_namespaces[0]"), "{e}");
        let e = parse("break_glass_annotation: 'has space'").unwrap_err();
        assert!(e.contains("admission.break_glass_annotation"), "{e}");
        let e = parse("break_glass_annotation: 'Example.com/x'").unwrap_err();
        assert!(e.contains("admission.break_glass_annotation"), "{e}");
        let e = parse("exempt_namespace: [a]").unwrap_err();
        assert!(e.contains("exempt_namespace"), "{e}");
        assert!(parse("break_glass_annotation: example.com/emergency_override.v1").is_ok());
    }

    #[test]
    fn qualified_names_follow_the_kubernetes_rules() {
        assert!(is_qualified_name("palisade.dev/break-glass"));
        assert!(is_qualified_name("break-glass"));
        assert!(!is_qualified_name("/break-glass"));
        assert!(!is_qualified_name("palisade.dev/"));
        assert!(!is_qualified_name("-x"));
        assert!(!is_qualified_name(&"a".repeat(64)));
        assert!(!is_qualified_name("a/b/c"));
    }
}
