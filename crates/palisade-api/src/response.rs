//! Runtime responses: what the agents did about alerts (kill a process, stop a container,
//! delete a pod, restart its workload) and how it went.
//!
//! | path | body | role |
//! |---|---|---|
//! | `POST /api/v1/clusters/{cluster}/responses` | [`ResponseBatch`] | agent, admin |
//! | `GET /api/v1/responses?cluster=&limit=` | `[ResponseView]` | admin, analyst |

use palisade_model::time::Timestamp;
use serde::{Deserialize, Serialize};

/// `POST …/responses`: a batch of one agent's responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseBatch {
    /// The responses.
    pub responses: Vec<ResponseRecord>,
}

/// One response outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseRecord {
    /// Unique per cluster (the agent's `NODE-STARTMS-N`); a repeat is ignored.
    pub id: String,
    /// When it was carried out (or refused).
    pub time: Timestamp,
    /// Node of the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The rule that asked for it.
    pub rule: String,
    /// `kill-process`, `kill-container`, `delete-pod` or `restart-workload`.
    pub action: String,
    /// What it acted on: `process PID`, `container ID`, `pod NAMESPACE/NAME`.
    pub target: String,
    /// `done`, `failed` or `skipped`.
    pub outcome: String,
    /// What was done, or why not (the error).
    pub detail: String,
}

/// A stored response. Newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResponseView {
    /// Cluster.
    pub cluster: String,
    /// When central stored it.
    pub received_at: Timestamp,
    /// The response as sent.
    #[serde(flatten)]
    pub response: ResponseRecord,
}

/// `GET /api/v1/responses` parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseQuery {
    /// Only this cluster.
    #[serde(default)]
    pub cluster: Option<String>,
    /// Rows (default [`crate::DEFAULT_PAGE`], at most [`crate::MAX_PAGE`]).
    #[serde(default)]
    pub limit: Option<u32>,
}
