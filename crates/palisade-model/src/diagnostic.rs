//! Diagnostics: problems with inputs, reported beside results rather than instead of them.
//!
//! One type for every analysis: a problem is either at a place in an input file (a file that
//! could not be read, a document that could not be parsed) or in one object (and optionally one
//! field of it), for example an invalid NetworkPolicy peer or a RoleBinding to a missing role.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::meta::ObjectRef;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum DiagnosticLevel {
    /// Worth knowing; nothing was lost (a built-in role was assumed, a rule is ineffective where
    /// it is bound).
    Info,
    /// Something was read but may not be what the author meant, or an object is incomplete and
    /// the analysis may miss part of it.
    Warning,
    /// A document or file could not be read (its objects are missing from the inventory), or an
    /// object holds content the API server would reject.
    Error,
}

impl DiagnosticLevel {
    /// `info`, `warning` or `error` (as serialized).
    pub fn as_str(self) -> &'static str {
        const NAMES: [&str; 3] = ["info", "warning", "error"];
        NAMES[self as usize]
    }
}

impl fmt::Display for DiagnosticLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a problem is. Serializes flat into the diagnostic: `file`, `line`, `column` for an
/// input position; `object`, `field` (`null` when the whole object is concerned) for an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Location {
    /// A position in an input file.
    Input {
        /// The file (or `-` for stdin).
        file: Arc<str>,
        /// 1-based line, 0 when the whole file is concerned.
        line: u32,
        /// 1-based column, 0 when unknown.
        column: u32,
    },
    /// One object of the inventory.
    Object {
        /// The object (with the file and line it was read from).
        object: ObjectRef,
        /// Field path inside the object when one field is concerned, e.g.
        /// `spec.ingress[0].from[1].ipBlock.cidr` or `subjects[1].namespace`.
        field: Option<String>,
    },
}

/// A problem with one input. Messages never contain Secret values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Diagnostic {
    /// How serious.
    pub level: DiagnosticLevel,
    /// Where.
    #[serde(flatten)]
    pub location: Location,
    /// What is wrong.
    pub message: String,
    /// How the analysis treated it (e.g. `this peer matches nothing`), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

impl Diagnostic {
    /// A problem at `file`:`line`:`column` of an input (0 = unknown line or column).
    pub fn input(
        level: DiagnosticLevel,
        file: impl Into<Arc<str>>,
        line: u32,
        column: u32,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            level,
            location: Location::Input {
                file: file.into(),
                line,
                column,
            },
            message: message.into(),
            effect: None,
        }
    }

    /// A problem in `object`, in `field` when one field is concerned.
    pub fn object(
        level: DiagnosticLevel,
        object: ObjectRef,
        field: Option<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            level,
            location: Location::Object { object, field },
            message: message.into(),
            effect: None,
        }
    }

    /// The same diagnostic, saying how the analysis treated the problem.
    pub fn with_effect(mut self, effect: impl Into<String>) -> Diagnostic {
        self.effect = Some(effect.into());
        self
    }

    /// The object concerned, for object diagnostics.
    pub fn object_ref(&self) -> Option<&ObjectRef> {
        match &self.location {
            Location::Object { object, .. } => Some(object),
            Location::Input { .. } => None,
        }
    }

    /// The field path concerned, for object diagnostics that name one.
    pub fn field(&self) -> Option<&str> {
        match &self.location {
            Location::Object { field, .. } => field.as_deref(),
            Location::Input { .. } => None,
        }
    }

    /// The input file: the one given, or the one the object was read from.
    pub fn file(&self) -> &str {
        match &self.location {
            Location::Input { file, .. } => file,
            Location::Object { object, .. } => &object.source.file,
        }
    }

    /// The 1-based line in [`Diagnostic::file`] (0 when unknown or the whole file).
    pub fn line(&self) -> u32 {
        match &self.location {
            Location::Input { line, .. } => *line,
            Location::Object { object, .. } => object.source.line,
        }
    }

    /// The 1-based column (0 when unknown; always 0 for object diagnostics).
    pub fn column(&self) -> u32 {
        match &self.location {
            Location::Input { column, .. } => *column,
            Location::Object { .. } => 0,
        }
    }
}

impl fmt::Display for Diagnostic {
    /// Input diagnostics: `file:line:column: level: message`, escaped for terminals (file names
    /// and messages come from untrusted input). Object diagnostics:
    /// `file:line: level: Kind namespace/name: field: message; effect`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = self.level;
        match &self.location {
            Location::Input { file, line, column } => {
                write!(f, "{}", crate::terminal::escape(file))?;
                if *line > 0 {
                    write!(f, ":{line}")?;
                    if *column > 0 {
                        write!(f, ":{column}")?;
                    }
                }
                write!(f, ": {level}: {}", crate::terminal::escape(&self.message))
            }
            Location::Object { object, field } => {
                write!(f, "{}: {level}: {} ", object.source, object.kind)?;
                if let Some(ns) = &object.namespace {
                    write!(f, "{ns}/")?;
                }
                write!(f, "{}", object.name)?;
                if let Some(field) = field {
                    write!(f, ": {field}")?;
                }
                write!(f, ": {}", self.message)?;
                if let Some(effect) = &self.effect {
                    write!(f, "; {effect}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::SourceLocation;

    fn policy() -> ObjectRef {
        ObjectRef {
            api_version: "networking.k8s.io/v1".into(),
            kind: "NetworkPolicy".into(),
            namespace: Some("shop".into()),
            name: "bad".into(),
            source: SourceLocation::new("p.yaml", 3),
        }
    }

    #[test]
    fn level_names_are_the_serialized_names() {
        use DiagnosticLevel::*;
        for l in [Info, Warning, Error] {
            assert_eq!(serde_json::to_value(l).unwrap(), l.as_str());
        }
    }

    #[test]
    fn input_diagnostics_print_and_serialize_their_position() {
        let d = Diagnostic::input(DiagnosticLevel::Error, "x.yaml", 4, 7, "bad\u{1b}");
        assert_eq!(d.to_string(), "x.yaml:4:7: error: bad\\u{1b}");
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"level":"error","file":"x.yaml","line":4,"column":7,"message":"bad\u001b"}"#
        );
        let back: Diagnostic = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn object_diagnostics_print_and_serialize_the_object_and_field() {
        let d = Diagnostic::object(
            DiagnosticLevel::Warning,
            policy(),
            Some("spec.ingress".into()),
            "ignored",
        )
        .with_effect("no rule");
        assert_eq!(
            d.to_string(),
            "p.yaml:3: warning: NetworkPolicy shop/bad: spec.ingress: ignored; no rule"
        );
        let v = serde_json::to_value(&d).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["level", "object", "field", "message", "effect"]);
        let whole = Diagnostic::object(DiagnosticLevel::Info, policy(), None, "m");
        assert_eq!(
            serde_json::to_value(&whole).unwrap()["field"],
            serde_json::Value::Null
        );
        assert_eq!(
            (whole.file(), whole.line(), whole.column()),
            ("p.yaml", 3, 0)
        );
    }
}
