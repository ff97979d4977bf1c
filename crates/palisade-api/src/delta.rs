//! `POST /api/v1/clusters/{cluster}/delta`: what changed in a cluster since the sensor's
//! previous push (a snapshot or a delta), sent by `palisade sensor run` between full snapshots.
//!
//! A delta names objects, never single findings: each upserted object comes with its **whole**
//! current finding set (empty when its findings are gone), so applying a delta twice, or after
//! a lost acknowledgement, gives the same state. A workload row may come without its object's
//! findings: then they stay as they are. Central keeps the history semantics of
//! snapshots: a fingerprint first seen is new, one that disappears from its object's set is
//! resolved, one seen again after resolution is reopened. Idempotent by `id`.

use palisade_model::WorkloadId;
use palisade_model::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ingest::{FindingRecord, ObjectKey, WorkloadRecord};

/// Changes of one cluster since the sender's previous push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Delta {
    /// Sender's identifier, unique per cluster: a repeated push of the same id is acknowledged
    /// without change.
    pub id: String,
    /// When the objects were read (after the cluster's current snapshot or delta, or it is
    /// refused as out of order).
    pub scanned_at: Timestamp,
    /// Version of the Palisade that produced it.
    pub tool_version: String,
    /// Objects whose findings changed, each with its whole current finding set.
    #[serde(default)]
    pub objects: Vec<ObjectFindings>,
    /// Workloads added or changed (labels, images, service account, risk). A workload whose
    /// object is also in `objects` gets its open-finding count from there; one whose object is
    /// not (a row that changed alone, such as a rank that moved) keeps its findings as central
    /// has them, and their count.
    #[serde(default)]
    pub workloads: Vec<WorkloadRecord>,
    /// Objects deleted: their findings are resolved and, for workloads, their rows removed.
    #[serde(default)]
    pub deleted: Vec<ObjectKey>,
}

impl Delta {
    /// Whether the delta changes nothing.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.workloads.is_empty() && self.deleted.is_empty()
    }

    /// Records it carries (what its acknowledgement counts).
    pub fn record_count(&self) -> u64 {
        let findings: usize = self.objects.iter().map(|o| o.findings.len().max(1)).sum();
        (findings + self.workloads.len() + self.deleted.len()) as u64
    }
}

/// One object's whole current finding set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectFindings {
    /// The object.
    pub object: ObjectKey,
    /// Every finding on it now (each one's `object` is this object).
    #[serde(default)]
    pub findings: Vec<FindingRecord>,
}

/// The object key of a workload (`namespace` empty: cluster-scoped).
pub fn workload_key(id: &WorkloadId) -> ObjectKey {
    ObjectKey {
        kind: id.kind.clone(),
        namespace: (!id.namespace.is_empty()).then(|| id.namespace.clone()),
        name: id.name.clone(),
    }
}
