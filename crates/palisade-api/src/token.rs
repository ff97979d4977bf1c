//! API tokens and their roles.

use std::fmt;
use std::str::FromStr;

use palisade_model::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};

/// What a token may do.
///
/// | role | reads | writes |
/// |---|---|---|
/// | `admin` | everything | everything, tokens, exceptions |
/// | `analyst` | everything | exceptions (audited) |
/// | `sensor` | nothing but its own cluster's state | snapshots, admission decisions of its cluster |
/// | `agent` | nothing | alerts, flows, baselines of its cluster |
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
pub enum Role {
    /// Everything, including tokens.
    Admin,
    /// Reads everything; manages exceptions.
    Analyst,
    /// A cluster sensor or a scan pushing one cluster's snapshots and admission decisions.
    Sensor,
    /// A runtime agent pushing one cluster's alerts, flows and baselines.
    Agent,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::Sensor, Role::Agent];

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Sensor => "sensor",
            Role::Agent => "agent",
        }
    }

    /// Whether tokens of this role are bound to one cluster (`--cluster` required).
    pub fn is_cluster_bound(self) -> bool {
        matches!(self, Role::Sensor | Role::Agent)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?} (expected admin, analyst, sensor or agent)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// A token as listed: everything but its secret (which central never stores, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenInfo {
    /// Public identifier (also the token's prefix, so logs and audits can name it).
    pub id: String,
    /// Name given at creation (who or what holds it).
    pub name: String,
    /// Role.
    pub role: Role,
    /// The one cluster a sensor or agent token may write and read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last day the token is accepted (it stops working at the end of that UTC day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Date>,
    /// When it was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// `POST /api/v1/tokens` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    /// Who or what will hold it.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Required for sensor and agent tokens, refused for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Last valid day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Date>,
}

/// The answer to [`TokenCreate`]: the secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenCreated {
    /// The token as listed.
    pub info: TokenInfo,
    /// The bearer secret (`pal_<id>_<random>`). Central keeps only its hash.
    pub token: String,
}
