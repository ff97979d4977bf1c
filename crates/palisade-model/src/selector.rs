//! Label selectors (`metav1.LabelSelector`) and their exact matching semantics.
//!
//! `matchLabels` and `matchExpressions` are ANDed. An empty selector matches every object. For
//! `NotIn` and `DoesNotExist`, an object without the key matches.

use serde::{Deserialize, Serialize};

use crate::api::nullable;
use crate::labels::Labels;

/// `metav1.LabelSelector`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LabelSelector {
    /// Exact key/value pairs.
    #[serde(deserialize_with = "nullable")]
    pub match_labels: Labels,
    /// Set-based requirements.
    #[serde(deserialize_with = "nullable")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

impl LabelSelector {
    /// Checks label syntax as the API server does: every key a qualified name (`[prefix/]name`,
    /// prefix a DNS subdomain), every `matchLabels` value and `In`/`NotIn` value a label value.
    pub fn check_label_syntax(&self) -> Result<(), SelectorError> {
        for (k, v) in &self.match_labels {
            check_key(k, || "matchLabels".to_string())?;
            check_value(v, || format!("matchLabels.{k}"))?;
        }
        for (i, req) in self.match_expressions.iter().enumerate() {
            check_key(&req.key, || format!("matchExpressions[{i}].key"))?;
            for (j, v) in req.values.iter().enumerate() {
                check_value(v, || format!("matchExpressions[{i}].values[{j}]"))?;
            }
        }
        Ok(())
    }
}

fn check_key(key: &str, field: impl Fn() -> String) -> Result<(), SelectorError> {
    invalid_label("key", key, crate::labels::key_error(key), field)
}

fn check_value(value: &str, field: impl Fn() -> String) -> Result<(), SelectorError> {
    invalid_label("value", value, crate::labels::value_error(value), field)
}

fn invalid_label(
    part: &'static str,
    text: &str,
    error: Option<&'static str>,
    field: impl Fn() -> String,
) -> Result<(), SelectorError> {
    error.map_or(Ok(()), |reason| {
        Err(SelectorError::InvalidLabel {
            field: field(),
            part,
            text: text.to_string(),
            reason,
        })
    })
}

/// `metav1.LabelSelectorRequirement`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct LabelSelectorRequirement {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// Values for `In` / `NotIn`; must be empty for `Exists` / `DoesNotExist`.
    #[serde(deserialize_with = "nullable")]
    pub values: Vec<String>,
}

/// Why a selector is invalid (the API server would have rejected it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// An operator other than the four defined ones.
    #[error(
        "matchExpressions[{index}]: unknown operator {operator:?} (expected In, NotIn, Exists or DoesNotExist)"
    )]
    UnknownOperator {
        /// Index of the requirement.
        index: usize,
        /// The operator as written.
        operator: String,
    },
    /// `In`/`NotIn` with no values.
    #[error("matchExpressions[{index}]: operator {operator} needs at least one value")]
    MissingValues {
        /// Index of the requirement.
        index: usize,
        /// The operator.
        operator: String,
    },
    /// A label key (not a qualified name `[prefix/]name`) or value with invalid syntax.
    #[error("{field}: invalid label {part} {text:?}: {reason}")]
    InvalidLabel {
        /// Where it is (`matchLabels`, `matchExpressions[0].values[1]`).
        field: String,
        /// `key` or `value`.
        part: &'static str,
        /// The key or value as written.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `Exists`/`DoesNotExist` with values.
    #[error("matchExpressions[{index}]: operator {operator} must not have values")]
    UnexpectedValues {
        /// Index of the requirement.
        index: usize,
        /// The operator.
        operator: String,
    },
}

/// A parsed set-based operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// Key present with one of the values.
    In,
    /// Key absent, or present with none of the values.
    NotIn,
    /// Key present.
    Exists,
    /// Key absent.
    DoesNotExist,
}

