//! Webhook delivery over HTTPS and pod deletion through a cluster API, against real HTTPS
//! servers on 127.0.0.1: our own minimal server (the request the agent sends) and the
//! project's fake Kubernetes API server (what the request does: a pod deleted, a Deployment's
//! template annotated for a rollout restart, a 403 reported as a failed response).

mod common;

use std::time::Duration;

use common::{Container, HttpsServer, TestAgent, is_alert, unique};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn alerts_are_posted_to_an_https_webhook() {
    let _serial = common::serial();
    let server = HttpsServer::start();
    let c = Container::run(&unique("webhook"), &[], &["sleep", "300"]);
    let agent = TestAgent::start(&format!(
        "webhook:\n  url: {}/hooks/palisade\n  ca_file: {}\n  headers:\n    authorization: Bearer s3cret\n",
        server.url,
        server.ca_file.display()
    ));
    c.exec(&["sh", "-c", "sleep 1; true"]);
    agent.wait_record(WAIT, "alert", |v| is_alert(v, "shell-in-container", &c.id));
    let id = c.id.clone();
    let req = server.wait(WAIT, |r| r.body.contains(&id));
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hooks/palisade");
    assert!(
        req.headers
            .contains(&("authorization".into(), "Bearer s3cret".into()))
    );
    assert!(
        req.headers
            .contains(&("content-type".into(), "application/json".into()))
    );
    let alert: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert!(is_alert(&alert, "shell-in-container", &c.id));
    let stats = agent.handle.as_ref().unwrap().stats().snapshot();
    assert!(stats.webhook_sent >= 1);
}

#[test]
fn webhook_with_an_untrusted_certificate_is_not_delivered() {
    let _serial = common::serial();
    // Same server, but the agent is not told about its CA: TLS verification must fail.
    let server = HttpsServer::start();
    let c = Container::run(&unique("webhook-untrusted"), &[], &["sleep", "300"]);
    let agent = TestAgent::start(&format!(
        "webhook:\n  url: {}/h\n  timeout_ms: 2000\n",
        server.url
    ));
    c.exec(&["sh", "-c", "sleep 1; true"]);
    agent.wait_record(WAIT, "alert", |v| is_alert(v, "shell-in-container", &c.id));
    let stats = agent.handle.as_ref().unwrap().stats();
    common::wait_until(WAIT, "failed delivery counted", || {
        stats.snapshot().webhook_failed >= 1
    });
    assert!(server.received.lock().unwrap().is_empty());
}

/// Writes `DIR/rules.yaml`: the built-in shell rule, limited to one container, with `action`.
fn rules_file(dir: &std::path::Path, container: &str, action: &str) -> std::path::PathBuf {
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        format!(
            "rules:\n  - id: shell-in-container\n    append: true\n    condition: and container.id = {container}\n    actions: [{action}]\n"
        ),
    )
    .unwrap();
    rules
}

#[test]
fn delete_pod_sends_the_kubernetes_delete_request() {
    let _serial = common::serial();
    let server = HttpsServer::start();
    let name = unique("delpod");
    let c = Container::run(
        &name,
        &[
            "--label",
            "io.kubernetes.pod.namespace=shop",
            "--label",
            "io.kubernetes.pod.name=web-7d9f8b6c4-x2k9q",
        ],
        &["sleep", "300"],
    );
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), &c.id, "delete-pod");
    let token = dir.path().join("token");
    std::fs::write(&token, "tok-123\n").unwrap();
    let agent = TestAgent::start(&format!(
        "rules_files: [{}]\nkubernetes:\n  api_server: {}\n  token_file: {}\n  ca_file: {}\n",
        rules.display(),
        server.url,
        token.display(),
        server.ca_file.display()
    ));
    c.exec(&["sh", "-c", "sleep 1; true"]);
    let req = server.wait(WAIT, |r| r.method == "DELETE");
    assert_eq!(req.path, "/api/v1/namespaces/shop/pods/web-7d9f8b6c4-x2k9q");
    assert!(
        req.headers
            .contains(&("authorization".into(), "Bearer tok-123".into()))
    );
    let r = agent.wait_record(WAIT, "response", |v| {
        v["record"] == "response" && v["action"] == "delete-pod"
    });
    assert_eq!(r["status"], "done", "{r}");
}

