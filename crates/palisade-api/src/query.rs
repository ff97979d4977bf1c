//! What queries take (query-string parameters) and return.
//!
//! | path | query | returns | role |
//! |---|---|---|---|
//! | `GET /api/v1/clusters` | | `Vec<ClusterView>` | admin, analyst (sensor/agent: own) |
//! | `GET /api/v1/workloads` | [`WorkloadQuery`] | `Page<WorkloadView>` | admin, analyst, sensor (own) |
//! | `GET /api/v1/findings` | [`FindingQuery`] | `Page<FindingView>` | admin, analyst, sensor (own) |
//! | `GET /api/v1/risk` | [`WorkloadQuery`] (sorted by risk) | `Page<WorkloadView>` | as workloads |
//! | `GET /api/v1/images` | [`ImageQuery`] | `Page<ImageView>` | admin, analyst |
//! | `GET /api/v1/alerts` | [`AlertQuery`] | `Page<AlertView>` | admin, analyst |
//! | `GET /api/v1/clusters/{cluster}/network` | `namespace` | network graph | admin, analyst |
//! | `GET /api/v1/clusters/{cluster}/rbac/who-can` | `verb`, `resource`, `namespace` | subjects | admin, analyst |
//! | `GET/POST /api/v1/exceptions`, `DELETE /api/v1/exceptions/{id}` | | [`ExceptionView`] | admin, analyst |
//! | `GET /api/v1/audit` | `limit`, `cursor` | `Page<AuditEntry>` | admin |
//!
//! Pages are keyset-paginated: `next` is an opaque cursor to pass back as `cursor`; it is
//! absent on the last page. Results are stable under concurrent writes (no row twice, none
//! skipped among rows that existed when the first page was read).

use std::collections::BTreeMap;

use palisade_model::WorkloadId;
use palisade_model::finding::Severity;
use palisade_model::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};

use crate::ingest::ObjectKey;

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Cursor of the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A cluster and the summary of its current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClusterView {
    /// Name.
    pub name: String,
    /// When its last snapshot was read (absent: none yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_snapshot_at: Option<Timestamp>,
    /// Workloads in the current state.
    pub workloads: u64,
    /// Open findings per severity (every severity present, zero included).
    pub open_findings: BTreeMap<Severity, u64>,
}

/// Status of a finding in a cluster's history.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    /// Open, and first seen in the cluster's latest snapshot.
    New,
    /// Open (seen in the latest snapshot), first seen earlier.
    Open,
    /// Not in the latest snapshot any more.
    Resolved,
    /// Open but matched by an active exception.
    Suppressed,
}

/// `GET /api/v1/findings` parameters. Every filter is optional; several filters combine with
/// AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingQuery {
    /// Cluster name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Check id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// This severity or worse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Status (default: new and open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FindingStatus>,
    /// First seen at or after this instant ("new this week").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Rows per page (default [`crate::DEFAULT_PAGE`], at most [`crate::MAX_PAGE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from the previous page's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A finding with its history in one cluster. Ordered by severity (worst first), then
/// cluster, namespace, kind, name, check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FindingView {
    /// Cluster.
    pub cluster: String,
    /// Fingerprint (stable across snapshots).
    pub fingerprint: String,
    /// Check id.
    pub check_id: String,
    /// Severity.
    pub severity: Severity,
    /// Check title.
    pub title: String,
    /// What was found (as of the latest snapshot that had it).
    pub message: String,
    /// The object.
    pub object: ObjectKey,
    /// Container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Field path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Status.
    pub status: FindingStatus,
    /// Scan time of the first snapshot that had it (since it was last resolved).
    pub first_seen: Timestamp,
    /// Scan time of the last snapshot that had it.
    pub last_seen: Timestamp,
    /// Scan time of the first snapshot without it, when resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// The exception suppressing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_id: Option<i64>,
}

/// How workloads are sorted.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadSort {
    /// Cluster, namespace, kind, name.
    #[default]
    Name,
    /// Risk score, highest first.
    Risk,
    /// Open findings, most first.
    Findings,
}

/// `GET /api/v1/workloads` and `/risk` parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadQuery {
    /// Cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Risk score at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_risk: Option<u32>,
    /// Runs an image whose reference contains this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Has this label: `key` or `key=value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Sort order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<WorkloadSort>,
    /// Rows per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A workload in a cluster's current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkloadView {
    /// Cluster.
    pub cluster: String,
    /// Identity.
    pub id: WorkloadId,
    /// Pod template labels.
    pub labels: BTreeMap<String, String>,
    /// Service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// Images.
    pub images: Vec<String>,
    /// Risk score (0 when the sender did not rank).
    pub risk_score: u32,
    /// Rank in its cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_rank: Option<u32>,
    /// Largest risk factors.
    #[serde(default)]
    pub risk_factors: Vec<String>,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Open findings on it.
    pub open_findings: u64,
}

/// `GET /api/v1/images` parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageQuery {
    /// Cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Only images with a vulnerability of this severity or worse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Rows per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// An image across the clusters that run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImageView {
    /// Reference.
    pub reference: String,
    /// Digest, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Clusters running it.
    pub clusters: Vec<String>,
    /// Workloads running it (all clusters).
    pub workloads: u64,
    /// Its vulnerabilities.
    pub vulnerabilities: Vec<crate::ingest::VulnerabilityRecord>,
}

/// `GET /api/v1/alerts` parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// Cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Namespace of the workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// This severity or worse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// At or after this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Rows per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A stored alert. Newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AlertView {
    /// Cluster.
    pub cluster: String,
    /// When central stored it.
    pub received_at: Timestamp,
    /// The alert as sent.
    #[serde(flatten)]
    pub alert: crate::ingest::AlertRecord,
}

/// `POST /api/v1/exceptions`: accept a risk for a while. At least one of `check`, `namespace`,
/// `name` or `fingerprint` must be given; all given ones must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionCreate {
    /// Only this cluster (absent: every cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Check id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Object name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// One finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Why the risk is accepted (required, non-empty).
    pub reason: String,
    /// Last day it applies (required: exceptions expire).
    pub expires: Date,
}

/// A stored exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExceptionView {
    /// Id.
    pub id: i64,
    /// What it matches and why.
    #[serde(flatten)]
    pub spec: ExceptionCreate,
    /// Name of the token that created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// When it was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    /// Name of the token that revoked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
}

/// One audited change (token and exception changes). Newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditEntry {
    /// Id.
    pub id: i64,
    /// When.
    pub time: Timestamp,
    /// Name of the token that acted.
    pub actor: String,
    /// `token.create`, `token.revoke`, `exception.create`, `exception.revoke`.
    pub action: String,
    /// What it acted on (token id, exception id).
    pub target: String,
    /// Details (never a secret).
    #[serde(default)]
    pub detail: serde_json::Value,
}
