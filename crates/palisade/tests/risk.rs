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
    let workloads = v["workloads"].as_array().unwrap();
    let names: Vec<&str> = workloads
        .iter()
        .map(|w| w["workload"]["name"].as_str().unwrap())
        .collect();
    // privileged + hostPID outrank a NodePort, which outranks nothing special.
    assert_eq!(names, vec!["agent", "web", "quiet"]);
    let points = |w: &serde_json::Value, category: &str| -> Vec<i64> {
        w["factors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["category"] == category)
            .map(|f| f["points"].as_i64().unwrap())
            .collect()
    };
    // From the documented weights: privileged 30, hostPID 15; NodePort 15.
    assert_eq!(points(&workloads[0], "privileges"), vec![15, 30]);
    assert_eq!(points(&workloads[1], "exposure"), vec![15]);
    assert!(points(&workloads[2], "exposure").is_empty());
    assert!(points(&workloads[2], "privileges").is_empty());
    // Findings of the built-in checks are part of the score, and every score is its factors' sum.
    assert!(!points(&workloads[0], "findings").is_empty());
    for w in workloads {
        let sum: i64 = w["factors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["points"].as_i64().unwrap())
            .sum();
        assert_eq!(sum, w["score"].as_i64().unwrap());
    }

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
