//! End-to-end: `palisade risk` ranks workloads and explains each score.

#![cfg(feature = "visibility")]

use std::process::Command;

const MANIFESTS: &str = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostPID: true
      containers:
      - name: agent
        image: ops/agent:2
        securityContext: {privileged: true}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "ghcr.io/acme/web:1.4"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: quiet, namespace: shop}
spec:
  selector: {matchLabels: {app: quiet}}
  template:
    metadata: {labels: {app: quiet}}
    spec:
      containers: [{name: q, image: "ghcr.io/acme/quiet:1"}]
"#;

#[test]
fn risk_ranks_and_explains() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("all.yaml"), MANIFESTS).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["risk", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ranked: Vec<(String, u64)> = v["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["workload"]["name"].as_str().unwrap().to_string(),
                w["score"].as_u64().unwrap(),
            )
        })
        .collect();
    // privileged 30 + hostPID 15 = 45; NodePort 15; nothing for quiet.
    assert_eq!(
        ranked,
        vec![
            ("agent".into(), 45),
            ("web".into(), 15),
            ("quiet".into(), 0)
        ]
    );
    let factors = v["workloads"][0]["factors"].as_array().unwrap();
    assert!(
        factors
            .iter()
            .any(|f| f["category"] == "privileges" && f["points"] == 30)
    );

    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["risk", "--top", "1"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DaemonSet/ops/agent") && !text.contains("shop/web"),
        "{text}"
    );
    assert!(text.contains("runs privileged"), "{text}");
}
