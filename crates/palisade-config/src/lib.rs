//! `palisade.yaml`: one policy configuration shared by `palisade scan` and the admission
//! webhook, so both enforce the same thing.
//!
//! ```yaml
//! checks:
//!   skip: [PAL-036]                 # IDs or names never run
//!   only: []                        # if non-empty, run only these
//!   severity: {PAL-005: medium}     # severity overrides
//!   params:                         # template parameters replacing the built-in ones
//!     required-labels: {field: labels, keys: [owner, team]}
//! annotation_exceptions: true       # honour palisade.dev/ignore annotations
//! exceptions:
//!   - checks: [privileged-container]
//!     namespace: kube-system        # glob
//!     name: "cilium-*"              # glob
//!     kind: DaemonSet
//!     image: "quay.io/cilium/*"     # glob
//!     reason: CNI agent needs host networking (SEC-1234)
//!     expires: 2027-03-31
//! runtime_policy: runtime-policy.yaml  # or https://central/api/v1/runtime-policy?cluster=prod
//! custom_checks:                    # CEL, as in ValidatingAdmissionPolicy: true = valid
//!   - id: ACME-001
//!     title: Workloads carry a cost-center label
//!     severity: low
//!     kinds: [Deployment, StatefulSet]
//!     expression: "has(object.metadata.labels) && 'cost-center' in object.metadata.labels"
//!     message: no cost-center label
//! ```
//!
//! Unknown keys are errors: a typo must not silently disable a policy.

use std::collections::BTreeMap;

pub mod admission;
pub mod images;

pub use admission::AdmissionSection;
pub use images::{ImagesSection, KeylessRequirement, SignatureRequirement, VulnerabilityPolicy};

use std::sync::Arc;

use palisade_checks::{Catalog, CheckDef, CustomCheck, EngineOptions, Exception, ObjectPredicate};
use palisade_model::Severity;
use palisade_model::time::Date;
use serde::Deserialize;

/// Check selection and severity overrides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChecksSection {
    /// Run only these checks (IDs or names); empty = all.
    pub only: Vec<String>,
    /// Never run these checks.
    pub skip: Vec<String>,
    /// Severity overrides by check ID or name.
    pub severity: BTreeMap<String, Severity>,
    /// Template parameters replacing the built-in ones, by check ID or name (for example the
    /// keys of `required-labels`); validated against the check's template.
    pub params: BTreeMap<String, serde_json::Value>,
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Check selection.
    #[serde(default)]
    pub checks: ChecksSection,
    /// Whether `palisade.dev/ignore` annotations are honoured.
    #[serde(default = "yes")]
    pub annotation_exceptions: bool,
    /// Scoped exceptions.
    #[serde(default)]
    pub exceptions: Vec<Exception>,
    /// Custom checks in CEL.
    #[serde(default)]
    pub custom_checks: Vec<CustomCheckDecl>,
    /// Image policy (registries, pinning, signatures, vulnerabilities).
    #[serde(default)]
    pub images: ImagesSection,
    /// Admission webhook policy (modes, exemptions, break-glass).
    #[serde(default)]
    pub admission: AdmissionSection,
    /// Where the runtime policy comes from: a file (relative to the working directory) or
    /// central's `https://…/api/v1/runtime-policy?cluster=NAME`. Scan and admission read it
    /// at the edge and hand it to the engine (the runtime checks).
    #[serde(default)]
    pub runtime_policy: Option<String>,
}

/// A custom check as declared in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomCheckDecl {
    /// Stable ID (must not collide with a built-in check).
    pub id: String,
    /// Short name (defaults to the ID).
    #[serde(default)]
    pub name: Option<String>,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Kinds the check applies to (empty: all).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// CEL expression that a valid object satisfies (`object` is bound).
    pub expression: String,
    /// Message of a violation.
    pub message: String,
    /// How to fix it.
    #[serde(default)]
    pub remediation: Option<String>,
}

#[derive(Debug)]
struct Cel(palisade_cel::Expression);

impl ObjectPredicate for Cel {
    fn holds(&self, object: &serde_json::Value) -> Result<bool, String> {
        self.0.holds(object)
    }
}

fn yes() -> bool {
    true
}

impl Default for Config {
    fn default() -> Self {
        Config {
            checks: ChecksSection::default(),
            annotation_exceptions: true,
            exceptions: Vec::new(),
            custom_checks: Vec::new(),
            images: ImagesSection::default(),
            admission: AdmissionSection::default(),
            runtime_policy: None,
        }
    }
}

