//! Webhook delivery over HTTPS and pod deletion through a cluster API, against real HTTPS
//! servers on 127.0.0.1 (our own minimal server: no kube-apiserver can run on this machine,
//! so the delete-pod test checks the request the agent sends, not a cluster's reaction).

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
    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        format!(
            "rules:\n  - id: shell-in-container\n    append: true\n    condition: and container.id = {}\n    actions: [delete-pod]\n",
            c.id
        ),
    )
    .unwrap();
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
    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        format!(
            "rules:\n  - id: shell-in-container\n    append: true\n    condition: and container.id = {}\n    actions: [delete-pod]\n",
            c.id
        ),
    )
    .unwrap();
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
