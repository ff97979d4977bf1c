//! Label selectors compiled once: operators parsed and validated, so matching cannot fail.

use palisade_model::Labels;

use palisade_model::selector::{LabelSelector, Operator, SelectorError};

/// A validated `metav1.LabelSelector`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Selector {
    labels: Vec<(String, String)>,
    exprs: Vec<(String, Operator, Vec<String>)>,
}

impl Selector {
    /// Validates every requirement (unknown operator, missing or unexpected values) and the
    /// label syntax of every key and value (the API server refuses a selector that breaks it).
    pub(crate) fn compile(s: &LabelSelector) -> Result<Selector, SelectorError> {
        let mut exprs = Vec::with_capacity(s.match_expressions.len());
        for (i, req) in s.match_expressions.iter().enumerate() {
            let op = req.operator(i)?;
            exprs.push((req.key.clone(), op, req.values.clone()));
        }
        s.check_label_syntax()?;
        Ok(Selector {
            labels: s
                .match_labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            exprs,
        })
    }

    /// True for `{}`: it matches every object.
    pub(crate) fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.exprs.is_empty()
    }

    /// `matchLabels` pairs (for index look-ups).
    pub(crate) fn match_labels(&self) -> &[(String, String)] {
        &self.labels
    }

    /// Whether `labels` satisfy every requirement.
    pub(crate) fn matches(&self, labels: &Labels) -> bool {
        self.labels
            .iter()
            .all(|(k, v)| labels.get(k).is_some_and(|x| x == v))
            && self.exprs.iter().all(|(k, op, values)| {
                let v = labels.get(k);
                match op {
                    Operator::In => v.is_some_and(|v| values.contains(v)),
                    Operator::NotIn => v.is_none_or(|v| !values.contains(v)),
                    Operator::Exists => v.is_some(),
                    Operator::DoesNotExist => v.is_none(),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::selector::LabelSelectorRequirement;

    #[test]
    fn compiled_selector_agrees_with_the_model() {
        let sel = LabelSelector {
            match_labels: [("app".to_string(), "web".to_string())].into(),
            match_expressions: vec![
                LabelSelectorRequirement {
                    key: "env".into(),
                    operator: "NotIn".into(),
                    values: vec!["prod".into()],
                },
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "Exists".into(),
                    values: vec![],
                },
            ],
        };
        let c = Selector::compile(&sel).unwrap();
        for labels in [
            vec![("app", "web"), ("tier", "x")],
            vec![("app", "web"), ("tier", "x"), ("env", "prod")],
            vec![("app", "web"), ("env", "dev")],
            vec![("app", "api"), ("tier", "x")],
        ] {
            let l: Labels = labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(c.matches(&l), sel.matches(&l).unwrap());
        }
    }
}
