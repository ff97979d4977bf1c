//! Problems found in NetworkPolicies: what is wrong, where, and what the analysis did about it.
//!
//! They are [`palisade_model::Diagnostic`]s about the policy object, always naming a field and
//! an effect. In this crate's JSON documents they keep their documented shape, with the object
//! under `policy`: `{"level", "policy", "field", "message", "effect"}`.

use palisade_model::{Diagnostic, DiagnosticLevel, ObjectRef};
use serde::{Serialize, Serializer};

/// Collects diagnostics for one policy.
pub(crate) struct Reporter<'a> {
    pub(crate) policy: &'a ObjectRef,
    pub(crate) out: &'a mut Vec<Diagnostic>,
}

impl Reporter<'_> {
    pub(crate) fn error(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        effect: &str,
    ) {
        self.push(DiagnosticLevel::Error, field.into(), message.into(), effect);
    }

    pub(crate) fn warning(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        effect: &str,
    ) {
        self.push(
            DiagnosticLevel::Warning,
            field.into(),
            message.into(),
            effect,
        );
    }

    fn push(&mut self, level: DiagnosticLevel, field: String, message: String, effect: &str) {
        self.out.push(
            Diagnostic::object(level, self.policy.clone(), Some(field), message)
                .with_effect(effect),
        );
    }
}

/// One policy diagnostic as this crate's JSON documents spell it.
#[derive(Serialize)]
struct PolicyDiagnostic<'a> {
    level: DiagnosticLevel,
    policy: Option<&'a ObjectRef>,
    field: &'a str,
    message: &'a str,
    effect: &'a str,
}

/// Serializes policy diagnostics as `{"level", "policy", "field", "message", "effect"}` (for
/// `#[serde(serialize_with)]` on the `diagnostics` members of this crate's results).
pub(crate) fn serialize<S: Serializer>(diags: &[Diagnostic], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(diags.iter().map(|d| PolicyDiagnostic {
        level: d.level,
        policy: d.object_ref(),
        field: d.field().unwrap_or_default(),
        message: &d.message,
        effect: d.effect.as_deref().unwrap_or_default(),
    }))
}
