//! The sensor's watchers (`palisade_cluster::watch`) against the fake API server: their compact
//! stores hold every object as a one-shot read returns it, without `metadata.managedFields`
//! and Secrets without data; they follow modifications and deletions; after a compaction they
//! re-list and hold each object once.

use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use palisade_cluster::watch::{self, Change, ObjectName, Running};
use palisade_cluster::{ClusterSource, ReadOptions};
use palisade_kube_fake::{Config, FakeApiServer};
use serde_json::{Value, json};

fn deployment(name: &str, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop",
            "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
        "spec": {"selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]}}}})
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
}

fn shop(name: &str) -> ObjectName {
    ObjectName {
        namespace: Some("shop".into()),
        name: name.into(),
    }
}

fn options(fake: &FakeApiServer, dir: &std::path::Path) -> ReadOptions {
    ReadOptions {
        source: ClusterSource {
            kubeconfig: Some(fake.write_kubeconfig(dir, "fake").unwrap()),
            context: None,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Waits (at most 30 s) until `done` holds, draining the changes meanwhile.
fn until(changes: &Receiver<Change>, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        let _ = changes.recv_timeout(Duration::from_millis(50));
    }
}

/// `kind/namespace/name` of every object the watchers hold, in their order.
fn names(running: &Running) -> Vec<String> {
    let (objects, _) = running.watch().objects();
    objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}/{}",
                o["kind"].as_str().unwrap_or(""),
                o["metadata"]["namespace"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn compact_stores_follow_the_cluster() {
    let fake = FakeApiServer::start(Config {
        bookmark_every: Duration::from_millis(200),
        ..Config::default()
    })
    .unwrap();
    fake.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}))
        .unwrap();
    let web = fake.apply(deployment("web", "nginx:1")).unwrap();
    fake.apply(deployment("api", "api:1")).unwrap();
    fake.apply(pod("lonely")).unwrap();
    // web's ReplicaSet: controlled by an object that is read, so left out.
    fake.apply(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-1", "namespace": "shop", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
             "uid": web["metadata"]["uid"], "controller": true}]},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}}))
        .unwrap();
    fake.apply(
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "db", "namespace": "shop"}, "data": {"password": "c2VjcmV0"}}),
    )
    .unwrap();
    fake.apply(json!({"apiVersion": "v1", "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "legacy", "namespace": "shop",
            "annotations": {"kubernetes.io/service-account.name": "default"}}}))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (tx, changes) = channel();
    let running = watch::spawn(&options(&fake, dir.path()), tx).unwrap();
    until(&changes, "every first list", || running.watch().is_ready());
    let w = running.watch();

    assert_eq!(
        names(&running),
        [
            "Namespace//shop",
            "Pod/shop/lonely",
            "Deployment/shop/api",
            "Deployment/shop/web",
            "Secret/shop/db",
            "Secret/shop/legacy",
        ],
        "in KINDS order, sorted within a kind"
    );
    let (objects, controlled) = w.objects();
    assert_eq!(controlled, 1, "web's ReplicaSet");
    // The texts, parsed one at a time, are the same objects.
    let listed = w.listed();
    assert_eq!(listed.controlled, 1);
    let parsed: Vec<Value> = (0..listed.len()).filter_map(|i| listed.parse(i)).collect();
    assert_eq!(parsed, objects);
    // Each text is what its object written again gives (a sensor shares it as the snapshot's
    // text), except the token Secret, which only parsing types.
    let rewritten = (0..listed.len())
        .filter(|&i| listed.text(i).map(|t| &**t) == Some(parsed[i].to_string().as_str()))
        .count();
    assert_eq!(rewritten, listed.len() - 1);
    for o in &objects {
        assert!(o.pointer("/metadata/managedFields").is_none(), "{o}");
        assert!(
            o.get("apiVersion").is_some() && o.get("kind").is_some(),
            "{o}"
        );
        assert!(o.get("data").is_none(), "no Secret data is held: {o}");
    }
    let types: Vec<Option<&str>> = objects
        .iter()
        .filter(|o| o["kind"] == "Secret")
        .map(|o| o["type"].as_str())
        .collect();
    assert_eq!(types, [None, Some("kubernetes.io/service-account-token")]);
    let web = w.object("Deployment", &shop("web")).expect("web is held");
    assert_eq!(web["apiVersion"], "apps/v1");
    assert_eq!(
        web["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1"
    );
    assert!(web.pointer("/metadata/managedFields").is_none());
    assert!(
        w.object("Secret", &shop("db")).is_none(),
        "metadata-only kinds"
    );
    assert!(w.object("Pod", &shop("web")).is_none(), "by kind");

    // Modified and deleted.
    fake.apply(deployment("web", "nginx:2")).unwrap();
    fake.delete("v1", "Pod", Some("shop"), "lonely").unwrap();
    until(&changes, "the modification and the deletion", || {
        w.object("Pod", &shop("lonely")).is_none()
            && w.object("Deployment", &shop("web")).is_some_and(|o| {
                o["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
            })
    });

    // A compaction while no watch is connected: the stores are listed again, with the changes
    // made meanwhile, each object once.
    {
        let _paused = fake.pause_watches();
        fake.apply(pod("new")).unwrap();
        fake.delete("apps/v1", "Deployment", Some("shop"), "api")
            .unwrap();
        fake.compact();
    }
    let want = [
        "Namespace//shop",
        "Pod/shop/new",
        "Deployment/shop/web",
        "Secret/shop/db",
        "Secret/shop/legacy",
    ];
    until(&changes, "the re-list after the compaction", || {
        names(&running) == want
    });
    assert_eq!(
        w.len(),
        want.len() + 2,
        "the token list holds `legacy` too, and a store holds web's ReplicaSet"
    );
    assert!(
        fake.requests()
            .iter()
            .filter(|r| r.contains("/deployments?") && !r.contains("watch="))
            .count()
            >= 2,
        "the deployments were listed again"
    );
    running.stop();
}
