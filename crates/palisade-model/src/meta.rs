//! Object identity and provenance: metadata shared by every Kubernetes object, where it came
//! from, and how findings refer to it.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::api::nullable;
use crate::labels::Labels;

/// Where an object was read from: a file (or `-` for stdin) and the 1-based line where its
/// document or list item starts, or a live cluster ([`SourceLocation::live`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SourceLocation {
    /// Path of the input file as given on the command line (shared between objects of one file);
    /// `cluster:<name>` for an object read from a live cluster.
    pub file: Arc<str>,
    /// 1-based line of the first line of the object; 0 when unknown (always 0 for live objects).
    pub line: u32,
    /// For an object read from a live cluster: which cluster and the object's resourceVersion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<Arc<LiveSource>>,
}

/// A live object's provenance: the cluster (kubeconfig context, or `in-cluster`) and the
/// object's `metadata.resourceVersion` when it was read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LiveSource {
    /// The cluster: the kubeconfig context's name, or `in-cluster`.
    pub cluster: Arc<str>,
    /// `metadata.resourceVersion` as served (opaque).
    pub resource_version: String,
}

impl SourceLocation {
    /// A location for `file` at `line`.
    pub fn new(file: impl Into<Arc<str>>, line: u32) -> Self {
        SourceLocation {
            file: file.into(),
            line,
            live: None,
        }
    }

    /// An object of a live cluster: `file` is `cluster:<cluster>`, `line` 0.
    pub fn live(cluster: &Arc<str>, resource_version: impl Into<String>) -> Self {
        SourceLocation {
            file: Arc::from(format!("cluster:{cluster}")),
            line: 0,
            live: Some(Arc::new(LiveSource {
                cluster: cluster.clone(),
                resource_version: resource_version.into(),
            })),
        }
    }
}

impl fmt::Display for SourceLocation {
    /// `file:line`, `file` when the line is unknown (0: objects of rendered Helm templates), or
    /// for a live object `cluster <name> resourceVersion <rv>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.live {
            // The resourceVersion comes from the server: escaped like any untrusted text.
            Some(live) => write!(
                f,
                "cluster {} resourceVersion {}",
                crate::terminal::escape(&live.cluster),
                crate::terminal::escape(&live.resource_version)
            ),
            None if self.line == 0 => f.write_str(&self.file),
            None => write!(f, "{}:{}", self.file, self.line),
        }
    }
}

/// An owner reference (`metadata.ownerReferences[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OwnerReference {
    /// API version of the owner.
    pub api_version: String,
    /// Kind of the owner.
    pub kind: String,
    /// Name of the owner.
    pub name: String,
    /// Whether the owner is the managing controller.
    pub controller: Option<bool>,
}

/// The parts of `metadata` that Palisade reads. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectMeta {
    /// `metadata.name` (empty when only `generateName` was given).
    pub name: String,
    /// `metadata.generateName`.
    pub generate_name: Option<String>,
    /// `metadata.namespace`; `None` for cluster-scoped objects and for namespaced objects whose
    /// manifest leaves it to the applying tool (see [`crate::inventory::Resource::namespace`]).
    pub namespace: Option<String>,
    /// `metadata.labels`.
    #[serde(deserialize_with = "nullable")]
    pub labels: Labels,
    /// `metadata.annotations`.
    #[serde(deserialize_with = "nullable")]
    pub annotations: Labels,
    /// `metadata.ownerReferences`.
    #[serde(deserialize_with = "nullable")]
    pub owner_references: Vec<OwnerReference>,
    /// `metadata.creationTimestamp` as written (RFC 3339), if present.
    pub creation_timestamp: Option<String>,
    /// `metadata.uid`.
    pub uid: Option<String>,
}

impl ObjectMeta {
    /// The name to show: `name`, or `generateName` followed by `*`.
    pub fn display_name(&self) -> String {
        if self.name.is_empty() {
            match &self.generate_name {
                Some(g) => format!("{g}*"),
                None => String::new(),
            }
        } else {
            self.name.clone()
        }
    }
}

/// How a finding or a report refers to an object: kind, namespace and name plus where it was
/// read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ObjectRef {
    /// `apiVersion` as written.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace, for namespaced kinds.
    pub namespace: Option<String>,
    /// Name (see [`ObjectMeta::display_name`]).
    pub name: String,
    /// Where the object was read from.
    pub source: SourceLocation,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}
