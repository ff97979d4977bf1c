//! End-to-end: `palisade inventory` in table, JSON and CSV.

#![cfg(feature = "visibility")]

mod support;

use support::cli::palisade;

const MANIFESTS: &str = r##"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app.kubernetes.io/name: web}
  annotations: {example.com/owner: "alice, bob", contact: "#shop-oncall"}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: ghcr.io/acme/web:1.4
        readinessProbe: {httpGet: {path: /, port: 80}}
        resources: {limits: {cpu: 500m, memory: 128Mi}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: cache, namespace: shop}
spec:
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers: [{name: redis, image: redis}]
"##;

fn run(format: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("apps.yaml"), MANIFESTS).unwrap();
    let out = palisade(&["inventory", "--format", format])
        .arg(dir.path())
        .output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn inventory_json_has_workloads_and_counts() {
    let v: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let w = &v["workloads"];
    assert_eq!(w.as_array().unwrap().len(), 2);
    // Sorted by namespace, kind, name.
    assert_eq!(w[1]["name"], "cache");
    assert_eq!(w[1]["images"][0]["parsed"]["registry"], "docker.io");
    assert_eq!(w[1]["images"][0]["parsed"]["repository"], "library/redis");
    assert_eq!(w[1]["signals"][0]["kind"], "latest_tag");
    assert_eq!(w[0]["name"], "web");
    assert_eq!(w[0]["service_account"], "web");
    assert_eq!(w[0]["exposure"]["level"], "ingress");
    assert_eq!(w[0]["ownership"]["owner"]["value"], "alice, bob");
    assert_eq!(w[0]["ownership_gaps"].as_array().unwrap().len(), 0);
    assert_eq!(v["namespaces"][0]["namespace"], "shop");
    assert_eq!(v["namespaces"][0]["externally_exposed"], 1);
    let regs: Vec<&str> = v["registries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["registry"].as_str().unwrap())
        .collect();
    assert_eq!(regs, vec!["docker.io", "ghcr.io"]);
}

#[test]
fn inventory_csv_quotes_fields_per_rfc4180() {
    let csv = run("csv");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("namespace,kind,name,images,"));
    assert!(lines[2].starts_with("shop,StatefulSet,cache,docker.io/library/redis:latest,"));
    // The owner contains a comma: the field is quoted.
    assert!(lines[1].contains(",\"alice, bob\","), "{}", lines[1]);
}

#[test]
fn inventory_table_shows_sections() {
    let text = run("table");
    for needle in [
        "2 workload(s)",
        "Per namespace",
        "Per registry",
        "owner=alice, bob",
        "ingress",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}