impl LabelSelectorRequirement {
    /// Parses and validates the operator against the values.
    pub fn operator(&self, index: usize) -> Result<Operator, SelectorError> {
        let op = match self.operator.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            other => {
                return Err(SelectorError::UnknownOperator {
                    index,
                    operator: other.to_string(),
                });
            }
        };
        match op {
            Operator::In | Operator::NotIn if self.values.is_empty() => {
                Err(SelectorError::MissingValues {
                    index,
                    operator: self.operator.clone(),
                })
            }
            Operator::Exists | Operator::DoesNotExist if !self.values.is_empty() => {
                Err(SelectorError::UnexpectedValues {
                    index,
                    operator: self.operator.clone(),
                })
            }
            _ => Ok(op),
        }
    }

    fn matches(&self, op: Operator, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match op {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

impl LabelSelector {
    /// A selector with only `matchLabels`.
    pub fn from_labels(labels: Labels) -> Self {
        LabelSelector {
            match_labels: labels,
            match_expressions: Vec::new(),
        }
    }

    /// True when the selector has no requirement at all (it matches everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Checks that every requirement is well formed.
    pub fn validate(&self) -> Result<(), SelectorError> {
        for (i, req) in self.match_expressions.iter().enumerate() {
            req.operator(i)?;
        }
        Ok(())
    }

    /// Whether `labels` satisfy the selector. An invalid selector is an error, never a silent
    /// match or non-match.
    pub fn matches(&self, labels: &Labels) -> Result<bool, SelectorError> {
        let mut ok = self
            .match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v));
        for (i, req) in self.match_expressions.iter().enumerate() {
            let op = req.operator(i)?;
            ok = ok && req.matches(op, labels);
        }
        Ok(ok)
    }
}

/// Whether a plain equality selector (Service `spec.selector`, ReplicationController) matches.
/// An empty map matches nothing here, as for Services; callers decide otherwise explicitly.
pub fn map_selects(selector: &Labels, labels: &Labels) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn req(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn empty_selector_matches_everything() {
        let s = LabelSelector::default();
        assert!(s.matches(&labels(&[])).unwrap());
        assert!(s.matches(&labels(&[("a", "b")])).unwrap());
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let s = LabelSelector {
            match_labels: labels(&[("app", "web")]),
            match_expressions: vec![req("tier", "In", &["frontend", "edge"])],
        };
        assert!(
            s.matches(&labels(&[("app", "web"), ("tier", "edge")]))
                .unwrap()
        );
        assert!(
            !s.matches(&labels(&[("app", "web"), ("tier", "db")]))
                .unwrap()
        );
        assert!(
            !s.matches(&labels(&[("app", "api"), ("tier", "edge")]))
                .unwrap()
        );
        assert!(!s.matches(&labels(&[("app", "web")])).unwrap());
    }

    #[test]
    fn not_in_and_does_not_exist_match_missing_keys() {
        let not_in = LabelSelector {
            match_expressions: vec![req("env", "NotIn", &["prod"])],
            ..Default::default()
        };
        assert!(not_in.matches(&labels(&[])).unwrap());
        assert!(not_in.matches(&labels(&[("env", "dev")])).unwrap());
        assert!(!not_in.matches(&labels(&[("env", "prod")])).unwrap());
        let dne = LabelSelector {
            match_expressions: vec![req("env", "DoesNotExist", &[])],
            ..Default::default()
        };
        assert!(dne.matches(&labels(&[])).unwrap());
        assert!(!dne.matches(&labels(&[("env", "")])).unwrap());
        let exists = LabelSelector {
            match_expressions: vec![req("env", "Exists", &[])],
            ..Default::default()
        };
        assert!(exists.matches(&labels(&[("env", "")])).unwrap());
        assert!(!exists.matches(&labels(&[])).unwrap());
    }

    #[test]
    fn invalid_requirements_are_errors() {
        let bad_op = LabelSelector {
            match_expressions: vec![req("a", "in", &["x"])],
            ..Default::default()
        };
        assert!(matches!(
            bad_op.matches(&labels(&[])),
            Err(SelectorError::UnknownOperator { .. })
        ));
        let no_values = LabelSelector {
            match_expressions: vec![req("a", "In", &[])],
            ..Default::default()
        };
        assert!(no_values.validate().is_err());
        let values_on_exists = LabelSelector {
            match_expressions: vec![req("a", "Exists", &["x"])],
            ..Default::default()
        };
        assert!(values_on_exists.validate().is_err());
    }

    #[test]
    fn service_style_selector_needs_keys() {
        assert!(!map_selects(&labels(&[]), &labels(&[("a", "b")])));
        assert!(map_selects(
            &labels(&[("a", "b")]),
            &labels(&[("a", "b"), ("c", "d")])
        ));
    }
}
