//! Custom checks: a predicate over the raw object (CEL from configuration, evaluated by
//! `palisade-cel`), declared with an ID, severity and message.

use std::sync::Arc;

use crate::catalog::CheckDef;

/// A predicate over a raw Kubernetes object. `Ok(true)` means the object is valid (as in a
/// ValidatingAdmissionPolicy validation); `Err` means it cannot be decided.
pub trait ObjectPredicate: Send + Sync + std::fmt::Debug {
    /// Evaluates the predicate with `object` bound.
    fn holds(&self, object: &serde_json::Value) -> Result<bool, String>;
}

/// A custom check: catalog-style metadata, the kinds it applies to, and its predicate.
#[derive(Debug, Clone)]
pub struct CustomCheck {
    /// Metadata (its `template` is `custom`).
    pub def: CheckDef,
    /// Kinds the check applies to (empty: every kind).
    pub kinds: Vec<String>,
    /// The message of a violation.
    pub message: String,
    /// The predicate.
    pub predicate: Arc<dyn ObjectPredicate>,
}
