//! The check catalog: check definitions as data.

use std::collections::{BTreeMap, HashSet};

use palisade_model::Severity;
use serde::{Deserialize, Serialize};

pub use crate::references::References;

/// The built-in catalog, embedded at build time.
const BUILTIN: &str = include_str!("../catalog.yaml");

/// One check definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckDef {
    /// Stable ID (`PAL-001`); never reused for another meaning.
    pub id: String,
    /// Stable short name (`privileged-container`), accepted wherever the ID is.
    pub name: String,
    /// One-line title.
    pub title: String,
    /// Default severity.
    pub severity: Severity,
    /// Category (workload security, image, network, rbac, …).
    pub category: String,
    /// Why it matters, including any semantic choice made where tools disagree.
    pub rationale: String,
    /// How to fix it.
    pub remediation: String,
    /// Template that evaluates it.
    pub template: String,
    /// Template parameters.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub params: serde_json::Value,
    /// Cross-references.
    #[serde(default)]
    pub references: References,
    /// The parameters parsed once into their template's type (filled on first use; start
    /// with `Default::default()`).
    #[serde(skip)]
    pub parsed_params: ParsedParams,
}

/// A cache of a check's parameters in their template's type, shared by clones of the check.
/// Templates run on every scan and every admission review; parsing their parameters once
/// keeps that cost out of the per-object path.
#[derive(Clone, Default)]
pub struct ParsedParams(
    std::sync::Arc<std::sync::OnceLock<std::sync::Arc<dyn std::any::Any + Send + Sync>>>,
);

impl ParsedParams {
    /// The cached value if it has type `T`, else parses with `parse` and caches the result.
    pub(crate) fn get_or_parse<T: Send + Sync + 'static>(
        &self,
        parse: impl FnOnce() -> Result<T, String>,
    ) -> Result<std::sync::Arc<T>, String> {
        if let Some(v) = self.0.get()
            && let Ok(t) = v.clone().downcast::<T>()
        {
            return Ok(t);
        }
        let parsed = std::sync::Arc::new(parse()?);
        let _ = self.0.set(parsed.clone());
        Ok(parsed)
    }
}

impl std::fmt::Debug for ParsedParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParsedParams")
    }
}

/// Parameters are compared by their declared value, never by their cache.
impl PartialEq for ParsedParams {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

/// Errors in a catalog document.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The YAML could not be read.
    #[error("catalog is not valid: {0}")]
    Parse(String),
    /// Two checks share an ID or name.
    #[error("duplicate check id or name {0:?}")]
    Duplicate(String),
    /// A check names a template that does not exist.
    #[error("check {id}: unknown template {template:?}")]
    UnknownTemplate {
        /// Check ID.
        id: String,
        /// Template name.
        template: String,
    },
    /// A check's cross-references contradict themselves.
    #[error("check {id}: references: {message}")]
    References {
        /// Check ID.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// A check's parameters do not fit its template.
    #[error("check {id}: invalid params: {message}")]
    Params {
        /// Check ID.
        id: String,
        /// What is wrong.
        message: String,
    },
}

/// An ordered set of check definitions.
#[derive(Debug, Clone)]
pub struct Catalog {
    checks: Vec<CheckDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    checks: Vec<CheckDef>,
}

impl Catalog {
    /// The built-in catalog.
    pub fn builtin() -> Catalog {
        // The embedded catalog is validated by a unit test; failing here is a build defect.
        Catalog::from_yaml(BUILTIN).expect("built-in catalog is valid (checked by tests)")
    }

    /// Parses and validates a catalog document.
    pub fn from_yaml(text: &str) -> Result<Catalog, CatalogError> {
        let file: CatalogFile =
            serde_saphyr::from_str(text).map_err(|e| CatalogError::Parse(e.to_string()))?;
        let catalog = Catalog {
            checks: file.checks,
        };
        catalog.validate()?;
        Ok(catalog)
    }

    fn validate(&self) -> Result<(), CatalogError> {
        let mut seen = HashSet::new();
        for c in &self.checks {
            for key in [&c.id, &c.name] {
                if !seen.insert(key.clone()) {
                    return Err(CatalogError::Duplicate(key.clone()));
                }
            }
            c.references
                .validate()
                .map_err(|message| CatalogError::References {
                    id: c.id.clone(),
                    message,
                })?;
            crate::templates::validate(c)?;
        }
        Ok(())
    }

    /// Every check, in catalog order.
    pub fn checks(&self) -> &[CheckDef] {
        &self.checks
    }

    /// The check with this ID or name.
    pub fn get(&self, id_or_name: &str) -> Option<&CheckDef> {
        self.checks
            .iter()
            .find(|c| c.id == id_or_name || c.name == id_or_name)
    }

    /// Adds checks (custom checks from a config file); IDs and names must stay unique.
    pub fn extend(&mut self, more: Vec<CheckDef>) -> Result<(), CatalogError> {
        self.checks.extend(more);
        self.validate()
    }

    /// Replaces the template parameters of the check with this ID or name (a palisade.yaml
    /// `checks.params` entry), validated against its template; the catalog is unchanged on
    /// error.
    pub fn set_params(
        &mut self,
        id_or_name: &str,
        params: serde_json::Value,
    ) -> Result<(), CatalogError> {
        let Some(check) = self
            .checks
            .iter_mut()
            .find(|c| c.id == id_or_name || c.name == id_or_name)
        else {
            return Err(CatalogError::Params {
                id: id_or_name.to_string(),
                message: "no such check".into(),
            });
        };
        let mut updated = check.clone();
        updated.params = params;
        updated.parsed_params = ParsedParams::default();
        crate::templates::validate(&updated)?;
        *check = updated;
        Ok(())
    }

    /// Number of checks per category.
    pub fn categories(&self) -> BTreeMap<&str, usize> {
        let mut m = BTreeMap::new();
        for c in &self.checks {
            *m.entry(c.category.as_str()).or_default() += 1;
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_is_valid() {
        let c = Catalog::from_yaml(BUILTIN).unwrap();
        assert!(c.checks().len() >= 20);
        for check in c.checks() {
            assert!(check.id.starts_with("PAL-"), "{}", check.id);
            assert!(!check.rationale.trim().is_empty(), "{}", check.id);
            assert!(!check.remediation.trim().is_empty(), "{}", check.id);
        }
    }

    #[test]
    fn params_are_replaced_only_when_the_template_accepts_them() {
        let mut c = Catalog::builtin();
        c.set_params(
            "required-labels",
            serde_json::json!({"field": "labels", "keys": ["owner"]}),
        )
        .unwrap();
        assert_eq!(c.get("PAL-121").unwrap().params["keys"][0], "owner");
        let err = c
            .set_params("PAL-121", serde_json::json!({"field": "tags"}))
            .unwrap_err();
        assert!(err.to_string().contains("labels or annotations"), "{err}");
        assert_eq!(c.get("PAL-121").unwrap().params["keys"][0], "owner");
        assert!(c.set_params("PAL-999", serde_json::json!({})).is_err());
    }

    #[test]
    fn unknown_templates_are_rejected() {
        let err = Catalog::from_yaml(
            "checks:\n- {id: X-1, name: x, title: t, severity: low, category: c, rationale: r, remediation: m, template: nope}\n",
        )
        .unwrap_err();
        assert!(matches!(err, CatalogError::UnknownTemplate { .. }));
    }
}
