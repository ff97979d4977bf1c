//! The body of every error response.

use serde::{Deserialize, Serialize};

/// What central answers with any 4xx or 5xx status: a sentence for people and, for a bad
/// request, the JSON path of the field that is wrong (`workloads[3].id.name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// What went wrong, in one sentence. Never contains a token or a secret value.
    pub error: String,
    /// The offending field of the request body or query, when one is to blame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorBody {
    /// An error without a field.
    pub fn new(error: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: error.into(),
            field: None,
        }
    }

    /// An error blaming `field`.
    pub fn field(error: impl Into<String>, field: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: error.into(),
            field: Some(field.into()),
        }
    }
}
