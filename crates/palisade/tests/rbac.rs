//! End-to-end: `palisade rbac` on manifest files, through the real binary.

#![cfg(feature = "visibility")]

mod support;

use support::cli::{json, palisade};

const MANIFESTS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: default}
rules:
- apiGroups: [""]
  resources: ["pods", "pods/log"]
  verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-pods, namespace: default}
subjects:
- {kind: User, name: jane, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-admin}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: ci}
roleRef: {kind: ClusterRole, name: cluster-admin, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: dangling}
subjects:
- {kind: User, name: ghost, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: no-such-role, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: pipeline, namespace: ci}
spec:
  selector: {matchLabels: {app: pipeline}}
  template:
    metadata: {labels: {app: pipeline}}
    spec:
      serviceAccountName: deployer
      containers: [{name: c, image: "ci/runner:1"}]
"#;

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rbac.yaml"), MANIFESTS).unwrap();
    dir
}

#[test]
fn who_can_lists_subjects_with_their_bindings() {
    let dir = setup();
    let out = palisade(&[
        "rbac", "who-can", "get", "pods/log", "-n", "default", "--format", "json",
    ])
    .arg(dir.path())
    .output();
    assert!(out.status.success());
    let v = json(&out);
    let subjects: Vec<(String, String, String)> = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["subject"]["kind"].as_str().unwrap().to_string(),
                a["subject"]["name"].as_str().unwrap().to_string(),
                a["via"]["binding"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        subjects,
        vec![
            (
                "ServiceAccount".into(),
                "deployer".into(),
                "ci-admin".into()
            ),
            ("User".into(), "jane".into(), "read-pods".into()),
        ]
    );
    // The unresolved role is reported on stderr and in the JSON, naming file and object.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rbac.yaml") && stderr.contains("no-such-role"),
        "{stderr}"
    );
    assert!(
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["object"]["name"] == "dangling")
    );

    // In another namespace only the cluster-wide grant remains; the table names it.
    let out = palisade(&["rbac", "who-can", "get", "pods/log", "-n", "prod"])
        .arg(dir.path())
        .output();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ServiceAccount ci/deployer") && !text.contains("jane"),
        "{text}"
    );
}

#[test]
fn can_answers_with_exit_code_and_granting_binding() {
    let dir = setup();
    let out = palisade(&["rbac", "can", "User:jane", "list", "pods", "-n", "default"])
        .arg(dir.path())
        .output();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("yes") && text.contains("read-pods"),
        "{text}"
    );

    let out = palisade(&[
        "rbac",
        "can",
        "User:jane",
        "create",
        "pods/exec",
        "-n",
        "default",
    ])
    .arg(dir.path())
    .output();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("no"));

    let out = palisade(&[
        "rbac",
        "can",
        "ServiceAccount:ci:deployer",
        "escalate",
        "clusterroles",
        "--format",
        "json",
    ])
    .arg(dir.path())
    .output();
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["allowed"], true);
    assert_eq!(v["grants"][0]["via"]["role"]["name"], "cluster-admin");
    assert_eq!(v["grants"][0]["via"]["role"]["builtin"], true);
}

#[test]
fn bad_subject_or_resource_is_a_clear_error() {
    let dir = setup();
    let out = palisade(&["rbac", "can", "Robot:r2", "get", "pods"])
        .arg(dir.path())
        .output();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ServiceAccount:NAMESPACE:NAME"));
    let out = palisade(&["rbac", "who-can", "get", "widgets"])
        .arg(dir.path())
        .output();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RESOURCE.GROUP"));
}

#[test]
fn risky_names_the_workloads_that_inherit_the_power() {
    let dir = setup();
    let out = palisade(&["rbac", "risky", "--format", "json"])
        .arg(dir.path())
        .output();
    assert!(out.status.success());
    let v = json(&out);
    let risky = v["risky"].as_array().unwrap();
    let wildcard = risky
        .iter()
        .find(|g| g["capability"] == "wildcard" && g["subject"]["name"] == "deployer")
        .expect("cluster-admin is a wildcard grant");
    assert_eq!(wildcard["severity"], "critical");
    assert_eq!(wildcard["scope"]["kind"], "cluster");
    assert_eq!(wildcard["workloads"][0]["name"], "pipeline");
    // jane's pod/log reader grant is not risky.
    assert!(risky.iter().all(|g| g["subject"]["name"] != "jane"));
    let out = palisade(&["rbac", "risky"]).arg(dir.path()).output();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Deployment ci/pipeline"), "{text}");
}