/// A configuration error, naming the field or entry.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not valid YAML, or a field of the wrong type or unknown.
    #[error("{0}")]
    Parse(String),
    /// A semantically invalid entry.
    #[error("{0}")]
    Invalid(String),
}

/// Names the entry and field of an expiry date that is no calendar day
/// (`exceptions[0].expires: invalid date "2027-99-99" …`), which the typed parse below could
/// only report by line and column. Documents of another shape are left to that parse.
fn check_expiry_dates(text: &str) -> Result<(), ConfigError> {
    #[derive(Deserialize)]
    struct Dates {
        #[serde(default)]
        exceptions: Vec<Expiry>,
    }
    #[derive(Deserialize)]
    struct Expiry {
        #[serde(default)]
        expires: Option<String>,
    }
    let Ok(dates) = serde_saphyr::from_str::<Dates>(text) else {
        return Ok(());
    };
    for (i, e) in dates.exceptions.iter().enumerate() {
        if let Some(text) = &e.expires {
            Date::parse(text)
                .map_err(|e| ConfigError::Invalid(format!("exceptions[{i}].expires: {e}")))?;
        }
    }
    Ok(())
}

impl Config {
    /// Parses and validates a configuration document against `catalog` (check IDs and names
    /// must exist).
    pub fn from_yaml(text: &str, catalog: &Catalog) -> Result<Config, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        check_expiry_dates(text)?;
        let config: Config =
            serde_saphyr::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate(catalog)?;
        Ok(config)
    }

    fn validate(&self, catalog: &Catalog) -> Result<(), ConfigError> {
        let custom_ids: Vec<&str> = self.custom_checks.iter().map(|c| c.id.as_str()).collect();
        let known = |id: &str| id == "*" || catalog.get(id).is_some() || custom_ids.contains(&id);
        for (i, c) in self.custom_checks.iter().enumerate() {
            if catalog.get(&c.id).is_some() || custom_ids.iter().filter(|x| **x == c.id).count() > 1
            {
                return Err(ConfigError::Invalid(format!(
                    "custom_checks[{i}]: id {:?} is already used",
                    c.id
                )));
            }
            palisade_cel::Expression::compile(&c.expression)
                .map_err(|e| ConfigError::Invalid(format!("custom_checks[{i}] ({}): {e}", c.id)))?;
        }
        for (section, list) in [
            ("checks.only", &self.checks.only),
            ("checks.skip", &self.checks.skip),
        ] {
            for id in list {
                if !known(id) {
                    return Err(ConfigError::Invalid(format!(
                        "{section}: unknown check {id:?}"
                    )));
                }
            }
        }
        let mut with_params = catalog.clone();
        for (id, params) in &self.checks.params {
            if catalog.get(id).is_none() {
                return Err(ConfigError::Invalid(format!(
                    "checks.params: unknown built-in check {id:?}"
                )));
            }
            with_params
                .set_params(id, params.clone())
                .map_err(|e| ConfigError::Invalid(format!("checks.params.{id}: {e}")))?;
        }
        for id in self.checks.severity.keys() {
            if !known(id) {
                return Err(ConfigError::Invalid(format!(
                    "checks.severity: unknown check {id:?}"
                )));
            }
        }
        self.images.validate().map_err(ConfigError::Invalid)?;
        self.admission
            .validate(&known)
            .map_err(ConfigError::Invalid)?;
        for (i, e) in self.exceptions.iter().enumerate() {
            e.validate()
                .map_err(|m| ConfigError::Invalid(format!("exceptions[{i}]: {m}")))?;
            for id in &e.checks {
                if !known(id) {
                    return Err(ConfigError::Invalid(format!(
                        "exceptions[{i}]: unknown check {id:?}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Compiles the custom checks (validated already by [`Config::from_yaml`]).
    fn custom(&self) -> Vec<CustomCheck> {
        self.custom_checks
            .iter()
            .filter_map(|c| {
                let expr = palisade_cel::Expression::compile(&c.expression).ok()?;
                Some(CustomCheck {
                    def: CheckDef {
                        id: c.id.clone(),
                        name: c.name.clone().unwrap_or_else(|| c.id.clone()),
                        title: c.title.clone(),
                        severity: c.severity,
                        category: "custom".into(),
                        rationale: format!("Custom check: {}", c.expression),
                        remediation: c.remediation.clone().unwrap_or_else(|| c.message.clone()),
                        template: "custom".into(),
                        params: serde_json::Value::Null,
                        references: Default::default(),
                        parsed_params: Default::default(),
                    },
                    kinds: c.kinds.clone(),
                    message: c.message.clone(),
                    predicate: Arc::new(Cel(expr)),
                })
            })
            .collect()
    }

    /// Engine options for this configuration; `today` enforces expiry dates.
    pub fn engine_options(&self, today: Option<Date>) -> EngineOptions {
        let mut severity_overrides = self.checks.severity.clone();
        // `images.require_digest` makes an unpinned image a high finding (PAL-036), unless
        // the check's severity is set explicitly.
        if self.images.require_digest
            && !severity_overrides.contains_key(images::DIGEST_CHECK_ID)
            && !severity_overrides.contains_key(images::DIGEST_CHECK_NAME)
        {
            severity_overrides.insert(images::DIGEST_CHECK_ID.into(), Severity::High);
        }
        EngineOptions {
            custom: self.custom(),
            annotation_exceptions: self.annotation_exceptions,
            exceptions: self.exceptions.clone(),
            today,
            only: self.checks.only.clone(),
            skip: self.checks.skip.clone(),
            severity_overrides,
            images: palisade_checks::ImagePolicy {
                allowed_registries: self.images.allowed_registries.clone(),
                require_digest: self.images.require_digest,
                forbidden_tags: self.images.forbidden_tags.clone(),
                block_fixable: self.images.vulnerabilities.block_fixable.clone(),
                notorious: self.images.vulnerabilities.notorious,
                facts: Default::default(),
            },
            // Read at the edge from `runtime_policy` and handed to the engine there.
            runtime: None,
            params: self.checks.params.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_checks::ExceptionStatus;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_yaml(text, &Catalog::builtin())
    }

    fn exception(expires: &str) -> String {
        format!("exceptions:\n- checks: [PAL-001]\n  reason: accepted\n  expires: {expires}\n")
    }

    #[test]
    fn check_params_configure_required_labels_and_are_validated() {
        let c = parse("checks:\n  params:\n    required-labels: {field: labels, keys: [owner]}\n")
            .unwrap();
        let engine = palisade_checks::Engine::new(Catalog::builtin(), c.engine_options(None));
        let inv = palisade_ingest::ingest_str(
            "a.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers: [{name: c, image: nginx}]\n",
        )
        .inventory;
        let found: Vec<String> = engine
            .run(&inv)
            .findings
            .iter()
            .filter(|f| &*f.check_id == "PAL-121")
            .map(|f| f.message.clone())
            .collect();
        assert_eq!(found, ["required labels missing or empty: owner"]);
        // Without the setting the check finds nothing.
        let default = palisade_checks::Engine::new(
            Catalog::builtin(),
            parse("").unwrap().engine_options(None),
        );
        assert!(
            !default
                .run(&inv)
                .findings
                .iter()
                .any(|f| &*f.check_id == "PAL-121")
        );
        for (bad, want) in [
            ("required-labels: {field: tags}", "labels or annotations"),
            ("required-labels: {keys: [owner]}", "field"),
            ("PAL-999: {}", "unknown built-in check"),
        ] {
            let e = parse(&format!("checks:\n  params:\n    {bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("checks.params") && e.contains(want),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn expiry_dates_are_calendar_days_named_by_field() {
        for bad in ["2027-99-99", "2027-02-30", "2027-3-31", "next week"] {
            let e = parse(&exception(bad)).unwrap_err().to_string();
            assert!(
                e.contains(&format!("exceptions[0].expires: invalid date {bad:?}")),
                "{bad}: {e}"
            );
        }
        let e = parse(&format!(
            "{}{}",
            exception("2027-03-31"),
            "- checks: [PAL-002]\n  reason: r\n  expires: \"2027-13-01\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("exceptions[1].expires: invalid date \"2027-13-01\""),
            "{e}"
        );
    }

    #[test]
    fn expiry_compares_days_not_strings() {
        let config = parse(&exception("2027-03-31")).unwrap();
        let e = &config.exceptions[0];
        let day = |s: &str| Some(Date::parse(s).unwrap());
        assert_eq!(e.status(day("2027-03-31")), ExceptionStatus::Active);
        assert_eq!(e.status(day("2027-04-01")), ExceptionStatus::Expired);
        assert_eq!(e.status(day("2026-12-31")), ExceptionStatus::Active);
        assert_eq!(e.status(None), ExceptionStatus::Active);
        assert_eq!(
            config.engine_options(day("2027-04-01")).today,
            day("2027-04-01")
        );
    }
}
