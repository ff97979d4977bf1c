//! What senders push. Every push is idempotent (a repeat changes nothing) and acknowledged only
//! once durable.
//!
//! | path | body | role |
//! |---|---|---|
//! | `POST /api/v1/clusters/{cluster}/snapshots` | [`Snapshot`] | sensor, admin |
//! | `POST /api/v1/clusters/{cluster}/alerts` | [`AlertBatch`] | agent, admin |
//! | `POST /api/v1/clusters/{cluster}/flows` | [`FlowBatch`] | agent, admin |
//! | `POST /api/v1/clusters/{cluster}/baselines` | [`BaselineBatch`] | agent, admin |
//! | `POST /api/v1/clusters/{cluster}/admission` | [`AdmissionBatch`] | sensor, admin |
//! | `POST /api/v1/clusters/{cluster}/delta` | [`crate::Delta`] | sensor, admin |

use std::collections::BTreeMap;

use palisade_model::WorkloadId;
use palisade_model::finding::Severity;
use palisade_model::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A whole cluster as one scan or sensor saw it. It replaces the cluster's previous state in
/// one transaction; central keeps, per finding fingerprint, when it was first seen and when it
/// was resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Sender's identifier of this snapshot, unique per cluster (a UUID or a content hash): a
    /// repeated push of the same id is acknowledged without change.
    pub id: String,
    /// When the objects were read.
    pub scanned_at: Timestamp,
    /// Version of the Palisade that produced it.
    pub tool_version: String,
    /// Where the objects came from (`manifests` or `cluster`).
    pub source: String,
    /// Every workload, with its risk.
    pub workloads: Vec<WorkloadRecord>,
    /// Every finding the checks kept (exceptions already applied by the sender are not sent).
    pub findings: Vec<FindingRecord>,
    /// The images the workloads run, with what registry access learned (when it was on).
    #[serde(default)]
    pub images: Vec<ImageRecord>,
    /// The Kubernetes objects read, as JSON (Secret `data`/`stringData` removed by the sender;
    /// central refuses a Secret that still has them). Central runs the same network and RBAC
    /// engines over them to answer graph and who-can queries. Carried as text, not parsed on
    /// receipt.
    #[serde(default)]
    pub objects: Vec<crate::RawObject>,
    /// Problems the sender met reading its inputs (file and line, or object).
    #[serde(default)]
    pub diagnostics: Vec<palisade_model::Diagnostic>,
}

/// One workload of a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadRecord {
    /// Identity.
    pub id: WorkloadId,
    /// Pod template labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Service account the pods run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// Image references of its containers (init containers included), as written.
    #[serde(default)]
    pub images: Vec<String>,
    /// Its risk, when the sender ranked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskRecord>,
    /// Owner (team label or annotation), when one is declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A workload's place in the risk ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskRecord {
    /// Score (higher is riskier).
    pub score: u32,
    /// Rank in its cluster, from 1.
    pub rank: u32,
    /// The largest factors, in words, largest first.
    #[serde(default)]
    pub factors: Vec<String>,
}

/// An object named by kind, namespace and name.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ObjectKey {
    /// Kind.
    pub kind: String,
    /// Namespace (absent for cluster-scoped objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// One finding of a [`Snapshot`] or an admission decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingRecord {
    /// `Finding::fingerprint`: the same finding across snapshots has the same one.
    pub fingerprint: String,
    /// Check id (`PAL-001`).
    pub check_id: String,
    /// Severity.
    pub severity: Severity,
    /// Check title.
    pub title: String,
    /// What was found.
    pub message: String,
    /// The object.
    pub object: ObjectKey,
    /// Container concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Field path concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// An image of a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageRecord {
    /// Reference as written in the workloads.
    pub reference: String,
    /// Resolved manifest digest, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Known vulnerabilities of its packages.
    #[serde(default)]
    pub vulnerabilities: Vec<VulnerabilityRecord>,
}

/// One vulnerability of one package of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VulnerabilityRecord {
    /// Advisory id (`CVE-2024-3094`, `GHSA-…`).
    pub id: String,
    /// Package name.
    pub package: String,
    /// Installed version.
    pub version: String,
    /// First fixed version, when one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Severity.
    pub severity: Severity,
}

/// `POST …/alerts`: runtime alerts of one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertBatch {
    /// The alerts.
    pub alerts: Vec<AlertRecord>,
}

/// One runtime alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRecord {
    /// Sender-assigned id, unique per cluster (a repeat is ignored).
    pub id: String,
    /// When the event happened.
    pub time: Timestamp,
    /// Node it happened on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The workload, when the container was attributed to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadId>,
    /// Container name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Rule that matched (or `baseline-anomaly`).
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// What happened, in one sentence (credentials already redacted by the agent).
    pub message: String,
    /// The agent's whole alert record (process, parent, connection…), kept as sent.
    #[serde(default)]
    pub detail: serde_json::Value,
}

/// `POST …/flows`: observed connections of one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowBatch {
    /// The flows.
    pub flows: Vec<FlowRecord>,
}

/// Connections seen from one endpoint to another on one port: repeats add to `count` and
/// widen the time range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowRecord {
    /// Source workload (absent: outside the cluster; see `src_address`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<WorkloadId>,
    /// Source address when not a workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_address: Option<String>,
    /// Destination workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<WorkloadId>,
    /// Destination address when not a workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_address: Option<String>,
    /// Destination port.
    pub port: u16,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// First time seen.
    pub first_seen: Timestamp,
    /// Last time seen.
    pub last_seen: Timestamp,
    /// Connections in that range.
    pub count: u64,
}

/// `POST …/baselines`: process baselines of one cluster's workloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BaselineBatch {
    /// The baselines (each replaces the stored one of its workload and container).
    pub baselines: Vec<BaselineRecord>,
}

/// The processes one container of one workload is expected to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BaselineRecord {
    /// Workload.
    pub workload: WorkloadId,
    /// Container.
    pub container: String,
    /// Executable paths seen while learning.
    pub processes: Vec<String>,
    /// Locked: anything else is an anomaly.
    pub locked: bool,
    /// When it was last changed.
    pub updated_at: Timestamp,
}

/// `POST …/admission`: decisions of one cluster's admission webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmissionBatch {
    /// The decisions.
    pub decisions: Vec<AdmissionRecord>,
}

/// One admission decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmissionRecord {
    /// The AdmissionReview request uid (a repeat is ignored).
    pub uid: String,
    /// When it was decided.
    pub time: Timestamp,
    /// `CREATE`, `UPDATE`, …
    pub operation: String,
    /// The object.
    pub object: ObjectKey,
    /// Who asked (the request's user name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Admitted or not.
    pub allowed: bool,
    /// Whether the policy only warned (dry-run / audit mode).
    #[serde(default)]
    pub dry_run: bool,
    /// The findings behind the decision.
    #[serde(default)]
    pub findings: Vec<FindingRecord>,
}

/// The answer to every push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IngestAck {
    /// Records stored by this push.
    pub accepted: u64,
    /// Records already stored (a repeated push).
    pub duplicates: u64,
}
