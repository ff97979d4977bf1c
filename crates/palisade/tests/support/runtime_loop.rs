//! Workloads, admission reviews and report reading shared by the runtime-loop tests
//! (runtime_policy.rs, agent_central.rs).
#![allow(dead_code)]

use std::path::Path;

use serde_json::{Value, json};

use super::cli::palisade;

/// A Deployment `shop/web` whose container `app` runs `image` with `command`, in `dir`.
pub fn deployment(dir: &Path, image: &str, command: &str) -> std::path::PathBuf {
    let path = dir.join(format!("web-{}.yaml", image.rsplit(':').next().unwrap()));
    std::fs::write(
        &path,
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\n\
             spec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    \
             spec:\n      containers:\n      - name: app\n        image: {image}\n        command: [{command}]\n"
        ),
    )
    .unwrap();
    path
}

/// An AdmissionReview (CREATE) of that Deployment without a command, in `dir`.
fn review(dir: &Path, image: &str) -> std::path::PathBuf {
    let object = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": image,
                "securityContext": {"allowPrivilegeEscalation": false}}]}}}
    });
    let body = json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": format!("uid-{image}"),
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": "web", "namespace": "shop", "operation": "CREATE",
            "userInfo": {"username": "alice"}, "object": object, "dryRun": false
        }
    });
    let path = dir.join(format!("review-{}.json", image.rsplit(':').next().unwrap()));
    std::fs::write(&path, body.to_string()).unwrap();
    path
}

/// Only the runtime checks' findings of a JSON scan report, as (check, severity, message).
pub fn runtime_findings(report: &str) -> Vec<(String, String, String)> {
    let v: Value = serde_json::from_str(report).unwrap_or_else(|e| panic!("{e}: {report}"));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| matches!(f["check_id"].as_str(), Some("PAL-097" | "PAL-098")))
        .map(|f| {
            (
                f["check_id"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Where `--runtime-policy URL` points and how to reach it.
pub struct CentralArgs<'a> {
    /// `https://…/api/v1/runtime-policy?cluster=NAME`.
    pub url: &'a str,
    /// The token's file.
    pub token_file: &'a Path,
    /// Central's CA.
    pub ca: &'a Path,
}

/// `palisade scan --format json --runtime-policy URL MANIFEST`: the runtime checks' findings.
pub fn scan_with_policy(
    manifest: &Path,
    central: &CentralArgs<'_>,
) -> Vec<(String, String, String)> {
    let (_, out, err) = palisade(&["scan", "--format", "json", "--runtime-policy", central.url])
        .arg(manifest)
        .arg("--token-file")
        .arg(central.token_file)
        .arg("--ca-cert")
        .arg(central.ca)
        .env_remove("PALISADE_TOKEN")
        .env_remove("PALISADE_CONFIG")
        .run();
    assert!(!err.contains("error"), "{err}");
    runtime_findings(&out)
}

/// `palisade admission review --runtime-policy URL` of a Deployment of `image` (with
/// `config`): the exit status and the AdmissionResponse.
fn admit_with_policy(
    dir: &Path,
    image: &str,
    config: Option<&Path>,
    central: &CentralArgs<'_>,
) -> (i32, Value) {
    let mut cmd = palisade(&["admission", "review", "--runtime-policy", central.url])
        .arg(review(dir, image))
        .arg("--token-file")
        .arg(central.token_file)
        .arg("--ca-cert")
        .arg(central.ca)
        .env_remove("PALISADE_TOKEN")
        .env_remove("PALISADE_CONFIG");
    if let Some(c) = config {
        cmd = cmd.arg("--config").arg(c);
    }
    let (code, out, err) = cmd.run();
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, v["response"].clone())
}

/// With central's policy: `bad` is reported by scan (PAL-097, high) and denied at admission
/// under the default modes; admitted with a warning in warn mode; `good` is admitted.
pub fn assert_policy_enforced(dir: &Path, bad: &str, good: &str, central: &CentralArgs<'_>) {
    let found = scan_with_policy(&deployment(dir, bad, "/app/server"), central);
    assert!(
        found.iter().any(|f| f.0 == "PAL-097" && f.1 == "high"),
        "{found:?}"
    );
    let (code, denied) = admit_with_policy(dir, bad, None, central);
    assert_eq!(code, 1, "{denied}");
    assert_eq!(denied["allowed"], false);
    assert!(
        denied["status"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("PAL-097"),
        "{denied}"
    );
    let (code, allowed) = admit_with_policy(dir, good, None, central);
    assert_eq!((code, &allowed["allowed"]), (0, &json!(true)), "{allowed}");
    assert!(!allowed.to_string().contains("PAL-097"), "{allowed}");
    let warn = dir.join("warn.yaml");
    std::fs::write(
        &warn,
        "admission:\n  modes:\n    runtime-image-misbehaved: warn\n",
    )
    .unwrap();
    let (code, warned) = admit_with_policy(dir, bad, Some(&warn), central);
    assert_eq!((code, &warned["allowed"]), (0, &json!(true)), "{warned}");
    assert!(
        warned["warnings"].to_string().contains("PAL-097"),
        "{warned}"
    );
}
