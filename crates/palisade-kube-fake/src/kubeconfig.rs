//! A kubeconfig file pointing at the fake (JSON, which every kubeconfig reader accepts as YAML).

use std::io;
use std::path::{Path, PathBuf};

use serde_json::json;

/// Writes `ca.crt` and `kubeconfig` into `dir`: one cluster, one user (the bearer token, if
/// any) and one context named `context`, which is current. Returns the kubeconfig's path.
pub fn write(
    dir: &Path,
    url: &str,
    ca_pem: &str,
    token: Option<&str>,
    context: &str,
) -> io::Result<PathBuf> {
    let ca = dir.join("ca.crt");
    std::fs::write(&ca, ca_pem)?;
    let user = match token {
        Some(t) => json!({"token": t}),
        None => json!({}),
    };
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url, "certificate-authority": ca}}],
        "users": [{"name": context, "user": user}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
        "preferences": {},
    });
    let path = dir.join("kubeconfig");
    std::fs::write(&path, serde_json::to_vec_pretty(&config)?)?;
    Ok(path)
}
