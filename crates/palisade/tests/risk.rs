//! End-to-end: `palisade risk` ranks workloads and explains each score.

#![cfg(feature = "visibility")]

mod support;

use support::cli::palisade;

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
    let out = palisade(&["risk", "--format", "json"])
        .arg(dir.path())
        .output();
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

    let out = palisade(&["risk", "--top", "1"]).arg(dir.path()).output();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DaemonSet/ops/agent") && !text.contains("shop/web"),
        "{text}"
    );
    assert!(text.contains("runs privileged"), "{text}");
}

/// Network factors on the demo cluster, from its NetworkPolicies: `payments` has a
/// default-deny for both directions; `ci`, `data`, `default`, `ingress-nginx` and `legacy` have
/// no NetworkPolicy at all; in `shop`, `frontend` is selected by ingress policies only.
#[cfg(feature = "netpol")]
#[test]
fn demo_cluster_network_factors_follow_its_policies() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo-cluster");
    let out = palisade(&["risk", demo, "--format", "json"]).output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let workloads = v["workloads"].as_array().unwrap();
    let find = |ns: &str, name: &str| -> &serde_json::Value {
        workloads
            .iter()
            .find(|w| w["workload"]["namespace"] == ns && w["workload"]["name"] == name)
            .unwrap_or_else(|| panic!("{ns}/{name} not ranked"))
    };
    let network = |w: &serde_json::Value| -> Vec<(i64, String)> {
        w["factors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["category"] == "network")
            .map(|f| {
                (
                    f["points"].as_i64().unwrap(),
                    f["detail"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let has = |w: &serde_json::Value, text: &str| network(w).iter().any(|(_, d)| d == text);
    let can_reach = |w: &serde_json::Value| -> u64 {
        network(w)
            .iter()
            .find_map(|(_, d)| {
                d.strip_prefix("can reach ")
                    .and_then(|r| r.split(' ').next())
                    .map(|n| n.parse().unwrap())
            })
            .unwrap_or(0)
    };
    const INGRESS: &str = "no NetworkPolicy restricts ingress";
    const EGRESS: &str = "no NetworkPolicy restricts egress";
    // Weights: ingress unprotected 8, egress unprotected 4.
    let unprotected = [
        ("ci", "build-runner"),
        ("data", "kafka"),
        ("data", "schema-registry"),
        ("default", "hello-world"),
        ("ingress-nginx", "ingress-nginx-controller"),
        ("legacy", "legacy-reports"),
    ];
    for (ns, name) in unprotected {
        let w = find(ns, name);
        assert!(
            has(w, INGRESS) && has(w, EGRESS),
            "{ns}/{name}: {:?}",
            network(w)
        );
        assert!(network(w).contains(&(8, INGRESS.to_string())));
        assert!(network(w).contains(&(4, EGRESS.to_string())));
    }
    for name in ["payments-api", "ledger"] {
        let w = find("payments", name);
        assert!(
            !has(w, INGRESS) && !has(w, EGRESS),
            "{name}: {:?}",
            network(w)
        );
    }
    let frontend = find("shop", "frontend");
    assert!(
        !has(frontend, INGRESS) && has(frontend, EGRESS),
        "{:?}",
        network(frontend)
    );

    // Blast radius: a pod without egress policy reaches every pod that no ingress policy
    // isolates. The five policy-free namespaces alone hold 12 workloads (ci 3, data 4,
    // default 2, ingress-nginx 1, legacy 2), so hello-world reaches at least the other 11.
    let hello = find("default", "hello-world");
    assert!(can_reach(hello) >= 11, "{:?}", network(hello));
    // payments-api may only open the connections its egress policy lists: far fewer.
    let api = find("payments", "payments-api");
    assert!(can_reach(api) < can_reach(hello), "{:?}", network(api));
    // Network points alone order them: hello-world ≥ 8 + 4 + ceil(11/2) = 18.
    let points = |w: &serde_json::Value| network(w).iter().map(|(p, _)| p).sum::<i64>();
    assert!(points(hello) >= 18, "{:?}", network(hello));
    assert!(points(api) < points(hello));
}
