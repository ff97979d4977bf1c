//! The runtime agent's cluster actions against the fake API server: `delete-pod` and
//! `restart-workload` make their DELETE / merge PATCH (seen in the fake's state), a 403 is an
//! error naming the request and the reason, a pod without a controller has nothing to restart,
//! and the in-cluster configuration reads `KUBERNETES_SERVICE_HOST`/`PORT` and a service-account
//! directory.

use std::path::Path;

use palisade_cluster::act::{ActionError, Actor, RESTARTED_AT};
use palisade_cluster::{ClusterSource, IN_CLUSTER, InCluster};
use palisade_kube_fake::FakeApiServer;
use serde_json::{Value, json};

fn owner(api_version: &str, kind: &str, name: &str) -> Value {
    json!([{"apiVersion": api_version, "kind": kind, "name": name, "uid": format!("uid-{name}"), "controller": true}])
}

fn pod(name: &str, owners: Option<Value>) -> Value {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    if let Some(o) = owners {
        p["metadata"]["ownerReferences"] = o;
    }
    p
}

fn workload(kind: &str, name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}, "annotations": {"keep": "me"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
}

/// A fake holding Deployment web → ReplicaSet web-5d4 → pod web-5d4-x, StatefulSet db → pod
/// db-0, and a bare pod `lonely`.
fn cluster() -> FakeApiServer {
    let fake = FakeApiServer::start(Default::default()).unwrap();
    fake.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}))
        .unwrap();
    fake.apply(workload("Deployment", "web")).unwrap();
    let mut rs = workload("ReplicaSet", "web-5d4");
    rs["metadata"]["ownerReferences"] = owner("apps/v1", "Deployment", "web");
    fake.apply(rs).unwrap();
    fake.apply(pod(
        "web-5d4-x",
        Some(owner("apps/v1", "ReplicaSet", "web-5d4")),
    ))
    .unwrap();
    fake.apply(workload("StatefulSet", "db")).unwrap();
    fake.apply(pod("db-0", Some(owner("apps/v1", "StatefulSet", "db"))))
        .unwrap();
    fake.apply(pod("lonely", None)).unwrap();
    fake.apply(pod("job-x", Some(owner("batch/v1", "Job", "job"))))
        .unwrap();
    fake
}

fn actor(fake: &FakeApiServer, dir: &Path) -> Actor {
    Actor::connect(&ClusterSource {
        kubeconfig: Some(fake.write_kubeconfig(dir, "fake").unwrap()),
        ..Default::default()
    })
    .unwrap()
}

/// Whether a request line served starts with `prefix` (the lines are printed).
fn requested(fake: &FakeApiServer, prefix: &str) -> bool {
    let requests = fake.requests();
    println!("{requests:#?}");
    requests.iter().any(|r| r.starts_with(prefix))
}

fn restarted_at(fake: &FakeApiServer, kind: &str, name: &str) -> Option<String> {
    let w = fake.get("apps/v1", kind, Some("shop"), name).unwrap();
    assert_eq!(
        w["spec"]["template"]["metadata"]["annotations"]["keep"],
        "me"
    );
    w["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]
        .as_str()
        .map(str::to_string)
}

#[test]
fn delete_pod_deletes_it() {
    let fake = cluster();
    let dir = tempfile::tempdir().unwrap();
    let done = actor(&fake, dir.path())
        .delete_pod("shop", "lonely")
        .unwrap();
    assert!(
        done.contains("/api/v1/namespaces/shop/pods/lonely"),
        "{done}"
    );
    assert!(fake.get("v1", "Pod", Some("shop"), "lonely").is_none());
    assert!(requested(
        &fake,
        "DELETE /api/v1/namespaces/shop/pods/lonely"
    ));
}

#[test]
fn restart_patches_the_deployment_through_its_replicaset() {
    let fake = cluster();
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(restarted_at(&fake, "Deployment", "web"), None);
    let done = actor(&fake, dir.path())
        .restart_workload("shop", "web-5d4-x")
        .unwrap();
    assert!(done.contains("Deployment shop/web"), "{done}");
    let at = restarted_at(&fake, "Deployment", "web").expect("annotation set");
    assert!(
        palisade_model::time::Timestamp::parse_rfc3339(&at).is_ok(),
        "{at}"
    );
    assert!(requested(
        &fake,
        "PATCH /apis/apps/v1/namespaces/shop/deployments/web"
    ));
    // The pod itself is left to the controller.
    assert!(fake.get("v1", "Pod", Some("shop"), "web-5d4-x").is_some());
}

#[test]
fn restart_patches_a_statefulset_owner() {
    let fake = cluster();
    let dir = tempfile::tempdir().unwrap();
    actor(&fake, dir.path())
        .restart_workload("shop", "db-0")
        .unwrap();
    assert!(restarted_at(&fake, "StatefulSet", "db").is_some());
}

#[test]
fn a_pod_without_a_restartable_controller_has_nothing_to_restart() {
    let fake = cluster();
    let dir = tempfile::tempdir().unwrap();
    let a = actor(&fake, dir.path());
    let e = a.restart_workload("shop", "lonely").unwrap_err();
    assert!(matches!(e, ActionError::NothingToRestart(_)), "{e}");
    assert_eq!(
        e.to_string(),
        "nothing to restart: pod shop/lonely has no controller"
    );
    let e = a.restart_workload("shop", "job-x").unwrap_err();
    assert!(e.to_string().contains("Job job"), "{e}");
    assert!(!requested(&fake, "PATCH"));
}

#[test]
fn forbidden_requests_are_errors_with_the_reason() {
    let fake = cluster();
    let dir = tempfile::tempdir().unwrap();
    let a = actor(&fake, dir.path());
    fake.forbid("Deployment");
    let e = a.restart_workload("shop", "web-5d4-x").unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, ActionError::Refused { code: 403, .. }),
        "{text}"
    );
    assert!(text.contains("forbidden (403)"), "{text}");
    assert!(
        text.contains("cannot patch resource \"deployments\""),
        "{text}"
    );
    fake.forbid("Pod");
    let e = a.delete_pod("shop", "lonely").unwrap_err();
    assert!(
        e.to_string().contains("cannot delete resource \"pods\""),
        "{e}"
    );
    assert!(fake.get("v1", "Pod", Some("shop"), "lonely").is_some());
    let e = a.restart_workload("shop", "missing").unwrap_err();
    assert!(e.to_string().contains("forbidden"), "{e}");
}

