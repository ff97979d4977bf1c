//! How every analysis names a workload: namespace, kind and name.
//!
//! Risk scores, network reachability, RBAC reports and generated policies all key their results
//! by this one identity, so results of different analyses join on it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::inventory::Workload;

/// A workload by namespace, kind and name. Orders by namespace, then kind, then name; serializes
/// as `{"namespace": …, "kind": …, "name": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WorkloadId {
    /// Namespace.
    pub namespace: String,
    /// Kind (`Deployment`, `Pod`, …).
    pub kind: String,
    /// Name.
    pub name: String,
}

impl WorkloadId {
    /// The id of `namespace`/`kind`/`name`.
    pub fn new(
        namespace: impl Into<String>,
        kind: impl Into<String>,
        name: impl Into<String>,
    ) -> WorkloadId {
        WorkloadId {
            namespace: namespace.into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    /// The id of a workload of the inventory.
    pub fn of(w: &Workload) -> WorkloadId {
        WorkloadId::new(w.namespace().unwrap_or_default(), w.kind.clone(), w.name())
    }

    /// Displays as `namespace/Kind/name`: the namespace-first form network-policy output and
    /// workload specs (`--from`, `--to`) use, where lines group by namespace.
    pub fn namespace_first(&self) -> NamespaceFirst<'_> {
        NamespaceFirst(self)
    }
}

impl fmt::Display for WorkloadId {
    /// `Kind/namespace/name`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// A [`WorkloadId`] displayed as `namespace/Kind/name` (see [`WorkloadId::namespace_first`]).
#[derive(Debug, Clone, Copy)]
pub struct NamespaceFirst<'a>(&'a WorkloadId);

impl fmt::Display for NamespaceFirst<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.0;
        write!(f, "{}/{}/{}", id.namespace, id.kind, id.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_kind_first_or_namespace_first() {
        let id = WorkloadId::new("shop", "Deployment", "web");
        assert_eq!(id.to_string(), "Deployment/shop/web");
        assert_eq!(id.namespace_first().to_string(), "shop/Deployment/web");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#"{"namespace":"shop","kind":"Deployment","name":"web"}"#
        );
    }
}