#[test]
fn delete_pod_without_a_cluster_is_skipped_with_a_reason() {
    let _serial = common::serial();
    let name = unique("nocluster");
    let c = Container::run(&name, &[], &["sleep", "300"]);
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), &c.id, "delete-pod");
    let agent = TestAgent::start(&format!("rules_files: [{}]\n", rules.display()));
    c.exec(&["sh", "-c", "sleep 1; true"]);
    let r = agent.wait_record(WAIT, "skipped response", |v| {
        v["record"] == "response" && v["container_id"] == c.id.as_str()
    });
    assert_eq!(r["status"], "skipped");
    assert!(
        r["detail"].as_str().unwrap().contains("no cluster API"),
        "{r}"
    );
}

/// A podman container labelled as a Kubernetes pod's (CRI labels), a rule acting on it, and
/// a fake API server holding Deployment `web` → ReplicaSet `web-5d4` → pod `web-5d4-x2k9q`.
struct PodCase {
    c: Container,
    fake: palisade_kube_fake::FakeApiServer,
    dir: tempfile::TempDir,
    rules: std::path::PathBuf,
}

impl PodCase {
    fn new(prefix: &str, action: &str) -> PodCase {
        use serde_json::json;
        let c = Container::run(
            &unique(prefix),
            &[
                "--label",
                "io.kubernetes.pod.namespace=shop",
                "--label",
                "io.kubernetes.pod.name=web-5d4-x2k9q",
            ],
            &["sleep", "300"],
        );
        let fake = palisade_kube_fake::FakeApiServer::start(Default::default()).unwrap();
        let owner = |kind: &str, name: &str| json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": name, "controller": true}]);
        let template = json!({"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
        fake.apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template}}))
            .unwrap();
        fake.apply(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-5d4", "namespace": "shop", "ownerReferences": owner("Deployment", "web")},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template}}))
            .unwrap();
        fake.apply(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-5d4-x2k9q", "namespace": "shop", "ownerReferences": owner("ReplicaSet", "web-5d4")},
            "spec": template["spec"]}))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let rules = rules_file(dir.path(), &c.id, action);
        PodCase {
            c,
            fake,
            dir,
            rules,
        }
    }

    /// Whether the fake still holds the container's pod.
    fn pod_exists(&self) -> bool {
        self.fake
            .get("v1", "Pod", Some("shop"), "web-5d4-x2k9q")
            .is_some()
    }

    /// Starts the agent with the fake's kubeconfig, makes the container spawn a shell and
    /// returns the response record for `action`.
    fn respond(&self, action: &str) -> serde_json::Value {
        let kubeconfig = self.fake.write_kubeconfig(self.dir.path(), "fake").unwrap();
        let agent = TestAgent::start(&format!(
            "rules_files: [{}]\nkubernetes:\n  kubeconfig: {}\n",
            self.rules.display(),
            kubeconfig.display()
        ));
        self.c.exec(&["sh", "-c", "sleep 1; true"]);
        agent.wait_record(WAIT, "response", |v| {
            v["record"] == "response" && v["action"] == action
        })
    }
}

#[test]
fn delete_pod_deletes_it_in_the_fake_cluster() {
    let _serial = common::serial();
    let case = PodCase::new("delpod-fake", "delete-pod");
    let r = case.respond("delete-pod");
    assert_eq!(r["status"], "done", "{r}");
    assert!(!case.pod_exists());
}

#[test]
fn restart_workload_patches_the_deployment_in_the_fake_cluster() {
    let _serial = common::serial();
    let case = PodCase::new("restart", "restart-workload");
    let r = case.respond("restart-workload");
    assert_eq!(r["status"], "done", "{r}");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("Deployment shop/web"),
        "{r}"
    );
    let d = case
        .fake
        .get("apps/v1", "Deployment", Some("shop"), "web")
        .unwrap();
    assert!(
        d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string(),
        "{d}"
    );
}

#[test]
fn a_forbidden_delete_is_a_failed_response_with_the_reason() {
    let _serial = common::serial();
    let case = PodCase::new("delpod-403", "delete-pod");
    case.fake.forbid("Pod");
    let r = case.respond("delete-pod");
    assert_eq!(r["status"], "failed", "{r}");
    let detail = r["detail"].as_str().unwrap();
    assert!(detail.contains("forbidden (403)"), "{detail}");
    assert!(
        detail.contains("cannot delete resource \"pods\""),
        "{detail}"
    );
    assert!(case.pod_exists());
}
