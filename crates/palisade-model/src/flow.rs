//! Observed network flows: the JSON-lines format the runtime agent emits and
//! `palisade netpol generate --flows` reads.
//!
//! One JSON object per line:
//!
//! ```json
//! {"timestamp":"2026-11-29T10:00:00Z","src":{"namespace":"shop","pod":"web-7d9f-abcde","workload":"Deployment/web","ip":"10.1.0.5"},"dst":{"ip":"10.1.0.9","namespace":"shop","pod":"db-0","workload":"StatefulSet/db"},"port":5432,"protocol":"TCP"}
//! ```
//!
//! An endpoint inside the cluster names its namespace and pod (and the owning workload as
//! `Kind/name` when known); an endpoint outside has only `ip`. `port` is the destination port.

use serde::{Deserialize, Serialize};

/// One end of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct FlowEndpoint {
    /// Namespace of the pod, for endpoints inside the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Pod name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Owning workload as `Kind/name` (e.g. `Deployment/web`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// IP address (IPv4 or IPv6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

/// One observed connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flow {
    /// When it was observed (RFC 3339, UTC).
    pub timestamp: String,
    /// Who opened the connection.
    pub src: FlowEndpoint,
    /// Who accepted it.
    pub dst: FlowEndpoint,
    /// Destination port.
    pub port: u16,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
}
