//! The image configuration (OCI image config / Docker image JSON), read leniently: every field
//! is optional because real images omit many.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An image configuration document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created: Option<String>,
    /// Author.
    #[serde(default)]
    pub author: Option<String>,
    /// CPU architecture.
    #[serde(default)]
    pub architecture: Option<String>,
    /// Operating system.
    #[serde(default)]
    pub os: Option<String>,
    /// CPU variant.
    #[serde(default)]
    pub variant: Option<String>,
    /// Runtime defaults.
    #[serde(default)]
    pub config: Option<RuntimeConfig>,
    /// Layer diff_ids.
    #[serde(default)]
    pub rootfs: Option<RootFs>,
    /// Build history, base first.
    #[serde(default)]
    pub history: Vec<History>,
}

/// The `config` object: defaults for containers started from the image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeConfig {
    /// `User` (`name`, `uid`, `uid:gid`…); empty means root.
    #[serde(default)]
    pub user: Option<String>,
    /// `ExposedPorts` keys (`80/tcp`).
    #[serde(default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    /// `Env` entries (`KEY=value`).
    #[serde(default)]
    pub env: Option<Vec<String>>,
    /// `Entrypoint`.
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// `Cmd`.
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    /// `WorkingDir`.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// `Labels`.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    /// `Volumes` keys.
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    /// `StopSignal`.
    #[serde(default)]
    pub stop_signal: Option<String>,
}

/// `rootfs`: the diff_ids of the layers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Digests of the uncompressed layer tars, base first.
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// One history entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// When the step ran.
    #[serde(default)]
    pub created: Option<String>,
    /// The command that created the step.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// Whether the step produced no layer.
    #[serde(default)]
    pub empty_layer: bool,
}

impl ImageConfig {
    /// Parses a config blob.
    pub fn parse(bytes: &[u8], what: &str) -> Result<ImageConfig, crate::ImageError> {
        serde_json::from_slice(bytes).map_err(|e| crate::ImageError::json(what, e))
    }
}