#[test]
fn a_missing_pod_is_not_found() {
    let fake = cluster();
    let dir = tempfile::tempdir().unwrap();
    let e = actor(&fake, dir.path())
        .delete_pod("shop", "gone")
        .unwrap_err();
    assert!(matches!(e, ActionError::Refused { code: 404, .. }), "{e}");
}

fn service_account_dir(fake: &FakeApiServer, dir: &Path) {
    std::fs::write(dir.join("token"), format!("{}\n", fake.token().unwrap())).unwrap();
    std::fs::write(dir.join("ca.crt"), fake.ca_pem()).unwrap();
    std::fs::write(dir.join("namespace"), "shop\n").unwrap();
}

#[test]
fn in_cluster_credentials_come_from_the_service_account_directory() {
    let fake = cluster();
    let dir = tempfile::tempdir().unwrap();
    service_account_dir(&fake, dir.path());
    let a = Actor::connect(&ClusterSource {
        in_cluster: InCluster {
            dir: dir.path().to_path_buf(),
            server: Some(fake.url().to_string()),
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    assert_eq!(a.cluster(), IN_CLUSTER);
    a.delete_pod("shop", "lonely").unwrap();
    assert!(fake.get("v1", "Pod", Some("shop"), "lonely").is_none());
    // The token file is re-read before each action (a rotated token is used): a wrong one is
    // refused (401), reported, not a crash; the right one works again.
    std::fs::write(dir.path().join("token"), "wrong\n").unwrap();
    let e = a.delete_pod("shop", "web-5d4-x").unwrap_err();
    assert!(matches!(e, ActionError::Refused { code: 401, .. }), "{e}");
    service_account_dir(&fake, dir.path());
    a.delete_pod("shop", "web-5d4-x").unwrap();
}

/// Run by [`in_cluster_reads_the_service_environment`] in a child process with the environment
/// of a pod (setting variables in this process would race other tests).
#[test]
fn child_in_cluster_from_the_environment() {
    let Ok(dir) = std::env::var("PALISADE_TEST_SA_DIR") else {
        return;
    };
    let a = Actor::connect(&ClusterSource {
        in_cluster: InCluster {
            dir: dir.into(),
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    println!("RESULT {}", a.delete_pod("shop", "lonely").unwrap());
}

#[test]
fn in_cluster_reads_the_service_environment() {
    let fake = cluster();
    let dir = tempfile::tempdir().unwrap();
    service_account_dir(&fake, dir.path());
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_in_cluster_from_the_environment",
            "--nocapture",
        ])
        .env("PALISADE_TEST_SA_DIR", dir.path())
        .env("KUBERNETES_SERVICE_HOST", fake.addr().ip().to_string())
        .env("KUBERNETES_SERVICE_PORT", fake.addr().port().to_string())
        // No kubeconfig may be found, so the in-cluster configuration is used.
        .env("HOME", home.path())
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("RESULT DELETE /api/v1/namespaces/shop/pods/lonely"),
        "{stdout}"
    );
    assert!(fake.get("v1", "Pod", Some("shop"), "lonely").is_none());
}
