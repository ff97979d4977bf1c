//! Problems found in NetworkPolicies: what is wrong, where, and what the analysis did about it.

use std::fmt;

use palisade_model::ObjectRef;
use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Content the API server accepts but that has no effect (for example ingress rules in a
    /// policy whose `policyTypes` is only `Egress`).
    Warning,
    /// Content the API server would reject (invalid CIDR, protocol, operator, port, peer).
    Error,
}

/// One problem in one policy. The analysis continues without the offending part; `effect` says
/// how it was treated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Diagnostic {
    /// Severity.
    pub level: Level,
    /// The policy (namespace, name and source file:line).
    pub policy: ObjectRef,
    /// Field path inside the policy, e.g. `spec.ingress[0].from[1].ipBlock.cidr`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How the analysis treats it, e.g. `this peer matches nothing`.
    pub effect: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Warning => "warning",
            Level::Error => "error",
        };
        write!(
            f,
            "{}: {level}: NetworkPolicy {}/{}: {}: {}; {}",
            self.policy.source,
            self.policy.namespace.as_deref().unwrap_or("default"),
            self.policy.name,
            self.field,
            self.message,
            self.effect
        )
    }
}

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
        self.push(Level::Error, field.into(), message.into(), effect);
    }

    pub(crate) fn warning(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        effect: &str,
    ) {
        self.push(Level::Warning, field.into(), message.into(), effect);
    }

    fn push(&mut self, level: Level, field: String, message: String, effect: &str) {
        self.out.push(Diagnostic {
            level,
            policy: self.policy.clone(),
            field,
            message,
            effect: effect.to_string(),
        });
    }
}
