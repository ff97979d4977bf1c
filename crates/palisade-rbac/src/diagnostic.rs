//! Problems found while resolving RBAC objects: things the API server would reject, references
//! that cannot be resolved, and rules that can never take effect.

use palisade_model::ObjectRef;
use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing (a built-in role was assumed, a rule is ineffective where it is bound).
    Info,
    /// The object is invalid or incomplete; the analysis may miss or drop grants.
    Warning,
}

/// One problem with one RBAC object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Severity.
    pub level: Level,
    /// The object concerned.
    pub object: ObjectRef,
    /// Field path, when one field is concerned (e.g. `subjects[1].namespace`).
    pub field: Option<String>,
    /// What is wrong and what Palisade did about it.
    pub message: String,
}
